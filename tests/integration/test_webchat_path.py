"""Web chat end to end: the real gateway (real Redis, real SQL, pipeline) behind /chat/ws, with a
fake Rasa. The browser test (tests/browser) drives the widget itself."""

from __future__ import annotations

from typing import Any

import aiohttp
from sqlalchemy import select

from gateway.store.models import Identity, Lead, Message
from tests.conftest import wait_until


async def hello(
    stack: Any, token: str | None = None, after: str | None = None, origin: str | None = None
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await stack.http.ws_connect(
        f"{stack.base}/chat/ws", headers={"Origin": origin or stack.base}
    )
    await ws.send_json({"type": "hello", "token": token, "after": after})
    session: dict[str, Any] = await ws.receive_json(timeout=5)
    assert session["type"] == "session"
    return ws, session


async def frames_until(
    ws: aiohttp.ClientWebSocketResponse, pred: Any, within: float = 10.0
) -> list[dict[str, Any]]:
    seen = []
    while True:
        frame = await ws.receive_json(timeout=within)
        seen.append(frame)
        if pred(frame):
            return seen


def team(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["author"] == "team"


async def test_visitor_gets_spanish_answer_and_keeps_it_after_reload(make_stack: Any) -> None:
    async with make_stack() as stack:
        resp = await stack.http.get(f"{stack.base}/chat/demo")
        assert resp.status == 200 and "/chat/widget.js" in await resp.text()
        ws, session = await hello(stack)
        await frames_until(ws, lambda f: f["type"] == "ready")
        await ws.send_json(
            {"type": "message", "id": "e2e-msg-0001", "text": "Hola, busco casa en Miami"}
        )
        seen = await frames_until(ws, team)
        kinds = [f["type"] for f in seen]
        assert "ack" in kinds and "typing" in kinds
        assert {"type": "language", "language": "es"}.items() <= next(
            f for f in seen if f["type"] == "language"
        ).items()
        assert seen[-1]["text"].startswith("¡Hola! Soy el asistente")
        await ws.close()
        assert stack.rasa.requests[-1]["metadata"] == {"language": "es", "channel": "webchat"}

        # reload: same token, whole conversation replayed, UI language remembered
        ws, again = await hello(stack, token=session["token"])
        assert again["language"] == "es"
        replay = await frames_until(ws, lambda f: f["type"] == "ready")
        lines = [(f["author"], f["text"]) for f in replay if f["type"] == "message"]
        assert lines == [("visitor", "Hola, busco casa en Miami"), ("team", seen[-1]["text"])]
        await ws.close()

        sid = session["token"].split(".")[0]
        async with stack.services.store.maker() as s:
            rows = (await s.scalars(select(Message).where(Message.address == sid))).all()
        assert [(m.direction, m.channel) for m in rows] == [("in", "webchat"), ("out", "webchat")]


async def test_reply_while_offline_is_delivered_on_reconnect(make_stack: Any) -> None:
    async with make_stack() as stack:
        ws, session = await hello(stack)
        await frames_until(ws, lambda f: f["type"] == "ready")
        await ws.send_json({"type": "message", "id": "e2e-msg-0002", "text": "Hi there"})
        ack = (await frames_until(ws, lambda f: f["type"] == "ack"))[-1]
        await ws.close()  # network lost before the bot answered
        ws, _ = await hello(stack, token=session["token"], after=ack["seq"])
        seen = await frames_until(ws, team)
        assert seen[-1]["text"].startswith("Hi! I'm the assistant")
        await ws.close()


async def test_contact_is_stored_on_the_lead(make_stack: Any) -> None:
    async with make_stack() as stack:
        ws, _ = await hello(stack)
        await ws.send_json({"type": "message", "id": "e2e-msg-0003", "text": "Hello"})
        await frames_until(ws, team)
        await ws.send_json(
            {
                "type": "contact",
                "id": "e2e-ct-0001",
                "phone": "(305) 555-0177",
                "email": "maria@example.com",
            }
        )
        await frames_until(ws, lambda f: f["type"] == "ack" and f["id"] == "e2e-ct-0001")
        await ws.close()

        async def stored() -> bool:
            async with stack.services.store.maker() as s:
                lead = await s.scalar(select(Lead).where(Lead.email == "maria@example.com"))
                claim = await s.scalar(select(Identity).where(Identity.kind == "phone_claim"))
                # The phone is only a claim until its code is typed (test_webchat_phone_claim).
                return (lead is not None and lead.phone is None and claim is not None
                        and claim.lead_id == lead.id and claim.address == "+13055550177")

        await wait_until(stored, what="contact on the lead")


async def test_foreign_origin_is_refused(make_stack: Any) -> None:
    async with make_stack() as stack:
        try:
            await stack.http.ws_connect(
                f"{stack.base}/chat/ws", headers={"Origin": "https://evil.example"}
            )
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
        else:
            raise AssertionError("foreign origin accepted")


async def test_widget_shows_the_agent_who_accepts(make_stack: Any) -> None:
    import re
    from datetime import UTC, datetime

    from tests.integration.handoff_harness import Clock

    agents = {"+13055550101": "Ana", "+13055550102": "Luis", "+13055550103": "James",
              "+13055550104": "Emily"}  # config/agents.yml
    clock = Clock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # Monday 10:00 in Miami
    async with make_stack(clock=clock) as stack:
        ws, _ = await hello(stack)
        await frames_until(ws, lambda f: f["type"] == "ready")
        await ws.send_json({"type": "message", "id": "e2e-msg-0009", "text": "agente por favor"})
        await frames_until(ws, team)

        async def alerted() -> bool:
            return any(s.to in agents for s in stack.twilio.sent)
        await wait_until(alerted, what="an agent alert")
        alert = next(s for s in stack.twilio.sent if s.to in agents)
        code = re.search(r"\b(\d{4})\b", alert.body)
        assert code, alert.body
        await stack.sms(f"aceptar {code.group(1)}", phone=alert.to)
        frames = await frames_until(ws, lambda f: f["type"] == "agent")
        name = frames[-1]["name"]
        assert name == agents[alert.to]  # the first name of the agent who accepted
        # The prospect is also told who is helping (before or after the header update).
        if not any(team(f) and name in f["text"] for f in frames):
            frames = await frames_until(ws, lambda f: team(f) and name in f["text"])
        await ws.close()
