"""Fault scenarios of `bench/faults.py`: Rasa away, a third worker joining and dying, and
10,000 timers due at once. Each returns a `Result` of measured figures."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

from bench.faults_drive import Ledger, Result, pct, phone
from bench.faults_scenarios import dead_letters, judged, owners
from bench.faults_stack import RedisServer, fresh_database, pg_url, redis_count

ROOT = Path(__file__).resolve().parent.parent
ACK_LIMIT_S = 3.0


async def rasa_outage(smoke: bool, pg: bool) -> Result:
    """Rasa stopped for 60 s (smoke: 5 s): new leads acknowledged within 3 s, every held message
    answered after it returns, in order per lead."""
    from bench.faults import stack

    leads, per_lead, down_s = (12, 2, 5.0) if smoke else (60, 3, 60.0)
    result = Result("rasa_outage")
    async with stack("rasa_outage", smoke, use_pg=pg) as st:
        expected = {phone(i): [f"a{i}-{k}" for k in range(per_lead)] for i in range(leads)}
        ledger = Ledger(st.twilio, expected)
        before = [phone(i) for i in range(leads // 4)]  # answered once before the outage
        await st.sender.run([(p, expected[p][0]) for p in before], concurrency=8)
        deadline = time.perf_counter() + 60
        while any(not ledger.replies().get(p) for p in before):
            if time.perf_counter() > deadline:
                raise RuntimeError("no replies before the outage: the stack is not working")
            await asyncio.sleep(0.1)
        await st.rasa.stop()
        down_at = time.perf_counter()
        spread = down_s * 0.6  # every message arrives while Rasa is away

        async def lead(i: int, p: str) -> None:
            await asyncio.sleep(spread * i / leads)
            for tag in expected[p][1 if p in before else 0:]:
                await st.sender.post(p, tag)
                await asyncio.sleep(0.5)

        await asyncio.gather(*(lead(i, p) for i, p in enumerate(expected)))
        await asyncio.sleep(max(0.0, down_at + down_s - time.perf_counter()))
        await st.rasa.restart()
        up_at = time.perf_counter()
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=200)
        new = [p for p in expected if p not in before]
        acks = ledger.acks()
        ack_lat = [acks[p][0] - st.sender.accepted_at[expected[p][0]] for p in new if acks.get(p)]
        last = max((s.at for s in st.twilio.sent if s.body.startswith("re:")), default=up_at)
        result.figures.update({
            "leads": leads, "messages_per_lead": per_lead, "db": st.db_kind,
            "rasa_down_s": round(up_at - down_at, 1), "new_leads_during_outage": len(new),
            "new_leads_acked": sum(1 for p in new if acks.get(p)),
            "ack_p50_s": round(pct(ack_lat, 50), 3), "ack_p99_s": round(pct(ack_lat, 99), 3),
            "ack_max_s": round(max(ack_lat, default=0.0), 3),
            "held_messages": sum(len(v) for v in expected.values()) - len(before),
            "last_held_reply_after_return_s": round(last - up_at, 1),
            "settle_s": round(settle, 1),
        })
        judged(result, ledger, st.sender, order=True)
        late = [x for x in ack_lat if x > ACK_LIMIT_S]
        result.check(len(ack_lat) == len(new),
                     f"{len(new) - len(ack_lat)} new lead(s) got no acknowledgement")
        result.check(not late, f"{len(late)} acknowledgement(s) later than {ACK_LIMIT_S} s "
                               f"(max {max(late, default=0):.2f} s)")
    return result


async def rebalance(smoke: bool, pg: bool) -> Result:
    """Two live workers; a third joins mid-run and is SIGKILLed: partitions move to it and
    back, every lead's replies come in the order it wrote, nothing lost."""
    from bench.faults import stack

    leads, per_lead, rate, hold = (30, 4, 2.0, 3.0) if smoke else (300, 5, 8.0, 8.0)
    result = Result("rebalance")
    async with stack("rebalance", smoke, use_pg=pg) as st:
        expected = {phone(i): [f"b{i}-{k}" for k in range(per_lead)] for i in range(leads)}
        ledger = Ledger(st.twilio, expected)
        items = [(p, t) for p, ts in expected.items() for t in ts]
        keys = [("GET", f"pronto:partition-lease:{p}") for p in range(8)]
        samples: list[tuple[float, list[int]]] = []
        t0 = time.perf_counter()

        async def sample() -> None:
            while True:
                samples.append((time.perf_counter() - t0, owners(await redis_count(
                    st.redis.url, *keys))))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        send = asyncio.create_task(st.sender.run(items, concurrency=16, rate=rate))
        # The third starts early: a worker takes seconds to start on 2 busy cores, and it must
        # join, hold its share for `hold` seconds, and die while messages still arrive.
        await asyncio.sleep(0 if smoke else 5)
        third = await st.pronto.worker()
        joined = time.perf_counter() - t0
        deadline = time.perf_counter() + 60
        while not any(len(o) == 3 for t, o in samples if t >= joined):
            if time.perf_counter() > deadline:
                break  # reported: the third never got its share
            await asyncio.sleep(0.1)
        await asyncio.sleep(hold)
        await st.pronto.kill(third)
        killed = time.perf_counter() - t0
        posting_left = not send.done()
        await send
        settle = await ledger.settle(st.database_url, st.redis.url, timeout=200)
        sampler.cancel()

        def first(after: float, shape: int) -> float | None:
            return next((t - after for t, o in samples if t >= after and len(o) == shape
                         and sum(o) == 8), None)

        pre = [o for t, o in samples if t < joined]
        with_three = first(joined, 3)
        back_to_two = first(killed, 2)
        spread = [o for t, o in samples if with_three is not None
                  and joined + with_three <= t < killed]
        result.figures.update({
            "leads": leads, "messages_per_lead": per_lead, "db": st.db_kind,
            "partitions": 8, "owners_before": "/".join(map(str, pre[-1])) if pre else "",
            "owners_with_third": "/".join(map(str, spread[-1])) if spread else "never",
            "third_holds_partitions_after_s": with_three if with_three is None
            else round(with_three, 1),
            "rebalanced_after_kill_s": back_to_two if back_to_two is None
            else round(back_to_two, 1),
            "owners_after": "/".join(map(str, samples[-1][1])) if samples else "",
            "killed_while_posting": posting_left,
            "settle_s": round(settle, 1),
        })
        judged(result, ledger, st.sender, order=True)
        result.figures["dead_lettered"] = await dead_letters(st.redis.url)
        result.check(with_three is not None, "the third worker never got its share")
        result.check(back_to_two is not None, "partitions not rebalanced onto two workers "
                                              "after the third died")
    return result


