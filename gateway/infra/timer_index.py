"""The timer index's upkeep: the Redis sorted set that says when each pending timer is due is
a copy of SQL, so it is rebuilt when Redis lost it and reconciled with SQL (a ZADD lost after a
commit would leave a timer pending forever). `Timers` (gateway.infra.timers) inherits these."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import select

from gateway.domain.utc import as_utc
from gateway.store.leads import Store
from gateway.store.models import Timer

log = logging.getLogger("gateway.infra.timers")  # one logger for the timer service


class TimerIndex:
    """Rebuild and reconcile the Redis index of pending timers from SQL."""

    redis: aioredis.Redis
    store: Store
    zset: str
    marker: str
    claimed: str
    reconcile_every: float
    reconcile_within: timedelta
    _reconciled_at: float | None
    clock: Callable[[], datetime]

    async def ensure_index(self) -> int:
        """Rebuild the Redis index from SQL if Redis lost it; returns timers re-indexed."""
        if await self.redis.exists(self.marker):
            return 0
        count = await self.rebuild()
        self._reconciled_at = time.monotonic()  # a full rebuild is a full reconciliation
        return count

    async def rebuild(self) -> int:
        """Index every pending timer from SQL (idempotent)."""
        async with self.store.maker() as session:
            rows = (
                await session.execute(
                    select(Timer.id, Timer.due_at).where(Timer.status == "pending")
                )
            ).all()
        claimed = set(await self.redis.zrange(self.claimed, 0, -1))  # in flight: leave them
        rows = [r for r in rows if str(r[0]) not in claimed]
        if rows:
            mapping = {str(i): as_utc(d).timestamp() for i, d in rows}
            for start in range(0, len(mapping), 1000):
                chunk = dict(list(mapping.items())[start : start + 1000])
                await self.redis.zadd(self.zset, chunk)
        await self.redis.set(self.marker, "1")
        if rows:
            log.info("timer index rebuilt from SQL: %d pending", len(rows))
        return len(rows)

    async def reconcile(self, *, within: timedelta | None = None, batch: int = 1000) -> int:
        """Re-index pending SQL timers that are missing from Redis (a lost ZADD).

        Args:
            within: only timers due before now + `within`, soonest first, one batch (the
                cheap periodic check); None checks every pending timer, in id-ordered batches.
            batch: rows read per query.

        Returns:
            How many timers were re-added to the index.
        """
        added, after = 0, 0
        while True:
            q = select(Timer.id, Timer.due_at).where(Timer.status == "pending")
            if within is not None:
                q = q.where(Timer.due_at <= self.clock() + within)
                q = q.order_by(Timer.due_at, Timer.id)
            else:
                q = q.where(Timer.id > after).order_by(Timer.id)
            async with self.store.maker() as session:
                rows = [(int(i), as_utc(d)) for i, d in (await session.execute(q.limit(batch)))]
            added += await self._index_missing(rows)
            if within is not None or len(rows) < batch:
                break
            after = rows[-1][0]
        if added:
            log.warning("timer index reconciled: %d pending timer(s) re-added", added)
        return added

    async def _index_missing(self, rows: list[tuple[int, datetime]]) -> int:
        """Add those of `rows` that are neither due-indexed nor claimed; returns how many."""
        if not rows:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid, _ in rows:
                pipe.zscore(self.zset, str(tid))
                pipe.zscore(self.claimed, str(tid))
            scores = await pipe.execute()
        # A timer fired or cancelled since the read may be re-added here: harmless, its next
        # claim finds it no longer pending and drops it.
        missing = {
            str(tid): due.timestamp()
            for n, (tid, due) in enumerate(rows)
            if scores[2 * n] is None and scores[2 * n + 1] is None
        }
        if missing:
            await self.redis.zadd(self.zset, missing)
        return len(missing)

    async def maybe_reconcile(self) -> int:
        """Reconcile if it is time: everything at the first call, then the timers due soon
        every `reconcile_seconds`. A failure is logged and retried on the next call."""
        started = time.monotonic()
        first = self._reconciled_at is None
        if not first and started - (self._reconciled_at or 0.0) < self.reconcile_every:
            return 0
        try:
            added = await self.reconcile(within=None if first else self.reconcile_within)
        except Exception:
            log.exception("timer index reconciliation failed")
            return 0
        self._reconciled_at = started
        return added
