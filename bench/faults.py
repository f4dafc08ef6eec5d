"""Fault benchmarks: what Pronto loses, duplicates or reorders when a part of it fails.

Each scenario starts its own stack (a real redis-server on a TCP port, a fresh PostgreSQL
database when the local server answers, else SQLite; `pronto serve` with
PRONTO_RUN_WORKERS=false; `pronto worker` processes; a fake Twilio API and a fake Rasa that
echoes each message), posts signed Twilio webhooks like Twilio (retrying 5xx), breaks
something mid-run, and counts at the fake Twilio API what every lead received. Each prints a
markdown table and one JSON line of measured figures, and the script exits 1 when an invariant
fails (a message lost, answered twice, or answered out of order).

    .venv/bin/python bench/faults.py [--scenario all|worker_kill|redis_restart|sql_outage|
                                      rasa_outage|rebalance|timers] [--smoke]

`--smoke` runs tiny sizes (for CI: it shows the scenarios work, not how fast). Scenarios are in
`bench/faults_scenarios.py` and `bench/faults_more.py`; processes and fakes in
`bench/faults_stack.py`; the sender and the accounting in `bench/faults_drive.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.faults_drive import Result, Sender
from bench.faults_stack import (
    EchoRasa,
    Pronto,
    RedisServer,
    TcpProxy,
    fresh_database,
    pg_url,
    postgres_available,
    redis_count,
)
from tests.fakes.twilio_api import FakeTwilio


@dataclass
class Stack:
    """One scenario's running parts."""

    tmp: Path
    redis: RedisServer
    twilio: FakeTwilio
    rasa: EchoRasa
    pronto: Pronto
    http: aiohttp.ClientSession
    sender: Sender
    database_url: str
    db_kind: str
    proxy: TcpProxy | None
    smoke: bool


@asynccontextmanager
async def stack(name: str, smoke: bool, *, aof: bool = False, proxy: bool = False,
                workers: int = 2, use_pg: bool = True, env: dict[str, str] | None = None,
                ) -> AsyncIterator[Stack]:
    """Start Redis, the database, the fakes, `pronto serve` and `workers` workers."""
    tmp = Path(tempfile.mkdtemp(prefix=f"pronto-faults-{name}-"))
    redis = await RedisServer(tmp / "redis", aof=aof).start()
    twilio = await FakeTwilio().start()
    rasa = await EchoRasa().start()
    db_proxy = None
    if use_pg:
        db = await fresh_database(f"pronto_faults_{name}")
        if proxy:
            db_proxy = TcpProxy(5432)
            await db_proxy.up()
        database_url = pg_url(db, db_proxy.port if db_proxy else 5432)
    else:
        database_url = f"sqlite+aiosqlite:///{tmp / 'pronto.db'}"
    pronto = Pronto(tmp, database_url, redis.url, rasa.url, twilio.url, extra_env=env or {})
    # A Redis outage can outlast a 2 s lease; the worker's own retry handles that.
    async with aiohttp.ClientSession() as http:
        try:
            await pronto.serve(http)
            for _ in range(workers):
                await pronto.worker()
            await held(redis.url, pronto)
            yield Stack(tmp, redis, twilio, rasa, pronto, http, Sender(http, pronto.public_url),
                        database_url, "postgresql" if use_pg else "sqlite", db_proxy, smoke)
        finally:
            await pronto.close()
            await rasa.stop()
            await twilio.stop()
            if db_proxy:
                await db_proxy.down()
            await redis.stop()
    if not smoke:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"(logs kept in {tmp})")


async def held(redis_url: str, pronto: Pronto, timeout: float = 90) -> None:
    """Wait until every worker holds its even share of the partitions: runs start from a
    steady state, not from the hand-over of a worker that started second."""
    keys = [("GET", f"pronto:partition-lease:{p}") for p in range(8)]
    deadline = time.monotonic() + timeout
    while True:
        leases = await redis_count(redis_url, *keys)
        if None not in leases and len(set(leases)) == len(pronto.workers):
            return
        if time.monotonic() > deadline or pronto.dead_workers():
            raise RuntimeError(f"workers did not start: {pronto.tail('workers.log')}")
        await asyncio.sleep(0.2)


Scenario = Callable[[bool, bool], Awaitable[Result]]


def scenarios() -> dict[str, Scenario]:
    from bench import faults_more, faults_scenarios

    return {
        "worker_kill": faults_scenarios.worker_kill,
        "redis_restart": faults_scenarios.redis_restart,
        "sql_outage": faults_scenarios.sql_outage,
        "rasa_outage": faults_more.rasa_outage,
        "rebalance": faults_more.rebalance,
        "timers": faults_more.timers,
    }


async def main(args: argparse.Namespace) -> int:
    table = scenarios()
    names = list(table) if args.scenario == "all" else [args.scenario]
    pg = await postgres_available()
    print(f"database: {'PostgreSQL 127.0.0.1:5432' if pg else 'SQLite (no PostgreSQL)'}"
          f"{'  (smoke sizes: not figures)' if args.smoke else ''}", flush=True)
    results: list[tuple[Result, float]] = []
    t_all = time.perf_counter()
    for n in names:
        t0 = time.perf_counter()
        print(f"\n==> {n}", flush=True)
        result = await table[n](args.smoke, pg)
        result.figures.setdefault("scenario_seconds", round(time.perf_counter() - t0, 1))
        result.print()
        results.append((result, time.perf_counter() - t0))
    total = time.perf_counter() - t_all
    if len(results) > 1:
        print("\n### summary\n\n| scenario | verdict | seconds |\n| --- | --- | --- |")
        for r, secs in results:
            verdict = "skipped" if r.skipped else ("PASS" if r.ok else "FAIL")
            print(f"| {r.scenario} | {verdict} | {secs:.0f} |")
        print(f"\ntotal: {total:.0f} s")
    return 0 if all(r.ok for r, _ in results) else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenario", default="all",
                   choices=["all", "worker_kill", "redis_restart", "sql_outage", "rasa_outage",
                            "rebalance", "timers"])
    p.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    return p.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
