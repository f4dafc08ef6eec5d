"""Whether the workers are behind: an event is waiting for a free in-flight slot somewhere.

A worker holds `worker_in_flight` events at once, most of them waiting for a Rasa slot. When
all its slots are taken and an event read from the stream has to wait for one, every message
queued behind it waits at least until a turn at Rasa ends: the worker marks itself behind
(a sorted set, the worker's id scored by the time). The acknowledgement lane reads the mark:
while a worker is behind, a new lead's message is acknowledged the moment the lane reads it,
not at its usual share of the budget, because the pipeline will not reach it in time anyway.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
MARK_EVERY = 0.5
"""A worker that stays behind refreshes its mark at most this often (one command)."""
FRESH_SECONDS = 1.5
"""A mark this old or newer says "behind"; older ones are from a worker that caught up or died."""
LOOK_EVERY = 0.25
"""The lane asks Redis at most this often; in between it reuses the last answer."""


class Backlog:
    """The `behind` marks of one deployment's workers (`{prefix}:behind`)."""

    def __init__(self, redis: Redis, prefix: str = "pronto") -> None:
        self.redis = redis
        self.key = f"{prefix}:behind"
        self._marked = 0.0
        self._looked = -LOOK_EVERY
        self._behind = False

    async def mark(self, consumer: str) -> None:
        """`consumer` has an event waiting for a free slot. Best effort: a Redis error only
        means the lane acknowledges at its usual moment."""
        now = time.monotonic()
        if now - self._marked < MARK_EVERY:
            return
        self._marked = now
        try:
            await self.redis.zadd(self.key, {consumer: time.time()})
        except RedisError as exc:
            log.warning("backlog mark not written: %s", type(exc).__name__)

    async def behind(self) -> bool:
        """True when some worker was behind within `FRESH_SECONDS`."""
        now = time.monotonic()
        if now - self._looked < LOOK_EVERY:
            return self._behind
        self._looked = now
        fresh = time.time() - FRESH_SECONDS
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(self.key, "-inf", f"({fresh}")
                pipe.zcard(self.key)
                replies = await pipe.execute()
            self._behind = int(replies[1]) > 0
        except RedisError as exc:
            log.warning("backlog not read: %s", type(exc).__name__)
            self._behind = False
        return self._behind
