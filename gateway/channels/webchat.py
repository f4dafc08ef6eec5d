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

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.channels.base import ChannelContext, Enqueue
from gateway.channels.webchat_session import (
    SESSION_ID,
    SessionTokens,
    allowed_origins,
    clean_contact,
    origin_ok,
)
from gateway.config.settings import Settings
from gateway.errors import BadSignature, ConfigError
from gateway.messages import WEBCHAT, Inbound, Outbound, SendResult

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
EVENTS = "pronto:webchat:events"
HISTORY_MAX = 500  # frames kept per session
HISTORY_TTL = 30 * 24 * 3600
HELLO_TIMEOUT = 10.0


async def _error(
    ws: web.WebSocketResponse, cid: str | None, code: str, retry_after: float | None = None
) -> None:
    await ws.send_json({"type": "error", "id": cid, "code": code, "retry_after": retry_after})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    session_id: str
    last_seq: str | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
        self._settings = settings
        self._cfg = settings.webchat
        self._tokens = SessionTokens(settings.session_secret.get_secret_value())
        self._origins = allowed_origins(settings)
        self._redis = redis
        self._enqueue = enqueue
        self._clock = clock
        self._conns: dict[str, set[_Conn]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False
        self._static: dict[str, bytes] = {}

    # -- wiring ------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """`/chat/ws`, `/chat/widget.js`, `/chat/demo`."""
        return [
            web.get("/chat/ws", self.websocket),
            web.get("/chat/widget.js", self.widget),
            web.get("/chat/demo", self.demo),
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
        self._stopping = False
        self._listener = asyncio.create_task(self._listen(), name="webchat-listen")

    async def close(self) -> None:
        """Stop listening and close open sockets (widgets reconnect and resume)."""
        self._stopping = True
        task, self._listener = self._listener, None
        for _ in range(50):
            if task is None or task.done():
                break
            # redis-py can swallow a cancel that lands while it connects; cancel until it ends
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        else:
            log.warning("webchat listener did not stop")
        for conns in list(self._conns.values()):
            for conn in list(conns):
                await conn.ws.close(code=1012, message=b"restarting")

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
        await self._append(message.address, frame)
        return [SendResult(provider_id=frame_id, status="sent")]

    # -- hooks the pipeline calls ------------------------------------------------------------

    async def set_language(self, session_id: str, language: str) -> None:
        """The lead's language changed (or was first detected): switch the widget's UI text."""
        redis = self._require_redis()
        old = await redis.hget(self._meta(session_id), "language")
        if old is not None and _text(old) == language:
            return
        await redis.hset(self._meta(session_id), "language", language)
        await self._append(session_id, {"type": "language", "language": language})

    async def set_agent(self, session_id: str, agent_name: str | None) -> None:
        """Show the agent's name after handoff (None: back to the assistant)."""
        redis = self._require_redis()
        await redis.hset(self._meta(session_id), "agent", agent_name or "")
        await self._append(session_id, {"type": "agent", "name": agent_name or ""})

    async def typing(self, session_id: str) -> None:
        """Show the typing indicator (not kept in history)."""
        with contextlib.suppress(RedisError):
            await self._publish(session_id, {"type": "typing"})

    # -- HTTP --------------------------------------------------------------------------------

    async def widget(self, request: web.Request) -> web.Response:
        """`GET /chat/widget.js`."""
        return web.Response(
            body=self._file("widget.js"),
            content_type="application/javascript",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def demo(self, request: web.Request) -> web.Response:
        """`GET /chat/demo`: a listing page with the widget."""
        return web.Response(body=self._file("demo.html"), content_type="text/html", charset="utf-8")

    def _file(self, name: str) -> bytes:
        if name not in self._static:
            self._static[name] = (STATIC / name).read_bytes()
        return self._static[name]

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """`GET /chat/ws`: origin check, hello, replay, then live frames both ways."""
        if not origin_ok(request.headers.get("Origin"), request.host, self._origins):
            raise web.HTTPForbidden(text="origin not allowed")
        max_chars = self._cfg.max_message_chars
        ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=max_chars * 4 + 4096)
        await ws.prepare(request)
        conn = await self._hello(ws)
        if conn is None:
            await ws.close()
            return ws
        self._conns.setdefault(conn.session_id, set()).add(conn)
        try:
            await self._flush(conn)
            await ws.send_json({"type": "ready"})  # history replayed; resend unacknowledged
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    frame = None
                await self._on_frame(conn, frame, request.headers.get("Origin", ""))
        finally:
            conns = self._conns.get(conn.session_id, set())
            conns.discard(conn)
            if not conns:
                self._conns.pop(conn.session_id, None)
        return ws

    async def _hello(self, ws: web.WebSocketResponse) -> _Conn | None:
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT)
            hello = json.loads(msg.data) if msg.type == WSMsgType.TEXT else None
        except (TimeoutError, ValueError):
            return None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            return None
        session_id = self._tokens.verify(hello.get("token"))
        after = hello.get("after") if session_id else None
        if session_id is None:
            session_id, token = self._tokens.issue()
            log.info("webchat: new session")
        else:
            token = self._tokens.sign(session_id)
        meta = {
            _text(k): _text(v)
            for k, v in (await self._require_redis().hgetall(self._meta(session_id))).items()
        }
        await ws.send_json(
            {
                "type": "session",
                "token": token,
                "language": meta.get("language"),
                "agent": meta.get("agent") or None,
                "contact": bool(meta.get("contact")),
                "max_chars": self._cfg.max_message_chars,
            }
        )
        last = after if isinstance(after, str) and re.fullmatch(r"\d+-\d+", after) else None
        return _Conn(ws=ws, session_id=session_id, last_seq=last)

    async def _on_frame(self, conn: _Conn, frame: Any, origin: str) -> None:
        kind = frame.get("type") if isinstance(frame, dict) else None
        cid = frame.get("id") if isinstance(frame, dict) else None
        if kind == "ping":
            return
        if kind not in ("message", "contact") or not isinstance(cid, str):
            await _error(conn.ws, None, "bad_frame")
            return
        if not SESSION_ID.match(cid):
            await _error(conn.ws, None, "bad_frame")
            return
        try:
            code, retry_after, seq = await self._admit(conn.session_id, cid, kind, frame, origin)
        except RedisError:
            log.warning("webchat: redis unavailable; the widget will resend")
            code, retry_after, seq = "unavailable", 2.0, None
        if code:
            await _error(conn.ws, cid, code, retry_after)
            return
        with contextlib.suppress(RedisError):
            await self._flush(conn)  # the sender sees its own line before the ack
        await conn.ws.send_json({"type": "ack", "id": cid, "seq": seq})

    async def _admit(
        self, sid: str, cid: str, kind: str, frame: dict[str, Any], origin: str
    ) -> tuple[str, float | None, str | None]:
        """Check, record and queue one client frame: (error code or "", retry_after, seq)."""
        redis = self._require_redis()
        done_key = f"pronto:webchat:cid:{sid}:{cid}"
        seen = await redis.get(done_key)
        if seen is not None:  # a resend after reconnect: acknowledge again, queue nothing
            return "", None, _text(seen) or None
        text = frame.get("text")
        contact = None
        if kind == "message":
            if not isinstance(text, str) or not text.strip():
                return "bad_frame", None, None
            text = text.strip()
            if len(text) > self._cfg.max_message_chars:
                return "too_long", None, None
        else:
            contact = clean_contact(frame.get("phone"), frame.get("email"))
            if contact is None:
                return "bad_contact", None, None
        wait = await self._rate_limited(sid)
        if wait:
            log.info("webchat: session rate limited")
            return "rate_limited", round(wait, 1), None
        seq = ""
        if contact is None:
            assert isinstance(text, str)
            echo = {"type": "message", "id": cid, "author": "visitor", "text": text}
            seq = await self._append(sid, echo)  # the visitor's own line, replayed on reload
            inbound = Inbound(
                channel=WEBCHAT,
                provider_id=f"{sid}:{cid}",
                address=sid,
                text=text,
                raw={"origin": origin},
            )
        else:
            await redis.hset(self._meta(sid), "contact", "1")
            inbound = Inbound(
                channel=WEBCHAT,
                provider_id=f"{sid}:{cid}",
                address=sid,
                text="",
                action="contact",
                raw=contact,
            )
        await self._require_enqueue()(inbound)
        await redis.set(done_key, seq, ex=HISTORY_TTL)
        return "", None, seq or None

    async def _rate_limited(self, session_id: str) -> float:
        """Sliding one-minute window per session; seconds to wait, or 0 when allowed."""
        redis = self._require_redis()
        key = f"pronto:webchat:rate:{session_id}"
        now = self._clock()
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - 60)
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, 120)
            _, _, count, _ = await pipe.execute()
        if int(count) <= self._cfg.messages_per_minute:
            return 0.0
        await redis.zrem(key, member)
        oldest = await redis.zrange(key, 0, 0, withscores=True)
        return max(0.5, float(oldest[0][1]) + 60 - now) if oldest else 1.0

    # -- history and fan-out -----------------------------------------------------------------

    @staticmethod
    def _log(session_id: str) -> str:
        return f"pronto:webchat:log:{session_id}"

    @staticmethod
    def _meta(session_id: str) -> str:
        return f"pronto:webchat:meta:{session_id}"

    async def _append(self, session_id: str, frame: dict[str, Any]) -> str:
        """Add a frame to the session's history and wake its sockets; returns its seq."""
        redis = self._require_redis()
        key = self._log(session_id)
        seq = _text(
            await redis.xadd(key, {"f": json.dumps(frame)}, maxlen=HISTORY_MAX, approximate=True)
        )
        await redis.expire(key, HISTORY_TTL)
        await redis.expire(self._meta(session_id), HISTORY_TTL)
        await self._publish(session_id, None)
        return seq

    async def _publish(self, session_id: str, frame: dict[str, Any] | None) -> None:
        payload = {"sid": session_id, "frame": frame}
        await self._require_redis().publish(EVENTS, json.dumps(payload))

    async def _flush(self, conn: _Conn) -> None:
        """Send every history frame after the socket's last seq, in order, once."""
        redis = self._require_redis()
        async with conn.lock:
            while not conn.ws.closed:
                low = f"({conn.last_seq}" if conn.last_seq else "-"
                entries = await redis.xrange(self._log(conn.session_id), low, "+", count=200)
                entries = entries or []
                for entry_id, fields in entries:
                    data = (fields or {}).get("f") or (fields or {}).get(b"f") or "{}"
                    frame = json.loads(_text(data))
                    frame["seq"] = conn.last_seq = _text(entry_id)
                    await conn.ws.send_json(frame)
                if len(entries) < 200:
                    return

    async def _listen(self) -> None:
        """Deliver wake-ups and ephemeral frames from any process to local sockets."""
        backoff = 0.5
        while not self._stopping:
            try:
                async with self._require_redis().pubsub() as pubsub:
                    await pubsub.subscribe(EVENTS)
                    backoff = 0.5
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            await self._deliver(json.loads(_text(item["data"])))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                log.warning("webchat listener: %s; retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _deliver(self, event: dict[str, Any]) -> None:
        for conn in list(self._conns.get(str(event.get("sid")), ())):
            try:
                if event.get("frame"):
                    await conn.ws.send_json(event["frame"])
                else:
                    await self._flush(conn)
            except (ConnectionError, RuntimeError, RedisError):
                pass  # the socket is closing; the widget resumes from its last seq

    def _require_redis(self) -> Redis:
        if self._redis is None:
            raise ConfigError("web chat needs a Redis client (attach(services) or redis=)")
        return self._redis

    def _require_enqueue(self) -> Enqueue:
        if self._enqueue is None:
            raise ConfigError("web chat needs bind(enqueue) before use")
        return self._enqueue
