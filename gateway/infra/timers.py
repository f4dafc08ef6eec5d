"""Durable timers: rows in SQL (the truth), an index in a Redis sorted set scored by due time.

Any worker may fire a due timer: it takes a short lease in Redis, then a SQL state transition
(`pending → fired`) picks the single winner, and the handler runs inside that same
transaction, so a handler's decision and the timer's firing commit together or not at all. A
cancel (accept, reply) is the competing transition; whichever commits first wins. If Redis is
wiped, the index is rebuilt from SQL. A timer reaches the index only after its transaction
commits, and one failed ZADD there would leave it pending forever, so every runner also
reconciles the index with SQL: fully at its first run, then periodically for the timers due
soon (one bounded query on the status/due index); pending timers missing from Redis are re-added.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.domain.utc import as_utc
from gateway.infra.timer_index import TimerIndex
from gateway.messages import utcnow
from gateway.store.leads import Store, after_commit
from gateway.store.models import Timer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
TimerHandler = Callable[[AsyncSession, Timer], Awaitable[None]]


async def has_pending(session: AsyncSession, lead_id: int, kind: str) -> bool:
    """Whether the lead has a pending timer of `kind` (SQL is the source of truth).

    Args:
        session: The open transaction.
        lead_id: The lead.
        kind: Timer kind, e.g. ``"bot_retry"`` or an escalation ladder step.

    Returns:
        True when at least one such timer is pending.
    """
    q = select(Timer.id).where(
        Timer.lead_id == lead_id, Timer.kind == kind, Timer.status == "pending"
    )
    return (await session.execute(q.limit(1))).first() is not None


class Timers(TimerIndex):
    """Schedule, cancel and fire durable timers."""

    def __init__(
        self,
        redis: aioredis.Redis,
        store: Store,
        *,
        clock: Clock = utcnow,
        lease_seconds: float = 15.0,
        prefix: str = "pronto",
        reconcile_seconds: float = 30.0,
        reconcile_within_seconds: float = 600.0,
    ) -> None:
        """Create the timer service.

        Args:
            redis: the Redis client holding the index.
            store: the SQL store (the truth).
            clock: time source for due times (tests inject one).
            lease_seconds: how long a claimed timer is held before another worker may take it.
            prefix: Redis key prefix.
            reconcile_seconds: how often (wall clock) `run_due` checks SQL for pending timers
                missing from the index; 0 checks on every run.
            reconcile_within_seconds: the periodic check covers timers due before now + this
                (the ones that would fire late); the first run checks all of them.
        """
        self.redis = redis
        self.store = store
        self.clock = clock
        self.lease_ms = int(lease_seconds * 1000)
        self.zset = f"{prefix}:timers"
        self.marker = f"{prefix}:timers:indexed"
        self.claimed = f"{prefix}:timers:claimed"
        self.handlers: dict[str, TimerHandler] = {}
        self.reconcile_every = reconcile_seconds
        self.reconcile_within = timedelta(seconds=reconcile_within_seconds)
        self._reconciled_at: float | None = None

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

    async def reschedule(
        self,
        session: AsyncSession,
        kind: str,
        due_at: datetime,
        *,
        lead_id: int,
        replaces: tuple[str, ...],
        data: dict[str, Any] | None = None,
    ) -> None:
        """The lead's pending timer of a kind in `replaces` becomes this one (cancel and
        schedule in one): one UPDATE moves it in place, where a cancel and an INSERT cost three
        statements, and one Redis ZADD indexes it. Were there several (not expected), the
        others are cancelled; with none, a timer is scheduled.

        A worker that claimed the old due time finds the row not due yet and re-indexes it
        (`fire_batch` checks `due_at`), so a moved timer never fires early."""
        res = await session.execute(
            update(Timer).where(Timer.status == "pending", Timer.lead_id == lead_id,
                                Timer.kind.in_(replaces))
            .values(kind=kind, due_at=due_at, data=data or {})
            .returning(Timer.id).execution_options(synchronize_session=False))
        ids = sorted(res.scalars())
        if not ids:
            await self.schedule(session, kind, due_at, lead_id=lead_id, data=data)
            return
        moved = ids[0]
        for other in ids[1:]:  # stay correct: one pending follow-up per lead
            await self.cancel(session, timer_id=other)
        member, score = str(moved), due_at.timestamp()

        async def index() -> None:
            await self.redis.zadd(self.zset, {member: score})

        after_commit(session, index)

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
        # Rows are locked in id order (as `fire_batch` does): two multi-row updates over the
        # same timers then cannot deadlock on PostgreSQL.
        q = select(Timer.id).where(Timer.status == "pending").order_by(Timer.id).with_for_update()
        if lead_id is not None:
            q = q.where(Timer.lead_id == lead_id)
        if kinds:
            q = q.where(Timer.kind.in_(kinds))
        if assignment_id is not None:
            q = q.where(Timer.assignment_id == assignment_id)
        if timer_id is not None:
            q = q.where(Timer.id == timer_id)
        candidates = list((await session.execute(q)).scalars())
        if not candidates:
            return []
        # RETURNING: only the timers this transaction really cancelled (a fire may have won).
        res = await session.execute(
            update(Timer)
            .where(Timer.id.in_(candidates), Timer.status == "pending")
            .values(status="cancelled")
            .returning(Timer.id)
            .execution_options(synchronize_session=False)
        )
        ids = list(res.scalars())
        if not ids:
            return []

        async def unindex() -> None:
            await self.redis.zrem(self.zset, *[str(i) for i in ids])
            await self.redis.zrem(self.claimed, *[str(i) for i in ids])

        after_commit(session, unindex)
        return ids

    async def due_ids(self, limit: int = 200) -> list[int]:
        """Ids of timers due at the clock's now (not yet claimed)."""
        now = self.clock().timestamp()
        ids: Any = await self.redis.zrangebyscore(self.zset, "-inf", now, start=0, num=limit)
        return [int(i) for i in ids]

    async def claim(self, limit: int = 100) -> list[int]:
        """Atomically take up to `limit` due timers for this worker, under a lease.

        One Lua call moves them from the due index to the claimed set, scored by lease
        expiry, so two workers never take the same timer; claims whose lease expired (a dead
        worker) go back to the due index first.
        """
        now = self.clock().timestamp()
        # Leases are wall-clock (a dead worker is detected in real time); due times follow the
        # injected clock.
        real = time.time()
        ids = await self.redis.eval(
            _CLAIM, 2, self.zset, self.claimed, now, real, real + self.lease_ms / 1000, limit
        )
        return [int(i) for i in ids]

    async def run_due(self, worker_id: str, limit: int = 100) -> int:
        """Fire every due timer this worker can claim (burst mode); returns how many fired."""
        await self.ensure_index()
        await self.maybe_reconcile()
        fired = 0
        while True:
            ids = await self.claim(limit)
            if not ids:
                return fired
            outcomes = await self.fire_batch(ids)
            fired += sum(1 for o in outcomes.values() if o == "fired")
            if len(ids) < limit:
                return fired

    async def fire(self, timer_id: int) -> str:
        """Fire one timer (see `fire_batch`); returns its outcome."""
        return (await self.fire_batch([timer_id]))[timer_id]

    async def fire_batch(self, ids: list[int]) -> dict[int, str]:
        """Fire timers if still pending and due; for each, exactly one caller can win.

        Fast path: one transaction for the batch, one conditional `UPDATE … RETURNING` picks
        the timers this caller wins, then their handlers run. If any handler raises, the whole
        batch rolls back and each timer is fired alone, so one failing handler cannot hold
        back the others (nor send anything for its rolled-back decision).

        Returns:
            Per id: "fired" (this caller won), "skipped" (already fired, cancelled or gone),
            "early" (not due yet; re-indexed) or "failed" (the handler raised; retried once
            its claim's lease expires).
        """
        now = self.clock()
        outcomes: dict[int, str] = {}
        early: dict[str, float] = {}
        fired_kinds: list[str] = []
        try:
            async with self.store.transaction() as session:
                rows = (
                    await session.execute(
                        select(Timer.id, Timer.due_at)
                        .where(Timer.id.in_(ids), Timer.status == "pending")
                        .order_by(Timer.id)
                        .with_for_update()
                    )
                ).all()
                due = []
                for tid, due_at in rows:
                    if as_utc(due_at) > now:
                        outcomes[tid] = "early"
                        early[str(tid)] = as_utc(due_at).timestamp()
                    else:
                        due.append(tid)
                won: list[Timer] = []
                if due:
                    res = await session.execute(
                        update(Timer)
                        .where(Timer.id.in_(due), Timer.status == "pending")
                        .values(status="fired", fired_at=now)
                        .returning(Timer)
                        .execution_options(synchronize_session=False)
                    )
                    won = sorted(res.scalars(), key=lambda t: t.id)
                for timer in won:
                    handler = self.handlers.get(timer.kind)
                    if handler is None:
                        log.error("no handler for timer kind %s (id %d)", timer.kind, timer.id)
                    else:
                        await handler(session, timer)
                    outcomes[timer.id] = "fired"
                    fired_kinds.append(timer.kind)
        except Exception:
            if len(ids) > 1:
                results: dict[int, str] = {}
                for tid in ids:
                    results.update(await self.fire_batch([tid]))
                return results
            log.exception("timer %d handler failed; will retry after the lease", ids[0])
            return {ids[0]: "failed"}
        for tid in ids:
            outcomes.setdefault(tid, "skipped")
        done = [str(t) for t in ids]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.claimed, *done)
            pipe.zrem(self.zset, *done)
            if early:
                pipe.zadd(self.zset, early)
            await pipe.execute()
        for kind in fired_kinds:
            metrics.TIMERS_FIRED.labels(kind=kind).inc()
        return outcomes


_CLAIM = """
local expired = redis.call('zrangebyscore', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  redis.call('zrem', KEYS[2], id)
  redis.call('zadd', KEYS[1], ARGV[1], id)
end
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  redis.call('zrem', KEYS[1], id)
  redis.call('zadd', KEYS[2], ARGV[3], id)
end
return ids
"""
