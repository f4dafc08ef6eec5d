"""WhatsApp's 24-hour window and failed relays (issue 13), through the real pipeline and
handoff (real Redis and SQL, fake Twilio, fake Rasa), with one agent on SMS.

Outside the window no free text is attempted: the configured approved template (ContentSid)
goes instead, or the agent is told the window is closed. A relay that fails (63016, by send
error or status callback) is reported to the agent who wrote it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update

from gateway.messages import utcnow
from gateway.store.models import AuditEvent, Lead, Message
from tests.conftest import wait_until

PHONE = "+13055550123"
WA = f"whatsapp:{PHONE}"
ANA = "+13055550101"
CONTENT_SID = "HX" + "0123456789abcdef" * 2


@pytest.fixture
def agents_file(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    agent = {
        "key": "ana", "name": "Ana García", "phone": ANA, "languages": ["en"],
        "timezone": "America/New_York", "hours": {"daily": "00:00-23:59"},
        "notify": ["sms"], "max_open_leads": 3,
    }
    path.write_text(yaml.safe_dump({"agents": [agent]}))
    return path


async def accepted(stack: Any) -> str:
    """A WhatsApp lead asks for an agent and Ana accepts; returns the code."""
    await stack.sms("hello", channel="whatsapp")
    await stack.twilio.wait_for(WA, 1)
    await stack.sms("agent please", channel="whatsapp")
    alert = (await stack.twilio.wait_for(ANA, 1))[-1]
    code = next(w for w in alert.body.replace(":", " ").split() if w.isdigit() and len(w) >= 4)
    await stack.sms(f"ACCEPT {code}", phone=ANA)
    await stack.twilio.wait_for(WA, 3)  # the bot's line, then "Ana will help you"
    await stack.twilio.wait_for(ANA, 2)
    return code


async def age_whatsapp_messages(stack: Any, hours: float) -> None:
    """Move the lead's WhatsApp messages back in time (the clock itself stays)."""
    async with stack.services.store.transaction() as s:
        await s.execute(update(Message).where(Message.channel == "whatsapp", Message.direction
                                              == "in").values(
            received_at=utcnow() - timedelta(hours=hours)))


async def told(stack: Any, count: int, text: str) -> str:
    got = await stack.twilio.wait_for(ANA, count)
    assert text in got[-1].body, got[-1].body
    return got[-1].body


async def test_closed_window_without_template_tells_the_agent_and_sends_nothing(
    make_stack: Any, agents_file: Path
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await accepted(stack)
        await age_whatsapp_messages(stack, 25)
        before = len(stack.twilio.to(WA))
        await stack.sms("Hi! Are you still looking?", phone=ANA)
        body = await told(stack, 3, "over 24 hours ago")
        assert code in body and "Call or text them by SMS" in body
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(WA)) == before  # no free text attempted
        async with stack.services.store.maker() as s:
            ev = await s.scalar(select(AuditEvent).where(
                AuditEvent.type == "relay.whatsapp_window_closed"))
        assert ev is not None and ev.data["template"] is False


async def test_closed_window_sends_the_approved_template_once(
    make_stack: Any, agents_file: Path
) -> None:
    whatsapp = {"reengage_content_sid": CONTENT_SID,
                "variables": {"1": "{lead_name}", "2": "{agent_name}"}}
    async with make_stack(agents_path=agents_file, whatsapp=whatsapp) as stack:
        await accepted(stack)
        await age_whatsapp_messages(stack, 30)
        before = len(stack.twilio.to(WA))
        await stack.sms("Hi! Are you still looking?", phone=ANA)
        await told(stack, 3, "approved WhatsApp template")
        sent = (await stack.twilio.wait_for(WA, before + 1))[-1]
        assert sent.form["ContentSid"] == CONTENT_SID and "Body" not in sent.form
        assert json.loads(sent.form["ContentVariables"]) == {"1": "Ana", "2": "Ana"}
        # A second relay while still closed: the template is not sent again.
        await stack.sms("Just checking in", phone=ANA)
        await told(stack, 4, "approved WhatsApp template")
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(WA)) == before + 1
        # The lead answers: the window is open, the agent's text goes as text again.
        await stack.sms("Yes, still looking", channel="whatsapp")
        await stack.twilio.wait_for(ANA, 5)  # relayed to Ana
        await stack.sms("Great, let's talk", phone=ANA)
        got = await stack.twilio.wait_for(WA, before + 2)
        assert got[-1].body == "Great, let's talk"


async def test_failed_relay_63016_is_told_to_the_agent(
    make_stack: Any, agents_file: Path
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await accepted(stack)
        before = len(stack.twilio.to(WA))
        stack.twilio.fail_next(400, 63016)
        await stack.sms("Here is the listing", phone=ANA)
        body = await told(stack, 3, "was not delivered")
        assert code in body and "24-hour window" in body
        assert len(stack.twilio.to(WA)) == before

        # Accepted by the API, failed later: the status callback says so.
        await stack.sms("And the second one", phone=ANA)
        sid = (await stack.twilio.wait_for(WA, before + 1))[-1].sid

        async def stored() -> bool:
            async with stack.services.store.maker() as s:
                return await s.scalar(select(Message.id).where(Message.provider_id == sid)
                                      ) is not None
        await wait_until(stored, what="relay stored with its sid")
        assert await stack.status_callback(sid, "undelivered", "63016") == 204
        await told(stack, 4, "24-hour window")
        # Twilio repeats a callback: the agent is told once.
        assert await stack.status_callback(sid, "failed", "63016") == 204
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(ANA)) == 4
        async with stack.services.store.maker() as s:
            lead = await s.scalar(select(Lead).where(Lead.phone == PHONE))
            events = (await s.scalars(select(AuditEvent).where(
                AuditEvent.type == "relay.failed"))).all()
        assert lead is not None and not lead.opted_out
        assert [e.data["code"] for e in events] == ["63016", "63016"]
