"""Rasa REST channel client (`POST /webhooks/rest/webhook`)."""

from __future__ import annotations

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


class BotClient:
    """Talks to the Rasa server; one aiohttp session for the process."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any], timeout: float
    ) -> BotReply:
        """Send one message as `sender`; raise BotUnavailable on any failure or timeout."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self.session.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                if resp.status != 200:
                    raise BotUnavailable(f"rasa answered {resp.status}")
                data = await resp.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BotUnavailable(type(exc).__name__) from exc
        texts: list[str] = []
        customs: list[dict[str, Any]] = []
        for item in data if isinstance(data, list) else []:
            if isinstance(item.get("custom"), dict):
                customs.append(item["custom"])
            elif item.get("text"):
                texts.append(str(item["text"]))
        return BotReply(tuple(texts), tuple(customs))

    async def ready(self) -> bool:
        """True when Rasa answers with a loaded model."""
        try:
            async with self.session.get(
                f"{self.base_url}/status", timeout=aiohttp.ClientTimeout(total=2)
            ) as resp:
                if resp.status != 200:
                    # /status needs --enable-api; fall back to the root health answer.
                    async with self.session.get(
                        f"{self.base_url}/", timeout=aiohttp.ClientTimeout(total=2)
                    ) as root:
                        return root.status == 200
                data = await resp.json()
                return bool(data.get("model_file"))
        except (aiohttp.ClientError, TimeoutError):
            return False
