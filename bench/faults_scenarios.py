"""Fault scenarios of `bench/faults.py`: a worker killed again and again, Redis restarted, the
SQL database away for 10 s. Each returns a `Result` of measured figures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from bench.faults_drive import Ledger, Result, Sender, pct, phone
from bench.faults_stack import redis_count


async def dead_letters(redis_url: str) -> int:
    """Events the workers gave up on (parked in `pronto:dead` and acknowledged)."""
    (n,) = await redis_count(redis_url, ("XLEN", "pronto:dead"))
    return int(n or 0)


def latencies(sender: Sender, ledger: Ledger) -> list[float]:
    """Seconds from a message's acceptance to the first reply naming it."""
    first: dict[str, float] = {}
    for s in list(ledger.twilio.sent):
        if s.body.startswith("re:"):
            tag = s.body.rsplit("ref ", 1)[-1]
            first.setdefault(tag, s.at)
    return [first[t] - sender.accepted_at[t] for t in first if t in sender.accepted_at]


def judged(result: Result, ledger: Ledger, sender: Sender, *, order: bool = False) -> None:
    """Common figures and invariants: every accepted message answered exactly once."""
    verdict = ledger.judge()
    lat = latencies(sender, ledger)
    result.figures.update({
        "accepted": sum(len(v) for v in sender.accepted.values()),
        "never_accepted": sender.gave_up,
        "replies": sum(len(v) for v in ledger.replies().values()),
        "lost": verdict["lost"], "answered_twice": verdict["duplicated"],
        **({"leads_out_of_order": verdict["leads_out_of_order"]} if order else {}),
        "reply_latency_p50_s": round(pct(lat, 50), 3),
        "reply_latency_p99_s": round(pct(lat, 99), 3),
    })
    ex = verdict["examples"]
    result.check(verdict["lost"] == 0, f"{verdict['lost']} accepted message(s) never answered "
                                       f"(e.g. {ex['lost']})")
    result.check(verdict["duplicated"] == 0,
                 f"{verdict['duplicated']} message(s) answered twice (e.g. {ex['duplicated']})")
    if order:
        result.check(verdict["leads_out_of_order"] == 0,
                     f"{verdict['leads_out_of_order']} lead(s) got replies out of order "
                     f"(e.g. {ex['out_of_order']})")
    result.check(sender.gave_up == 0, f"{sender.gave_up} message(s) never accepted (sender "
                                      "gave up retrying)")


async def worker_kill(smoke: bool, pg: bool) -> Result:
    """A worker SIGKILLed every few seconds (and restarted at once) during N messages."""
    if smoke:
        return await _worker_kill_smoke(pg)
    from bench.faults import stack

    n, every = 5000, 6.0
    result = Result("worker_kill")
    async with stack("worker_kill", smoke, use_pg=pg) as st:
        items = [(phone(i), f"k{i}") for i in range(n)]
        ledger = Ledger(st.twilio, {p: [t] for p, t in items})
        kills = 0
        t0 = time.perf_counter()
        send = asyncio.create_task(st.sender.run(items, concurrency=16))

        async def killer() -> None:
            # Kill the oldest worker, start a fresh one at once: two live most of the time, and
            # each kill lands on a worker with messages in flight.
            nonlocal kills
            while True:
                await asyncio.sleep(every)
                await st.pronto.kill(next(iter(st.pronto.workers)))
                await st.pronto.worker()
                kills += 1

        k = asyncio.create_task(killer())
        await send
        # Keep killing until the replies are in. Polled: the replies arrive at the fake, not
        # through an event this script owns.
        # Stop when nothing more arrives for a minute: a message lost for good must not keep
        # the run killing for ever.
        last, since = ledger.missing(), time.perf_counter()
        while (missing := ledger.missing()) and time.perf_counter() - since < 60:
            if missing != last:
                last, since = missing, time.perf_counter()
            await asyncio.sleep(0.3)
        k.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await k
        run_s = time.perf_counter() - t0
        # A send a killed worker had committed but not made goes out after the outbox lease
        # (20 s here): settle waits for it, and for any duplicate it might cause.
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=200)
        result.figures.update({"messages": n, "db": st.db_kind, "workers_live": 2,
                               "kill_every_s": every, "kills": kills,
                               "run_s": round(run_s, 1), "settle_s": round(settle, 1)})
        judged(result, ledger, st.sender)
        result.figures["msgs_per_s"] = round(n / run_s, 1)
        result.figures["acks_sent"] = ledger.others().get("ack", 0)
        result.figures["dead_lettered"] = await dead_letters(st.redis.url)
    return result


async def _worker_kill_smoke(pg: bool) -> Result:
    """CI-sized worker_kill, deterministic: one worker, killed twice while every message it
    holds waits on a slow Rasa (so no send is ever cut in half, which would cost the 120 s
    outbox lease), then a third process answers them all, once."""
    from bench.faults import held, stack

    n = 100
    result = Result("worker_kill")
    async with stack("worker_kill", True, use_pg=pg, workers=1,
                     env={"PRONTO_ACK_BUDGET": "30"}) as st:
        st.rasa.delay = 8.0
        items = [(phone(i), f"k{i}") for i in range(n)]
        ledger = Ledger(st.twilio, {p: [t] for p, t in items})
        t0 = time.perf_counter()
        await st.sender.run(items, concurrency=16)
        for kill in range(2):
            while len(st.rasa.requests) < 8 * (kill + 1):  # noqa: ASYNC110 (the fake's list)
                await asyncio.sleep(0.05)
            await st.pronto.kill(next(iter(st.pronto.workers)))
            if kill == 1:
                st.rasa.delay = 0.0
            await st.pronto.worker()
            await held(st.redis.url, st.pronto)
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=60)
        result.figures.update({"messages": n, "db": st.db_kind, "workers_live": 1, "kills": 2,
                               "rasa_calls": len(st.rasa.requests),
                               "run_s": round(time.perf_counter() - t0, 1),
                               "settle_s": round(settle, 1)})
        judged(result, ledger, st.sender)
        result.figures["dead_lettered"] = await dead_letters(st.redis.url)
    return result


