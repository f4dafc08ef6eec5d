"""Telegram's limits, kept apart from the adapter: send pacing, 429 flood waits, the set of
seen update ids, and message splitting. Used only by `gateway.channels.telegram`."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

MAX_TEXT_UNITS = 4096  # Telegram counts UTF-16 code units
SEEN_TTL_SECONDS = 48 * 3600  # Telegram stops redelivering an update after 24 h


class Pacer:
    """Reserves send slots: one per `per_chat` seconds per chat, `per_second` slots overall.

    A caller gets the earliest time that keeps its chat's spacing and is at least 1/per_second
    away from every other reserved slot, so a chat waiting for its turn never holds the others
    back. Slots are booked without awaiting in between, so concurrent senders on one event loop
    queue fairly without a lock.
    """

    def __init__(
        self,
        per_chat: float = 1.0,
        per_second: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat = per_chat
        self.interval = 1.0 / per_second
        self._clock = clock
        self._slots: list[float] = []  # reserved send times, sorted
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat: str) -> float:
        """Book the next slot for `chat`; return how long to wait before using it."""
        now = self._clock()
        keep = bisect.bisect_left(self._slots, now - self.interval)
        del self._slots[:keep]
        slot = max(now, self._chat_next.get(chat, 0.0))
        for taken in self._slots:  # sorted: moving forward only meets later slots
            if abs(taken - slot) < self.interval:
                slot = taken + self.interval
        bisect.insort(self._slots, slot)
        self._chat_next[chat] = slot + self.per_chat
        if len(self._chat_next) > 10_000:  # forget chats whose next slot has passed
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return slot - now

    def hold(self, chat: str, seconds: float) -> None:
        """Telegram said wait: no slot for `chat` before `seconds` from now."""
        until = self._clock() + seconds
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), until)

    async def wait(self, chat: str) -> None:
        """Sleep until this caller's slot for `chat`."""
        delay = self.reserve(chat)
        if delay > 0:
            await asyncio.sleep(delay)


class FloodWait(TelegramError):
    """A 429 from the Bot API, raised by `FloodAwareRequest` with the wait in seconds.

    python-telegram-bot 22's own `RetryAfter` emits a deprecation warning when built, which the
    test suite turns into an error; reading the 429 here avoids it and keeps fractional waits.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Flood control exceeded. Retry in {seconds:g} seconds")
        self.seconds = seconds


class FloodAwareRequest(HTTPXRequest):
    """The httpx transport, reading `parameters.retry_after` of a 429 itself."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """See `telegram.request.BaseRequest.do_request`."""
        code, payload = await super().do_request(*args, **kwargs)
        if code == 429:
            seconds = 1.0
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                seconds = float(json.loads(payload)["parameters"]["retry_after"])
            raise FloodWait(seconds)
        return code, payload


class SeenUpdates:
    """A bounded set of update ids already accepted (not "highest seen": order is not assumed)."""

    def __init__(self, size: int = 10_000, redis: Redis | None = None) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size
        self._redis = redis

    async def first_time(self, update_id: int) -> bool:
        """Record `update_id`; True when it had not been seen before."""
        if update_id in self._ids:
            return False
        if self._redis is not None:  # first, so a Redis error leaves the id unrecorded
            key = f"pronto:telegram:seen:{update_id}"
            if not await self._redis.set(key, "1", nx=True, ex=SEEN_TTL_SECONDS):
                return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True

    def use_redis(self, redis: Redis) -> None:
        """Also record ids in Redis (shared by gateway processes, kept across restarts)."""
        self._redis = redis

    async def forget(self, update_id: int) -> None:
        """Undo `first_time` (the update could not be queued, so a redelivery must pass)."""
        self._ids.pop(update_id, None)
        if self._redis is not None:
            await self._redis.delete(f"pronto:telegram:seen:{update_id}")


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split `text` into parts of at most `limit` UTF-16 units, preferring line/word breaks."""

    def units(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    parts: list[str] = []
    rest = text
    while units(rest) > limit:
        cut = limit
        while units(rest[:cut]) > limit:
            cut -= 1
        window = rest[:cut]
        brk = max(window.rfind("\n"), window.rfind(" "))
        if brk > cut // 2:
            cut = brk + 1
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts
