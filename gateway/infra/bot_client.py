"""Rasa REST channel client (`POST /webhooks/rest/webhook`), over one or more Rasa replicas.

Rasa 3.6 serves one model per process and its open-source lock store is per process, so
scale-out is several replicas sharing one tracker store (Redis): the gateway already runs each
lead's messages one at a time, so any replica may take a lead's next turn. Turns go round-robin
over the replicas that answer; a replica that fails to connect is skipped for
`cooldown_seconds` and its turn tried on the next one (a turn that reached Rasa and timed out
is not retried: it may have run).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from gateway.errors import BotUnavailable


@dataclass(frozen=True, slots=True)
class BotReply:
    """What the bot said for one message: texts for the lead and custom payloads for Pronto."""

    texts: tuple[str, ...] = ()
    customs: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def custom(self, kind: str) -> dict[str, Any] | None:
        """The first custom payload with `"pronto": kind`, if any."""
        return next((c for c in self.customs if c.get("pronto") == kind), None)


def split_urls(value: str) -> list[str]:
    """`RASA_URL` may list several replicas, comma-separated."""
    return [u.strip().rstrip("/") for u in value.split(",") if u.strip()]


class BotClient:
    """Talks to the Rasa replicas; one aiohttp session for the process."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession, *,
                 cooldown_seconds: float = 10.0) -> None:
        self.urls = split_urls(base_url) or [base_url.rstrip("/")]
        self.base_url = self.urls[0]
        self.session = session
        self.cooldown = cooldown_seconds
        self._down_until: dict[str, float] = {}
        self._turn = itertools.count()
        self.calls: dict[str, int] = {u: 0 for u in self.urls}
        """Turns answered per replica (tests and the dashboard read it)."""

    def _order(self) -> list[str]:
        """Replicas to try for the next turn: round-robin, the ones in cooldown last."""
        start = next(self._turn) % len(self.urls)
        ring = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        up = [u for u in ring if self._down_until.get(u, 0.0) <= now]
        return up + [u for u in ring if u not in up]

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any], timeout: float
    ) -> BotReply:
        """Send one message as `sender`; raise BotUnavailable when no replica answers."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        deadline = asyncio.get_running_loop().time() + timeout
        last: BotUnavailable | None = None
        for url in self._order():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                data = await self._post(url, body, left)
            except _Unreachable as exc:
                self._down_until[url] = time.monotonic() + self.cooldown
                last = BotUnavailable(str(exc))
                continue  # never reached Rasa: safe to try the next replica
            self._down_until.pop(url, None)
            self.calls[url] = self.calls.get(url, 0) + 1
            return _reply(data)
        raise last or BotUnavailable("no Rasa replica answered in time")

    async def _post(self, url: str, body: dict[str, Any], timeout: float) -> Any:
        try:
            async with self.session.post(
                f"{url}/webhooks/rest/webhook", json=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                if resp.status != 200:
                    raise BotUnavailable(f"rasa answered {resp.status}")
                return await resp.json()
        except aiohttp.ClientConnectorError as exc:
            raise _Unreachable(type(exc).__name__) from exc
        except aiohttp.ClientOSError as exc:
            # A pooled connection to a replica that died fails while the request is written:
            # the turn never reached Rasa, so the next replica may take it.
            if "write request" in str(exc):
                raise _Unreachable(type(exc).__name__) from exc
            raise BotUnavailable(type(exc).__name__) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(type(exc).__name__) from exc

    async def ready(self) -> bool:
        """True when at least one replica answers with a loaded model."""
        results = await asyncio.gather(*(self._ready(u) for u in self.urls))
        return any(results)

    async def _ready(self, url: str) -> bool:
        try:
            async with self.session.get(
                f"{url}/status", timeout=aiohttp.ClientTimeout(total=2)
            ) as resp:
                if resp.status != 200:
                    # /status needs --enable-api; fall back to the root health answer.
                    async with self.session.get(
                        f"{url}/", timeout=aiohttp.ClientTimeout(total=2)
                    ) as root:
                        return root.status == 200
                data = await resp.json()
                return bool(data.get("model_file"))
        except (aiohttp.ClientError, TimeoutError):
            return False


class _Unreachable(Exception):
    """The connection to a replica failed before any request was sent."""


def _reply(data: Any) -> BotReply:
    texts: list[str] = []
    customs: list[dict[str, Any]] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item.get("custom"), dict):
            customs.append(item["custom"])
        elif item.get("text"):
            texts.append(str(item["text"]))
    return BotReply(tuple(texts), tuple(customs))
