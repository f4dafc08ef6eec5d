"""Durable timers: rows in SQL (the truth), an index in a Redis sorted set scored by due time.

Any worker may fire a due timer: it takes a short lease in Redis, then a SQL state transition
(`pending → fired`) picks the single winner, and the handler runs inside that same
transaction, so a handler's decision and the timer's firing commit together or not at all. A
cancel (accept, reply) is the competing transition; whichever commits first wins. If Redis is
wiped, the index is rebuilt from SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import utcnow
from gateway.models import Timer
from gateway.store import Store, after_commit

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
TimerHandler = Callable[[AsyncSession, Timer], Awaitable[None]]


class Timers:
    """Schedule, cancel and fire durable timers."""

    def __init__(
        self,
        redis: aioredis.Redis,
        store: Store,
        *,
        clock: Clock = utcnow,
        lease_seconds: float = 15.0,
        prefix: str = "pronto",
    ) -> None:
        self.redis = redis
        self.store = store
        self.clock = clock
        self.lease_ms = int(lease_seconds * 1000)
        self.zset = f"{prefix}:timers"
        self.marker = f"{prefix}:timers:indexed"
        self.lease_prefix = f"{prefix}:timer-lease:"
        self.handlers: dict[str, TimerHandler] = {}

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Route timers of `kind` to `handler(session, timer)`."""
        self.handlers[kind] = handler

    async def schedule(
        self,
        session: AsyncSession,
        kind: str,
        due_at: datetime,
        *,
        lead_id: int | None = None,
        assignment_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Timer:
        """Create a timer in the session's transaction; it is indexed once that commits."""
        timer = Timer(
            kind=kind,
            due_at=due_at,
            lead_id=lead_id,
            assignment_id=assignment_id,
            data=data or {},
            status="pending",
        )
        session.add(timer)
        await session.flush()
        tid, score = timer.id, due_at.timestamp()

        async def index() -> None:
            await self.redis.zadd(self.zset, {str(tid): score})

        after_commit(session, index)
        return timer

    async def cancel(
        self,
        session: AsyncSession,
        *,
        lead_id: int | None = None,
        kinds: tuple[str, ...] = (),
        assignment_id: int | None = None,
        timer_id: int | None = None,
    ) -> list[int]:
        """Cancel pending timers matching all given filters; returns their ids."""
        q = select(Timer.id).where(Timer.status == "pending")
        if lead_id is not None:
            q = q.where(Timer.lead_id == lead_id)
        if kinds:
            q = q.where(Timer.kind.in_(kinds))
        if assignment_id is not None:
            q = q.where(Timer.assignment_id == assignment_id)
        if timer_id is not None:
            q = q.where(Timer.id == timer_id)
        ids = list((await session.execute(q)).scalars())
        if not ids:
            return []
        await session.execute(
            update(Timer)
            .where(Timer.id.in_(ids), Timer.status == "pending")
            .values(status="cancelled")
        )

        async def unindex() -> None:
            await self.redis.zrem(self.zset, *[str(i) for i in ids])

        after_commit(session, unindex)
        return ids

    async def ensure_index(self) -> int:
        """Rebuild the Redis index from SQL if Redis lost it; returns timers re-indexed."""
        if await self.redis.exists(self.marker):
            return 0
        return await self.rebuild()

    async def rebuild(self) -> int:
        """Index every pending timer from SQL (idempotent)."""
        async with self.store.maker() as session:
            rows = (
                await session.execute(
                    select(Timer.id, Timer.due_at).where(Timer.status == "pending")
                )
            ).all()
        if rows:
            mapping = {str(i): _aware(d).timestamp() for i, d in rows}
            for start in range(0, len(mapping), 1000):
                chunk = dict(list(mapping.items())[start : start + 1000])
                await self.redis.zadd(self.zset, chunk)
        await self.redis.set(self.marker, "1")
        if rows:
            log.info("timer index rebuilt from SQL: %d pending", len(rows))
        return len(rows)

    async def due_ids(self, limit: int = 200) -> list[int]:
        """Ids of timers due at the clock's now."""
        now = self.clock().timestamp()
        ids = await self.redis.zrangebyscore(self.zset, "-inf", now, start=0, num=limit)
        return [int(i) for i in ids]

    async def run_due(self, worker_id: str, limit: int = 200) -> int:
        """Fire every due timer this worker can lease (burst mode); returns how many fired."""
        await self.ensure_index()
        fired = 0
        for tid in await self.due_ids(limit):
            lease = f"{self.lease_prefix}{tid}"
            if not await self.redis.set(lease, worker_id, nx=True, px=self.lease_ms):
                continue  # another worker holds it
            outcome = await self.fire(tid)
            if outcome == "fired":
                fired += 1
            if outcome != "failed":
                # A failed handler keeps the lease, so the retry waits a lease period
                # instead of spinning.
                await self.redis.delete(lease)
        return fired

    async def fire(self, timer_id: int) -> str:
        """Fire one timer if it is still pending and due; exactly one caller can win.

        Returns:
            "fired" (this caller won), "skipped" (already fired or cancelled),
            "early" (not due yet) or "failed" (the handler raised; rolled back, retried later).
        """
        now = self.clock()
        try:
            async with self.store.transaction() as session:
                timer = await session.get(Timer, timer_id)
                if timer is None or timer.status != "pending":
                    won = False
                elif _aware(timer.due_at) > now:
                    return "early"
                else:
                    res = await session.execute(
                        update(Timer)
                        .where(Timer.id == timer_id, Timer.status == "pending")
                        .values(status="fired", fired_at=now)
                    )
                    won = res.rowcount == 1  # type: ignore[attr-defined]
                    if won:
                        handler = self.handlers.get(timer.kind)
                        if handler is None:
                            log.error("no handler for timer kind %s (id %d)", timer.kind, timer_id)
                        else:
                            await handler(session, timer)
        except Exception:
            # The transaction rolled back: the timer stays pending and is retried after the
            # lease; a handler bug must not lose the SLA.
            log.exception("timer %d handler failed; will retry", timer_id)
            return "failed"
        await self.redis.zrem(self.zset, str(timer_id))
        return "fired" if won else "skipped"


def _aware(d: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns; they are stored as UTC.
    from datetime import UTC

    return d if d.tzinfo else d.replace(tzinfo=UTC)
