"""Durable timers on real Redis + real SQL: two workers, a dead worker's lease, Redis wiped."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.infra.redis import connect_redis
from gateway.infra.timers import Timers
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.leads import Store, audit
from gateway.store.models import AuditEvent, Timer
from tests.conftest import shared_redis_url
from tests.integration.handoff_harness import Clock, reset_database

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Env:
    def __init__(self, store: Store, redis: object, clock: Clock) -> None:
        self.store, self.redis, self.clock = store, redis, clock
        self.calls: list[int] = []

    def worker(self, lease_seconds: float = 5.0) -> Timers:
        t = Timers(self.redis, self.store, clock=self.clock,  # type: ignore[arg-type]
                   lease_seconds=lease_seconds, prefix="tt")
        t.register("test", self.handler)
        return t

    async def handler(self, session: AsyncSession, timer: Timer) -> None:
        self.calls.append(timer.id)
        audit(session, "timer.test_fired", timer_id=timer.id)

    async def schedule(self, n: int, *, spread_s: float = 60.0) -> list[int]:
        t = self.worker()
        ids = []
        async with self.store.transaction() as s:
            for i in range(n):
                due = NOW - timedelta(seconds=spread_s * i / max(n, 1))
                ids.append((await t.schedule(s, "test", due)).id)
        return ids

    async def effects(self) -> Counter[int]:
        async with self.store.maker() as s:
            rows = (await s.execute(
                select(AuditEvent.data).where(AuditEvent.type == "timer.test_fired"))).scalars()
            return Counter(int(d["timer_id"]) for d in rows)

    async def pending(self) -> int:
        async with self.store.maker() as s:
            q = select(func.count()).select_from(Timer).where(Timer.status == "pending")
            return int((await s.execute(q)).scalar() or 0)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    if os.environ.get("TEST_DATABASE_URL"):
        await reset_database(url)
    await migrate(url)
    engine = make_engine(url)
    async with connect_redis(shared_redis_url(), tmp_path / "r") as redis:
        await redis.flushdb()
        yield Env(Store(make_sessionmaker(engine)), redis, Clock(NOW))
    await engine.dispose()


async def _drain(t: Timers, name: str) -> None:
    while True:
        fired = await t.run_due(name)
        if not fired and not await t.due_ids(1):
            return
        await asyncio.sleep(0)  # let the other worker in


async def test_two_workers_fire_1000_due_timers_once_each(env: Env) -> None:
    ids = await env.schedule(1000)
    w1, w2 = env.worker(), env.worker()
    await asyncio.wait_for(asyncio.gather(_drain(w1, "w1"), _drain(w2, "w2")), 90)
    calls = Counter(env.calls)
    assert len(calls) == 1000 and set(calls) == set(ids)  # none missed
    assert max(calls.values()) == 1  # no handler ran twice
    effects = await env.effects()
    assert len(effects) == 1000 and max(effects.values()) == 1
    assert await env.pending() == 0


async def test_worker_dead_while_holding_leases_timers_fire_after_lease(env: Env) -> None:
    ids = await env.schedule(5)
    # A worker claimed the timers and died before firing (its claims were never finished).
    dying = env.worker(lease_seconds=0.3)
    assert sorted(await dying.claim()) == sorted(ids)
    survivor = env.worker()
    assert await survivor.run_due("w2") == 0  # the dead worker's claims still hold
    await asyncio.sleep(0.4)  # the lease expires
    assert await survivor.run_due("w2") == 5
    assert Counter(env.calls) == Counter(ids)


async def test_worker_killed_mid_handler_rolls_back_and_another_fires(env: Env) -> None:
    (tid,) = await env.schedule(1)
    entered, never = asyncio.Event(), asyncio.Event()
    dying = env.worker(lease_seconds=0.3)

    async def stuck(session: AsyncSession, timer: Timer) -> None:
        entered.set()
        await never.wait()

    dying.register("test", stuck)
    task = asyncio.create_task(dying.run_due("dying"))
    await asyncio.wait_for(entered.wait(), 10)
    task.cancel()  # killed mid-handler: the firing transaction rolls back, the lease stays
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await env.pending() == 1
    other = env.worker()
    assert await other.run_due("w2") == 0  # the dead worker's lease still holds
    await asyncio.sleep(0.4)
    assert await other.run_due("w2") == 1
    assert env.calls == [tid] and (await env.effects())[tid] == 1


async def test_redis_flushed_index_rebuilt_from_sql(env: Env) -> None:
    ids = await env.schedule(20)
    w = env.worker()
    async with env.store.transaction() as s:
        cancelled = await w.cancel(s, timer_id=ids[0])
    async with env.store.transaction() as s:
        later = await w.schedule(s, "test", NOW + timedelta(minutes=5))
    await env.redis.flushdb()  # type: ignore[attr-defined]
    assert await w.due_ids() == []
    assert await w.run_due("w1") == 19  # rebuilt from SQL, then fired
    assert set(env.calls) == set(ids) - set(cancelled)
    env.clock.now = NOW + timedelta(minutes=5)
    assert await w.run_due("w1") == 1 and env.calls[-1] == later.id


async def test_cancel_racing_fire_has_one_outcome(env: Env) -> None:
    for _ in range(10):
        (tid,) = await env.schedule(1)
        w = env.worker()

        async def cancel(tid: int = tid, w: Timers = w) -> list[int]:
            async with env.store.transaction() as s:
                return await w.cancel(s, timer_id=tid)

        _, fired = await asyncio.gather(cancel(), w.fire(tid))
        async with env.store.maker() as s:
            status = (await s.get(Timer, tid)).status  # type: ignore[union-attr]
        # SQL decides: either the cancel committed first (the handler never ran) or the fire
        # did (the handler ran once and the cancel changed nothing).
        assert status == ("fired" if fired == "fired" else "cancelled")
        assert env.calls.count(tid) == (1 if fired == "fired" else 0)
