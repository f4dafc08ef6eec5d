"""Stream appends made together share round trips (`gateway.infra.append_batch`), against a
real Redis: a burst holds no more than two connections (before, one an append in flight: 200
at once opened 64), entries keep the calls' order, and each caller gets its own id or error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from gateway.infra.append_batch import AppendBatcher
from gateway.infra.queue import InboundQueue


def _connections(client: aioredis.Redis) -> int:
    pool = client.connection_pool
    return len(pool._available_connections) + len(pool._in_use_connections)


async def test_a_burst_of_appends_shares_round_trips_and_keeps_its_order(redis_url: str) -> None:
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, decode_responses=True,
                                                    max_connections=64)
    client = aioredis.Redis.from_pool(pool)
    try:
        queue = InboundQueue(client, 1, prefix="batch")
        ids = await asyncio.gather(*(
            queue.enqueue("phone:+13055550100", "inbound", {"n": n}) for n in range(200)))
        assert len(set(ids)) == 200
        assert _connections(client) <= 2, "each append held a connection of its own"
        entries: Any = await client.xrange(queue.stream(0))
        assert [e[0] for e in entries] == ids  # each caller got its own entry's id
        assert [e[1]["body"] for e in entries] == [f'{{"n": {n}}}' for n in range(200)]
    finally:
        await client.aclose()


async def test_one_failing_append_fails_alone(redis_url: str) -> None:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        await client.set("not-a-stream", "x")
        batcher = AppendBatcher(client)
        good, bad, after = await asyncio.gather(
            batcher.xadd("s", {"a": "1"}), batcher.xadd("not-a-stream", {"a": "2"}),
            batcher.xadd("s", {"a": "3"}), return_exceptions=True)
        assert isinstance(bad, ResponseError)
        entries: Any = await client.xrange("s")
        assert [e[0] for e in entries] == [good, after]
    finally:
        await client.aclose()


async def test_a_cancelled_caller_leaves_the_others_their_answers(redis_url: str) -> None:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        batcher = AppendBatcher(client)
        first = asyncio.ensure_future(batcher.xadd("s", {"a": "1"}))
        second = asyncio.ensure_future(batcher.xadd("s", {"a": "2"}))
        await asyncio.sleep(0)
        first.cancel()
        assert await second
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await batcher.xadd("s", {"a": "3"})  # the batcher still works
    finally:
        await client.aclose()


async def test_a_dead_connection_fails_every_append_of_its_batch() -> None:
    client = aioredis.from_url("redis://127.0.0.1:1", decode_responses=True)  # nothing there
    try:
        batcher = AppendBatcher(client)
        results = await asyncio.gather(*(batcher.xadd("s", {"n": str(n)}) for n in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
    finally:
        await client.aclose()
