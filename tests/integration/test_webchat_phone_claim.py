"""A phone given in the web chat is a claim until the code texted to it is typed in the chat
(issue 11): before that, SMS from the number are the number's own lead; after it, they join
the visitor's conversation; a number that is someone else's lead is never moved silently."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy import select

from gateway.messages import utcnow
from gateway.store.models import AuditEvent, Identity, Lead, Message
from tests.conftest import wait_until
from tests.integration.handoff_harness import Clock
from tests.integration.test_webchat_path import frames_until, hello, team

PHONE = "+13055550177"
PHONE_TYPED = "(305) 555-0177"


async def visitor_with_claim(stack: Any, n: int = 1) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """A visitor who said hello and gave PHONE; returns the socket and the code texted."""
    ws, _ = await hello(stack)
    await ws.send_json({"type": "message", "id": f"pc-msg-000{n}", "text": "Hello"})
    await frames_until(ws, team)
    await ws.send_json({"type": "contact", "id": f"pc-ct-000{n}", "phone": PHONE_TYPED,
                        "email": "visitor@example.com"})
    seen = await frames_until(ws, lambda f: team(f) and "6-digit code" in f["text"])
    assert seen
    sent = await stack.twilio.wait_for(PHONE, count=n)
    found = re.search(r"\b(\d{6})\b", sent[-1].body)
    assert found is not None, sent[-1].body
    return ws, found.group(1)


async def lead_of(stack: Any, kind: str, address: str) -> int | None:
    async with stack.services.store.maker() as s:
        lead_id: int | None = await s.scalar(
            select(Identity.lead_id).where(Identity.kind == kind, Identity.address == address))
        return lead_id


async def visitor_lead(stack: Any) -> Lead:
    async with stack.services.store.maker() as s:
        lead = await s.scalar(select(Lead).where(Lead.email == "visitor@example.com"))
        assert lead is not None
        return lead


async def sms_lead(stack: Any, body: str) -> int:
    """Send an SMS from PHONE and wait until it is stored; the lead it was stored under."""
    resp = await stack.sms(body, phone=PHONE)
    assert resp.status == 200

    async def stored() -> bool:
        async with stack.services.store.maker() as s:
            return await s.scalar(select(Message.id).where(
                Message.text == body, Message.direction == "in")) is not None
    await wait_until(stored, what="the SMS stored")
    async with stack.services.store.maker() as s:
        msg = await s.scalar(select(Message).where(Message.text == body))
        assert msg is not None and msg.lead_id is not None
        return msg.lead_id


async def test_unconfirmed_phone_is_only_a_claim(make_stack: Any) -> None:
    async with make_stack() as stack:
        ws, _code = await visitor_with_claim(stack)
        visitor = await visitor_lead(stack)
        assert visitor.phone is None  # a contact detail, not the lead's phone
        assert await lead_of(stack, "phone_claim", PHONE) == visitor.id
        assert await lead_of(stack, "phone", PHONE) is None
        # The number's owner writes: their own lead, not the visitor's conversation.
        owner = await sms_lead(stack, "Who is this?")
        assert owner != visitor.id
        assert await lead_of(stack, "phone", PHONE) == owner
        await ws.close()


async def test_code_links_the_phone_and_later_sms_join_the_visitor(make_stack: Any) -> None:
    async with make_stack() as stack:
        ws, code = await visitor_with_claim(stack)
        await ws.send_json({"type": "message", "id": "pc-msg-0100", "text": "000000"
                            if code != "000000" else "111111"})
        await frames_until(ws, lambda f: team(f) and "doesn't match" in f["text"])
        await ws.send_json({"type": "message", "id": "pc-msg-0101", "text": code})
        await frames_until(ws, lambda f: team(f) and "confirmed" in f["text"])
        visitor = await visitor_lead(stack)
        assert visitor.phone == PHONE
        assert await lead_of(stack, "phone", PHONE) == visitor.id
        assert await lead_of(stack, "phone_claim", PHONE) is None
        assert await sms_lead(stack, "It's me, from the chat") == visitor.id
        async with stack.services.store.maker() as s:
            types = set((await s.scalars(select(AuditEvent.type).where(
                AuditEvent.lead_id == visitor.id))).all())
            texts = (await s.scalars(select(Message.text).where(
                Message.lead_id == visitor.id, Message.author == "lead"))).all()
        assert {"lead.phone_claimed", "lead.phone_code_sent", "lead.phone_code_wrong",
                "lead.phone_confirmed"} <= types
        # The codes never reached the bot.
        assert all(r["message"] not in (code, "000000", "111111")
                   for r in stack.rasa.requests)
        assert code in texts
        await ws.close()


async def test_phone_of_another_lead_is_not_moved(make_stack: Any) -> None:
    async with make_stack() as stack:
        owner = await sms_lead(stack, "Hi, I saw a listing")
        ws, code = await visitor_with_claim(stack)
        await ws.send_json({"type": "message", "id": "pc-msg-0200", "text": code})
        await frames_until(ws, lambda f: team(f) and "confirmed" in f["text"])
        visitor = await visitor_lead(stack)
        assert await lead_of(stack, "phone", PHONE) == owner
        assert await sms_lead(stack, "Still me") == owner
        async with stack.services.store.maker() as s:
            merge = (await s.scalars(select(AuditEvent).where(
                AuditEvent.type == "lead.merge_needed"))).all()
        assert {(e.lead_id, e.data["other_lead_id"]) for e in merge} == {
            (visitor.id, owner), (owner, visitor.id)}
        await ws.close()


async def test_five_wrong_codes_or_fifteen_minutes_void_the_code(make_stack: Any) -> None:
    clock = Clock(utcnow())
    async with make_stack(clock=clock) as stack:
        ws, code = await visitor_with_claim(stack)
        wrong = "000000" if code != "000000" else "111111"
        for i in range(5):
            await ws.send_json({"type": "message", "id": f"pc-msg-03{i:02d}", "text": wrong})
        await frames_until(ws, lambda f: team(f) and "no longer" in f["text"])
        await ws.send_json({"type": "message", "id": "pc-msg-0310", "text": code})
        # The right code, too late: it is only a message now (the bot answers it).
        await frames_until(ws, lambda f: team(f) and f["text"].startswith("Hi! I'm"))
        assert await lead_of(stack, "phone", PHONE) is None

        # A new claim, then the clock moves past 15 minutes.
        await ws.send_json({"type": "contact", "id": "pc-ct-0301", "phone": PHONE_TYPED,
                            "email": "visitor@example.com"})
        sent = await stack.twilio.wait_for(PHONE, count=2)
        found = re.search(r"\b(\d{6})\b", sent[-1].body)
        assert found is not None
        clock.now += timedelta(minutes=16)
        await ws.send_json({"type": "message", "id": "pc-msg-0311", "text": found.group(1)})
        await frames_until(ws, lambda f: team(f) and "no longer" in f["text"])
        assert await lead_of(stack, "phone", PHONE) is None
        await ws.close()
