"""The small interface every channel adapter implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from aiohttp import web
from redis.asyncio import Redis

from gateway.messages import Inbound, Outbound, SendResult, StatusUpdate

Enqueue = Callable[[Inbound], Awaitable[None]]
"""Appends an inbound message to the durable queue (what a polling or socket channel calls)."""


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What the gateway hands an adapter when it starts: exactly what channels may use.

    Attributes:
        enqueue: Appends an inbound message to the queue (polling and web-socket channels).
        redis: The gateway's Redis client (dedupe memory, web chat sessions); ``None`` in tests
            of adapters that need none.
    """

    enqueue: Enqueue
    redis: Redis | None = None


@runtime_checkable
class Channel(Protocol):
    """A provider adapter: verify and parse inbound webhooks, send outbound messages.

    Adapters never import each other, and provider JSON never leaves the adapter's module.
    """

    name: str
    """Webhook path segment: `POST /webhooks/{name}`."""
    channels: frozenset[str]
    """Message channels this adapter sends on (twilio: {"sms", "whatsapp"})."""

    async def verify(self, request: web.Request) -> None:
        """Raise `BadSignature` unless the request really comes from the provider."""
        ...

    async def parse(self, request: web.Request) -> list[Inbound]:
        """Turn a verified webhook into zero or more inbound messages."""
        ...

    def webhook_response(self) -> web.Response:
        """The immediate answer to the provider (empty TwiML for Twilio)."""
        ...

    async def send(self, message: Outbound) -> Sequence[SendResult]:
        """Send one message (split into parts if needed); raise a `ChannelError` subclass."""
        ...

    async def start(self, context: ChannelContext | None = None) -> None:
        """Open clients. Called once before the first send."""
        ...

    async def close(self) -> None:
        """Close clients."""
        ...


@runtime_checkable
class Reconciles(Protocol):
    """An adapter whose provider can tell whether a message was already sent."""

    async def find_sent(self, message: Outbound, since: datetime) -> list[SendResult]:
        """The provider's records of messages like `message` sent since `since` (same address,
        same text), newest first; asked before a resend of a message whose sender died
        mid-send. The caller tells which, if any, is this one (not another row's)."""
        ...


@runtime_checkable
class StatusChannel(Protocol):
    """An adapter that also receives delivery status callbacks (`POST /webhooks/{name}/status`)."""

    channels: frozenset[str]

    async def parse_status(self, request: web.Request) -> list[StatusUpdate]:
        """Verify and parse a status callback."""
        ...


# Optional capabilities. The gateway checks them with `isinstance`, so a reader (and mypy) sees
# every hook an adapter may offer in this one file.


@runtime_checkable
class HasRoutes(Protocol):
    """An adapter that serves extra HTTP routes (the web chat's socket, widget and demo)."""

    def routes(self) -> list[web.RouteDef]:
        """The routes to add to the app."""
        ...


@runtime_checkable
class Forgets(Protocol):
    """An adapter that remembers what it saw and must forget inbounds that were not queued."""

    async def forget(self, inbounds: Sequence[Inbound]) -> None:
        """Un-see `inbounds` so the provider's redelivery is accepted."""
        ...


@runtime_checkable
class ShowsLanguage(Protocol):
    """An adapter whose UI follows the lead's language (the web chat widget)."""

    async def set_language(self, address: str, language: str) -> None:
        """The lead's language changed or was first detected."""
        ...


@runtime_checkable
class ShowsTyping(Protocol):
    """An adapter that can show a typing indicator while the bot thinks."""

    async def typing(self, address: str) -> None:
        """Show "typing…" to `address`; best effort."""
        ...


@runtime_checkable
class ShowsAgent(Protocol):
    """An adapter that shows who is answering (the web chat header)."""

    async def set_agent(self, address: str, agent_name: str | None) -> None:
        """Show the agent's name (``None``: back to the assistant)."""
        ...
