"""The small interface every channel adapter implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aiohttp import web

from gateway.messages import Inbound, Outbound, SendResult, StatusUpdate


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

    async def start(self) -> None:
        """Open clients. Called once before the first send."""
        ...

    async def close(self) -> None:
        """Close clients."""
        ...


@runtime_checkable
class StatusChannel(Protocol):
    """An adapter that also receives delivery status callbacks (`POST /webhooks/{name}/status`)."""

    channels: frozenset[str]

    async def parse_status(self, request: web.Request) -> list[StatusUpdate]:
        """Verify and parse a status callback."""
        ...
