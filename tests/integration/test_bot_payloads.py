"""What the gateway does with the bot's hidden payloads and around the handoff (fake Rasa)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from gateway.store.models import AuditEvent, Message
from tests.conftest import wait_until

PHONE = "+13055550177"


async def test_an_answer_the_bot_gave_up_on_is_listed_as_not_understood(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("ask my wife", phone=PHONE)
        sent = await stack.twilio.wait_for(PHONE)
        assert sent[0].body == "No worries, I've noted that."  # the payload is never shown
        async with stack.services.store.maker() as s:
            msg = await s.scalar(select(Message).where(Message.direction == "in"))
            events = set((await s.scalars(select(AuditEvent.type))).all())
        assert msg is not None and msg.low_confidence and msg.confidence == 0.93
        assert "nlu.not_understood" in events


async def test_a_prospect_writing_while_the_offer_waits_gets_varying_notes(
    make_stack: Any,
) -> None:
    async with make_stack() as stack:
        await stack.sms("agent please", phone=PHONE)
        told = len(await stack.twilio.wait_for(PHONE))
        notes = []
        for n, text in enumerate(("hello?", "still there?", "??", "hi"), start=1):
            await stack.sms(text, phone=PHONE)
            got = await stack.twilio.wait_for(PHONE, told + n, timeout=10)
            notes.append(got[-1].body)
        assert len(notes) == 4
        assert all(a != b for a, b in itertools.pairwise(notes)), notes
        assert "agent" in notes[0]
        assert len(stack.rasa.requests) == 1, "messages while the offer waits skip the bot"

        async def waiting_logged() -> bool:
            async with stack.services.store.maker() as s:
                rows = (await s.scalars(select(AuditEvent.type).where(
                    AuditEvent.type == "handoff.lead_waiting"))).all()
                return len(rows) == 4

        await wait_until(waiting_logged, what="four lead_waiting events")