async def timers(smoke: bool, pg: bool) -> Result:
    """10,000 timers due at the same instant with two worker processes (bench/timers.py with
    a window of 0 s): lateness is then how long the two take to drain them all."""
    import tempfile

    n, window, lead_in, grace = (500, 0, 4, 6) if smoke else (10_000, 0, 8, 60)
    result = Result("timers")
    tmp = Path(tempfile.mkdtemp(prefix="pronto-faults-timers-"))
    redis = await RedisServer(tmp / "redis").start()
    env = {**os.environ, "REDIS_URL": redis.url}
    if pg:
        env["DATABASE_URL"] = pg_url(await fresh_database("pronto_faults_timers"))
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "timers.py"), "--timers", str(n), "--window",
            str(window), "--workers", "2", "--lead-in", str(lead_in), "--grace", str(grace),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out = (await proc.communicate())[0].decode(errors="replace")
    finally:
        await redis.stop()
    fired = re.search(r"fired=(\d+) missed=(\d+) duplicates=(\d+)", out)
    late = re.search(r"p50=([\d.]+) p99=([\d.]+) max=([\d.]+)", out)
    if proc.returncode != 0 or not fired or not late:
        result.failures.append(f"bench/timers.py failed (exit {proc.returncode}): {out[-1500:]}")
        return result
    f, missed, dupes = map(int, fired.groups())
    result.figures.update({
        "timers": n, "due_at_once": window == 0, "workers": 2,
        "db": "postgresql" if pg else "sqlite",
        "fired": f, "missed": missed, "duplicates": dupes,
        "lateness_p50_ms": float(late.group(1)), "lateness_p99_ms": float(late.group(2)),
        "lateness_max_ms": float(late.group(3)),
    })
    result.check(missed == 0 and f == n, f"{n - f} timer(s) never fired ({missed} pending)")
    result.check(dupes == 0, f"{dupes} timer(s) fired twice")
    return result
