"""An outage of SQL or Redis is not the event's fault: the worker waits it out and processes
the event afterwards, instead of parking it in the dead stream after three quick tries."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from sqlalchemy.exc import OperationalError

from gateway.infra.queue import Event, InboundQueue
from gateway.metrics import WAITING_OUTAGE
from gateway.worker import Worker


class _Timers:
    async def ensure_index(self) -> int:
        return 0

    async def maybe_reconcile(self) -> int:
        return 0

    async def run_due(self, worker_id: str, limit: int = 100) -> int:
        return 0


async def test_an_sql_outage_delays_an_event_and_parks_nothing(redis_url: str) -> None:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    queue = InboundQueue(redis, 2)
    calls: list[str] = []

    seen_waiting: list[float] = []

    async def handler(event: Event) -> None:
        calls.append(event.entry_id)
        seen_waiting.append(WAITING_OUTAGE._value.get())
        if len(calls) <= 4:  # four failures: more than the three attempts an error gets
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("db down"))

    worker = Worker(queue, _Timers(), handler, lease_seconds=3.0)  # type: ignore[arg-type]
    await queue.ensure_groups()
    await queue.enqueue("phone:+13055550100", "inbound", {"n": 1})
    before = WAITING_OUTAGE._value.get()
    (event,) = await queue.read(queue.partition_of("phone:+13055550100"), worker.id,
                                block_ms=100)
    try:
        await asyncio.wait_for(worker._process(event), timeout=30)
        assert len(calls) == 5 and len(set(calls)) == 1  # the same event, retried, then done
        assert await redis.xlen("pronto:dead") == 0
        assert await queue.depth() == 0  # acknowledged once it went through
        # The gauge an operator alerts on: up while the event waited, down once it went through.
        assert seen_waiting[0] == before and seen_waiting[1:] == [before + 1] * 4
        assert WAITING_OUTAGE._value.get() == before
    finally:
        await redis.aclose()
