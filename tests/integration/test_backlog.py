"""`gateway.infra.backlog`: a worker's `behind` mark, its freshness and its rate limit, on
real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.infra import backlog
from gateway.infra.backlog import Backlog


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_a_mark_says_behind_until_it_is_stale(redis: Redis,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backlog, "FRESH_SECONDS", 0.4)
    monkeypatch.setattr(backlog, "LOOK_EVERY", 0.0)
    worker, lane = Backlog(redis, "t"), Backlog(redis, "t")
    assert not await lane.behind()
    await worker.mark("w1")
    assert await lane.behind()
    await asyncio.sleep(0.5)
    assert not await lane.behind()
    assert await redis.zcard("t:behind") == 0  # the stale mark is removed by the look


async def test_marks_and_looks_are_rate_limited(redis: Redis,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backlog, "MARK_EVERY", 10.0)
    monkeypatch.setattr(backlog, "LOOK_EVERY", 10.0)
    worker, lane = Backlog(redis, "t"), Backlog(redis, "t")
    assert not await lane.behind()
    await worker.mark("w1")
    assert not await lane.behind()  # the last answer, until LOOK_EVERY has passed
    assert await redis.zcard("t:behind") == 1
    await redis.delete("t:behind")
    await worker.mark("w1")  # within MARK_EVERY: no command
    assert await redis.zcard("t:behind") == 0


async def test_redis_down_means_not_behind() -> None:
    down = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        await Backlog(down).mark("w1")  # logged, not raised
        assert not await Backlog(down).behind()
    finally:
        await down.aclose()
