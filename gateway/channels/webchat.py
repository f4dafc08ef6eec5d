"""Website chat: the embeddable widget, its WebSocket, and a demo listing page.

`GET /chat/widget.js` serves the widget, `GET /chat/demo` a listing page that embeds it, and
`GET /chat/ws` is the WebSocket behind it. A visitor is a session: a random id signed with
HMAC-SHA256 (`PRONTO_SESSION_SECRET`); the widget keeps the token in localStorage and presents
it in its first frame, and a missing or forged token simply starts a new session.

Everything the visitor sees is appended to a per-session Redis Stream (their own messages,
replies, language and agent changes), so a reload or a reconnect replays from the last sequence
number the widget saw and nothing is lost if the gateway restarts or the reply was produced by
another process. A pub/sub wake-up tells each gateway process to push new entries to the sockets
it holds. Client messages carry a client-generated id, are acknowledged, and a resend after a
reconnect is acknowledged again without being queued twice.

This module is the adapter the gateway sees; the work is done by its parts:
`webchat_socket` (the sockets: hello, frames, replay, fan-out), `webchat_store` (the
session's Redis state), `webchat_session` (tokens, origins, contact checks, no I/O) and
`webchat_static` (the widget and demo files).

Protocol (JSON text frames):
    client: {"type": "hello", "token": str|null, "after": seq|null}
            {"type": "message", "id": str, "text": str}
            {"type": "contact", "id": str, "phone": str, "email": str}
    server: {"type": "session", "token", "language", "agent", "contact", "max_chars"}
            {"type": "message", "seq", "id", "author": "visitor"|"team", "text", "buttons"}
            {"type": "language", "seq", "language"}  {"type": "agent", "seq", "name"}
            {"type": "ready"} (after the replay)  {"type": "typing"}
            {"type": "ack", "id", "seq"}
            {"type": "error", "id", "code": "too_long"|"rate_limited"|"bad_contact"|
             "bad_frame"|"unavailable", "retry_after"}
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.channels.base import ChannelContext, Enqueue
from gateway.channels.webchat_session import SessionTokens, allowed_origins
from gateway.channels.webchat_socket import SocketHub
from gateway.channels.webchat_static import WidgetFiles
from gateway.channels.webchat_store import SessionStore
from gateway.config.settings import Settings
from gateway.errors import BadSignature, ConfigError
from gateway.messages import WEBCHAT, Inbound, Outbound, SendResult

__all__ = ["WebchatChannel"]


class WebchatChannel:
    """The web chat adapter (`gateway.channels.base.Channel`, plus routes and live hooks)."""

    name = "webchat"
    channels = frozenset({WEBCHAT})

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis | None = None,
        enqueue: Enqueue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._enqueue = enqueue
        self._store = SessionStore(self._require_redis, clock)
        self._sockets = SocketHub(
            settings.webchat,
            SessionTokens(settings.session_secret.get_secret_value()),
            allowed_origins(settings),
            self._store,
            self._queue,
        )
        self._files = WidgetFiles()

    # -- wiring ------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """`/chat/ws`, `/chat/widget.js`, `/chat/demo`."""
        return [
            web.get("/chat/ws", self._sockets.websocket),
            web.get("/chat/widget.js", self._files.widget),
            web.get("/chat/demo", self._files.demo),
        ]

    async def start(self, context: ChannelContext | None = None) -> None:
        """Start the wake-up listener that pushes new frames to this process's sockets.

        Args:
            context: The queue's append function and the shared Redis client (either may
                have been given to the constructor instead, as tests do).
        """
        if context is not None:
            self._enqueue = context.enqueue
            self._redis = context.redis or self._redis
        self._require_redis()
        self._sockets.start()

    async def close(self) -> None:
        """Stop listening and close open sockets (widgets reconnect and resume)."""
        await self._sockets.close()

    # -- the Channel interface ---------------------------------------------------------------

    async def verify(self, request: web.Request) -> None:
        """Web chat has no provider webhook; it speaks over `/chat/ws`."""
        raise BadSignature("web chat has no webhook")

    async def parse(self, request: web.Request) -> list[Inbound]:
        """Never reached (`verify` refuses)."""
        return []

    def webhook_response(self) -> web.Response:
        """Never reached (`verify` refuses)."""
        return web.Response(status=204)

    async def send(self, message: Outbound) -> Sequence[SendResult]:
        """Append a reply to the session's history and wake the sockets that show it."""
        frame_id = uuid.uuid4().hex
        frame: dict[str, Any] = {
            "type": "message",
            "id": frame_id,
            "author": "team",
            "text": message.text,
        }
        if message.buttons:
            frame["buttons"] = [{"label": b.label, "data": b.data} for b in message.buttons]
        await self._store.append(message.address, frame)
        return [SendResult(provider_id=frame_id, status="sent")]

    # -- hooks the pipeline calls ------------------------------------------------------------

    async def set_language(self, session_id: str, language: str) -> None:
        """The lead's language changed (or was first detected): switch the widget's UI text."""
        if await self._store.get_meta(session_id, "language") == language:
            return
        await self._store.set_meta(session_id, "language", language)
        await self._store.append(session_id, {"type": "language", "language": language})

    async def set_agent(self, session_id: str, agent_name: str | None) -> None:
        """Show the agent's name after handoff (None: back to the assistant)."""
        await self._store.set_meta(session_id, "agent", agent_name or "")
        await self._store.append(session_id, {"type": "agent", "name": agent_name or ""})

    async def typing(self, session_id: str) -> None:
        """Show the typing indicator (not kept in history)."""
        with contextlib.suppress(RedisError):
            await self._store.publish(session_id, {"type": "typing"})

    # -- what the parts need -----------------------------------------------------------------

    async def _queue(self, inbound: Inbound) -> None:
        await self._require_enqueue()(inbound)

    def _require_redis(self) -> Redis:
        if self._redis is None:
            raise ConfigError("web chat needs a Redis client (attach(services) or redis=)")
        return self._redis

    def _require_enqueue(self) -> Enqueue:
        if self._enqueue is None:
            raise ConfigError("web chat needs bind(enqueue) before use")
        return self._enqueue
