"""A timer whose Redis ZADD failed after commit still fires: the index is reconciled with SQL
at a runner's start and periodically (real Redis, real SQL; the failure is a thin wrapper
around the real client that raises on the ZADD it is armed for)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.infra.queue import InboundQueue
from gateway.infra.redis import connect_redis
from gateway.infra.timers import Timers
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.leads import Store
from gateway.store.models import Timer
from gateway.worker import Worker
from tests.conftest import shared_redis_url
from tests.integration.handoff_harness import Clock, reset_database
from tests.integration.invariants import violations

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class FlakyRedis:
    """The real client, except that the next `fail_zadds` ZADD calls raise a connection error."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.fail_zadds = 0

    async def zadd(self, *args: Any, **kwargs: Any) -> Any:
        if self.fail_zadds:
            self.fail_zadds -= 1
            raise RedisConnectionError("injected: connection lost during ZADD")
        return await self._real.zadd(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class Env:
    def __init__(self, store: Store, redis: FlakyRedis, clock: Clock) -> None:
        self.store, self.redis, self.clock = store, redis, clock
        self.fired: list[int] = []

    def timers(self, **kw: Any) -> Timers:
        t = Timers(self.redis, self.store, clock=self.clock, prefix="rt", **kw)  # type: ignore[arg-type]
        t.register("test", self.handler)
        return t

    async def handler(self, session: AsyncSession, timer: Timer) -> None:
        self.fired.append(timer.id)

    async def schedule_while_zadd_fails(self, t: Timers, due: datetime) -> int:
        self.redis.fail_zadds = 1
        async with self.store.transaction() as s:  # commits; the indexing hook then fails
            tid = (await t.schedule(s, "test", due)).id
        assert self.redis.fail_zadds == 0, "the after-commit ZADD was not attempted"
        return tid

    async def status(self, tid: int) -> str:
        async with self.store.maker() as s:
            return str((await s.execute(select(Timer.status).where(Timer.id == tid))).scalar())


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    if os.environ.get("TEST_DATABASE_URL"):
        await reset_database(url)
    await migrate(url)
    engine = make_engine(url)
    async with connect_redis(shared_redis_url(), tmp_path / "redis") as redis:
        await redis.flushdb()
        yield Env(Store(make_sessionmaker(engine)), FlakyRedis(redis), Clock(NOW))
    await engine.dispose()


async def test_a_timer_whose_zadd_failed_fires_after_the_periodic_reconcile(env: Env) -> None:
    t = env.timers(reconcile_seconds=0.0)
    await t.run_due("w1")  # a running worker: index built, first reconciliation done
    tid = await env.schedule_while_zadd_fails(t, NOW + timedelta(minutes=5))
    assert await env.redis.zscore(t.zset, str(tid)) is None  # SQL has it, Redis does not
    assert any("not in the Redis index" in v for v in await violations(env.store, timers=t))

    env.clock.now = NOW + timedelta(minutes=6)
    assert await t.run_due("w1") == 1
    assert env.fired == [tid] and await env.status(tid) == "fired"


async def test_a_new_worker_reconciles_at_start(env: Env) -> None:
    first = env.timers(reconcile_seconds=3600.0)
    await first.run_due("w1")
    tid = await env.schedule_while_zadd_fails(first, NOW + timedelta(days=3))  # far ahead
    env.clock.now = NOW + timedelta(days=3, minutes=1)
    assert await first.run_due("w1") == 0  # not its turn yet: the timer is late

    restarted = env.timers(reconcile_seconds=3600.0)  # a process started after the loss
    assert await restarted.run_due("w2") == 1
    assert env.fired == [tid]
    assert await violations(env.store, timers=restarted) == []


async def test_the_worker_loop_reconciles_and_leaves_claimed_timers_alone(env: Env) -> None:
    t = env.timers(reconcile_seconds=0.0, lease_seconds=60.0)
    await t.run_due("w1")
    async with env.store.transaction() as s:
        claimed = (await t.schedule(s, "test", NOW - timedelta(seconds=1))).id
    assert await t.claim() == [claimed]  # in flight on a worker: not re-added to the due set
    lost = await env.schedule_while_zadd_fails(t, NOW - timedelta(seconds=1))
    assert await t.reconcile(within=timedelta(minutes=10)) == 1
    assert await env.redis.zscore(t.zset, str(claimed)) is None
    assert await env.redis.zscore(t.zset, str(lost)) is not None

    worker = Worker(InboundQueue(env.redis, 1, prefix="rt"), t, _no_events,  # type: ignore[arg-type]
                    worker_id="w1")
    assert await worker.run_burst() >= 1
    assert lost in env.fired


async def _no_events(event: Any) -> None:
    raise AssertionError("no queue events in this test")
