"""What a web chat session keeps in Redis: its history, its meta, dedupe marks, its rate window.

Everything the visitor sees is appended to a per-session Redis Stream, so a reload or a
reconnect replays from the last sequence number the widget saw, whichever process produced the
frame. Each append publishes a wake-up on `EVENTS` so every gateway process pushes the new
entries to the sockets it holds (`gateway.channels.webchat_socket`).

Keys, all per session id:
    ``pronto:webchat:log:{sid}``   the Stream of frames (about `HISTORY_MAX` kept)
    ``pronto:webchat:meta:{sid}``  a hash: ``language``, ``agent``, ``contact``
    ``pronto:webchat:cid:{sid}:{client id}``  the seq a client message was given (dedupe)
    ``pronto:webchat:rate:{sid}``  a sorted set: the sliding one-minute window
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

EVENTS = "pronto:webchat:events"
"""The pub/sub channel that wakes every process's sockets."""
HISTORY_MAX = 500  # frames kept per session
HISTORY_TTL = 30 * 24 * 3600
PAGE = 200
"""History entries read per round trip when replaying."""


def decode(value: Any) -> str:
    """A Redis reply as `str`, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


class SessionStore:
    """Reads and writes a session's Redis state; every method may raise `RedisError`.

    Args:
        redis: Returns the Redis client (raises `ConfigError` while there is none); called at
            each use, because the client may arrive only when the channel starts.
        clock: Seconds since the epoch, for the rate window.
    """

    def __init__(self, redis: Callable[[], Redis], clock: Callable[[], float]) -> None:
        self.redis = redis
        self._clock = clock

    @staticmethod
    def _log(session_id: str) -> str:
        return f"pronto:webchat:log:{session_id}"

    @staticmethod
    def _meta(session_id: str) -> str:
        return f"pronto:webchat:meta:{session_id}"

    # -- history and wake-ups ----------------------------------------------------------------

    async def append(self, session_id: str, frame: dict[str, Any]) -> str:
        """Add a frame to the session's history and wake its sockets; returns its seq."""
        redis = self.redis()
        key = self._log(session_id)
        seq = decode(
            await redis.xadd(key, {"f": json.dumps(frame)}, maxlen=HISTORY_MAX, approximate=True)
        )
        await redis.expire(key, HISTORY_TTL)
        await redis.expire(self._meta(session_id), HISTORY_TTL)
        await self.publish(session_id, None)
        return seq

    async def publish(self, session_id: str, frame: dict[str, Any] | None) -> None:
        """Wake the session's sockets in every process: to replay (None) or to show `frame`.

        A published frame is ephemeral (the typing indicator): it is not kept in history.
        """
        payload = {"sid": session_id, "frame": frame}
        await self.redis().publish(EVENTS, json.dumps(payload))

    async def after(self, session_id: str, last_seq: str | None) -> list[tuple[str, Any]]:
        """Up to `PAGE` history frames after `last_seq` (all from the start if None), in order.

        Returns:
            (seq, frame) pairs; fewer than `PAGE` means the history is exhausted.
        """
        low = f"({last_seq}" if last_seq else "-"
        entries = await self.redis().xrange(self._log(session_id), low, "+", count=PAGE)
        found: list[tuple[str, Any]] = []
        for entry_id, fields in entries or []:
            data = (fields or {}).get("f") or (fields or {}).get(b"f") or "{}"
            found.append((decode(entry_id), json.loads(decode(data))))
        return found

    # -- meta --------------------------------------------------------------------------------

    async def meta(self, session_id: str) -> dict[str, str]:
        """The session's meta hash (``language``, ``agent``, ``contact``), decoded."""
        found = await self.redis().hgetall(self._meta(session_id))
        return {decode(k): decode(v) for k, v in found.items()}

    async def get_meta(self, session_id: str, name: str) -> str | None:
        """One meta field, or None when unset."""
        value = await self.redis().hget(self._meta(session_id), name)
        return None if value is None else decode(value)

    async def set_meta(self, session_id: str, name: str, value: str) -> None:
        """Set one meta field."""
        await self.redis().hset(self._meta(session_id), name, value)

    # -- client messages ---------------------------------------------------------------------

    @staticmethod
    def _done(session_id: str, client_id: str) -> str:
        return f"pronto:webchat:cid:{session_id}:{client_id}"

    async def seen(self, session_id: str, client_id: str) -> str | None:
        """The seq recorded for an already-queued client message ("" if it had none), or None."""
        value = await self.redis().get(self._done(session_id, client_id))
        return None if value is None else decode(value)

    async def mark_done(self, session_id: str, client_id: str, seq: str) -> None:
        """Record that a client message was queued, so a resend is acknowledged, not queued."""
        await self.redis().set(self._done(session_id, client_id), seq, ex=HISTORY_TTL)

    async def rate_limited(self, session_id: str, per_minute: int) -> float:
        """Sliding one-minute window per session; seconds to wait, or 0 when allowed."""
        redis = self.redis()
        key = f"pronto:webchat:rate:{session_id}"
        now = self._clock()
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - 60)
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, 120)
            _, _, count, _ = await pipe.execute()
        if int(count) <= per_minute:
            return 0.0
        await redis.zrem(key, member)
        oldest = await redis.zrange(key, 0, 0, withscores=True)
        return max(0.5, float(oldest[0][1]) + 60 - now) if oldest else 1.0