async def redis_restart(smoke: bool, pg: bool) -> Result:
    """Redis (AOF, fsync always) SIGKILLed mid-run and restarted: 503s meanwhile, then by itself
    back to normal, and nothing the gateway accepted is lost."""
    from bench.faults import stack

    n, rate, down_s = (100, 20.0, 3.0) if smoke else (2000, 50.0, 8.0)
    result = Result("redis_restart")
    async with stack("redis_restart", smoke, aof=True, use_pg=pg) as st:
        items = [(phone(i), f"r{i}") for i in range(n)]
        ledger = Ledger(st.twilio, {p: [t] for p, t in items})
        t0 = time.perf_counter()
        send = asyncio.create_task(st.sender.run(items, concurrency=16, rate=rate))
        await asyncio.sleep(n / rate * 0.35)
        before = dict(st.sender.status_counts)
        await st.redis.kill()
        killed_at = time.perf_counter()
        await asyncio.sleep(down_s)
        await st.redis.start()
        restarted_at = time.perf_counter()
        await send
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=180)
        statuses = {k: v - before.get(k, 0) for k, v in st.sender.status_counts.items()}
        last_refused = st.sender.last_refused or restarted_at
        result.figures.update({
            "messages": n, "db": st.db_kind, "offered_per_s": rate,
            "redis_down_s": round(restarted_at - killed_at, 1),
            "webhook_503s": statuses.get(503, 0),
            "webhook_other_5xx": sum(v for k, v in statuses.items() if k >= 500 and k != 503),
            "refused_connections": st.sender.conn_errors,
            "last_refusal_after_restart_s": round(max(0.0, last_refused - restarted_at), 2),
            "first_2xx_after_restart_s": round(min(
                (t for t in st.sender.accepted_at.values() if t >= restarted_at),
                default=float("nan")) - restarted_at, 3),
            "run_s": round(time.perf_counter() - t0 - settle, 1), "settle_s": round(settle, 1),
        })
        judged(result, ledger, st.sender)
        result.figures["dead_lettered"] = await dead_letters(st.redis.url)
        result.figures["workers_exited_by_themselves"] = len(st.pronto.dead_workers())
        result.check(statuses.get(503, 0) > 0, "the gateway never answered 503 while Redis was "
                                               "down (was the outage inside the run?)")
        result.check(result.figures["webhook_other_5xx"] == 0,
                     "the gateway answered 5xx other than 503 while Redis was down")
        result.check(not st.pronto.dead_workers(),
                     f"{len(st.pronto.dead_workers())} worker(s) exited on the Redis outage: "
                     f"{st.pronto.tail('workers.log', 800)}")
    return result


async def sql_outage(smoke: bool, pg: bool) -> Result:
    """PostgreSQL unreachable for 10 s (a proxy drops every connection and refuses new ones)."""
    from bench.faults import stack

    result = Result("sql_outage")
    if not pg:
        result.skipped = "no PostgreSQL at 127.0.0.1:5432"
        return result
    n, rate, down_s = (60, 15.0, 3.0) if smoke else (1000, 40.0, 10.0)
    async with stack("sql_outage", smoke, proxy=True) as st:
        assert st.proxy is not None
        items = [(phone(i), f"q{i}") for i in range(n)]
        ledger = Ledger(st.twilio, {p: [t] for p, t in items})
        t0 = time.perf_counter()
        send = asyncio.create_task(st.sender.run(items, concurrency=16, rate=rate))
        await asyncio.sleep(n / rate * 0.3)
        before = dict(st.sender.status_counts)
        await st.proxy.down()
        down_at = time.perf_counter()
        await asyncio.sleep(down_s)
        during = {k: v - before.get(k, 0) for k, v in st.sender.status_counts.items()}
        await st.proxy.up()
        up_at = time.perf_counter()
        await send
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=200)
        result.figures.update({
            "messages": n, "db": "postgresql via proxy", "offered_per_s": rate,
            "sql_down_s": round(up_at - down_at, 1),
            "webhooks_2xx_while_down": sum(v for k, v in during.items() if 200 <= k < 300),
            "webhooks_5xx_while_down": sum(v for k, v in during.items() if k >= 500),
            "run_s": round(time.perf_counter() - t0 - settle, 1), "settle_s": round(settle, 1),
        })
        judged(result, ledger, st.sender)
        result.figures["dead_lettered"] = await dead_letters(st.redis.url)
        result.figures["workers_exited_by_themselves"] = len(st.pronto.dead_workers())
        result.check(not st.pronto.dead_workers(), "worker(s) exited on the SQL outage")
    return result


def owners(values: list[Any]) -> list[int]:
    """Partitions held per worker, largest first (None: a partition nobody holds)."""
    counts: dict[Any, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return sorted((c for k, c in counts.items() if k is not None), reverse=True)
