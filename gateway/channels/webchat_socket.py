"""The web chat sockets this process holds: hello, client frames, replay, live fan-out.

`GET /chat/ws` checks the page's origin, waits for the hello frame (a signed session token
and the last seq the widget saw), replays the session's history after that seq, then carries
frames both ways. Client messages are checked, recorded and queued once: a resend after a
reconnect is acknowledged again without being queued twice. A listener task turns the
`EVENTS` wake-ups of any process into pushes to the local sockets of that session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from redis.exceptions import RedisError

from gateway.channels.webchat_session import SESSION_ID, SessionTokens, clean_contact, origin_ok
from gateway.channels.webchat_store import EVENTS, PAGE, SessionStore, decode
from gateway.config.settings import WebchatConfig
from gateway.messages import WEBCHAT, Inbound

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 10.0


async def _error(
    ws: web.WebSocketResponse, cid: str | None, code: str, retry_after: float | None = None
) -> None:
    await ws.send_json({"type": "error", "id": cid, "code": code, "retry_after": retry_after})


@dataclass(eq=False)
class Conn:
    """One open socket: its session and the last history seq it was sent."""

    ws: web.WebSocketResponse
    session_id: str
    last_seq: str | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SocketHub:
    """Serves `GET /chat/ws` and keeps this process's sockets, by session id, in `conns`.

    Args:
        cfg: The web chat settings (message size and rate limits).
        tokens: Issues and checks session tokens.
        origins: The page origins allowed to open a socket.
        store: The sessions' Redis state.
        enqueue: Queues an admitted visitor message or contact form.
    """

    def __init__(
        self,
        cfg: WebchatConfig,
        tokens: SessionTokens,
        origins: frozenset[str],
        store: SessionStore,
        enqueue: Callable[[Inbound], Awaitable[None]],
    ) -> None:
        self._cfg = cfg
        self._tokens = tokens
        self._origins = origins
        self._store = store
        self._enqueue = enqueue
        self.conns: dict[str, set[Conn]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the listener that pushes new frames to this process's sockets."""
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
        for conns in list(self.conns.values()):
            for conn in list(conns):
                await conn.ws.close(code=1012, message=b"restarting")

    # -- the socket --------------------------------------------------------------------------

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
        self.conns.setdefault(conn.session_id, set()).add(conn)
        try:
            await self.flush(conn)
            await ws.send_json({"type": "ready"})  # history replayed; resend unacknowledged
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except (ValueError, RecursionError):  # RecursionError: nested past the stack
                    frame = None
                await self._on_frame(conn, frame, request.headers.get("Origin", ""))
        finally:
            conns = self.conns.get(conn.session_id, set())
            conns.discard(conn)
            if not conns:
                self.conns.pop(conn.session_id, None)
        return ws

    async def _hello(self, ws: web.WebSocketResponse) -> Conn | None:
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT)
            hello = json.loads(msg.data) if msg.type == WSMsgType.TEXT else None
        except (TimeoutError, ValueError, RecursionError):
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
        meta = await self._store.meta(session_id)
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
        return Conn(ws=ws, session_id=session_id, last_seq=last)

    async def _on_frame(self, conn: Conn, frame: Any, origin: str) -> None:
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
            await self.flush(conn)  # the sender sees its own line before the ack
        await conn.ws.send_json({"type": "ack", "id": cid, "seq": seq})

    async def _admit(
        self, sid: str, cid: str, kind: str, frame: dict[str, Any], origin: str
    ) -> tuple[str, float | None, str | None]:
        """Check, record and queue one client frame: (error code or "", retry_after, seq)."""
        seen = await self._store.seen(sid, cid)
        if seen is not None:  # a resend after reconnect: acknowledge again, queue nothing
            return "", None, seen or None
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
        wait = await self._store.rate_limited(sid, self._cfg.messages_per_minute)
        if wait:
            log.info("webchat: session rate limited")
            return "rate_limited", round(wait, 1), None
        seq = ""
        if contact is None:
            assert isinstance(text, str)
            echo = {"type": "message", "id": cid, "author": "visitor", "text": text}
            seq = await self._store.append(sid, echo)  # the visitor's own line, replayed on reload
            inbound = Inbound(
                channel=WEBCHAT,
                provider_id=f"{sid}:{cid}",
                address=sid,
                text=text,
                raw={"origin": origin},
            )
        else:
            await self._store.set_meta(sid, "contact", "1")
            inbound = Inbound(
                channel=WEBCHAT,
                provider_id=f"{sid}:{cid}",
                address=sid,
                text="",
                action="contact",
                raw=contact,
            )
        await self._enqueue(inbound)
        await self._store.mark_done(sid, cid, seq)
        return "", None, seq or None

    # -- fan-out -----------------------------------------------------------------------------

    async def flush(self, conn: Conn) -> None:
        """Send every history frame after the socket's last seq, in order, once."""
        async with conn.lock:
            while not conn.ws.closed:
                entries = await self._store.after(conn.session_id, conn.last_seq)
                for seq, frame in entries:
                    frame["seq"] = conn.last_seq = seq
                    await conn.ws.send_json(frame)
                if len(entries) < PAGE:
                    return

    async def _listen(self) -> None:
        """Deliver wake-ups and ephemeral frames from any process to local sockets."""
        backoff = 0.5
        while not self._stopping:
            try:
                async with self._store.redis().pubsub() as pubsub:
                    await pubsub.subscribe(EVENTS)
                    backoff = 0.5
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            await self._deliver(json.loads(decode(item["data"])))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                log.warning("webchat listener: %s; retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _deliver(self, event: dict[str, Any]) -> None:
        for conn in list(self.conns.get(str(event.get("sid")), ())):
            try:
                if event.get("frame"):
                    await conn.ws.send_json(event["frame"])
                else:
                    await self.flush(conn)
            except (ConnectionError, RuntimeError, RedisError):
                pass  # the socket is closing; the widget resumes from its last seq
