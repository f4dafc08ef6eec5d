"""Missed calls: the call rings an agent; no-answer, busy or failed texts the caller back in
their likely language within seconds, once per CallSid; a voicemail joins the lead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gateway.store.models import AuditEvent, IntakeRecord, Lead
from tests.conftest import ACCOUNT_SID, FROM_NUMBER, sign

CALLER = "+13055550177"
SPANISH_NUMBER = "+13055550177"  # config/pronto.yml: the number on the Spanish-language ads
WORKING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in Miami
NIGHT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)  # Wednesday 03:30 in Miami: nobody on call


async def call(stack: Any, path: str, **params: str) -> tuple[int, str]:
    body = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "1" * 32, "From": "+13055550142",
            "To": FROM_NUMBER, **params}
    url = f"{stack.settings.public_url}{path}"
    headers = {"X-Twilio-Signature": sign(url, body)}
    async with stack.http.post(f"{stack.base}{path}", data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_a_call_rings_the_working_agent_then_a_missed_one_is_texted_back_once(
        make_stack: Any) -> None:
    async with make_stack(clock=lambda: WORKING, brokerage="Coral Realty") as stack:
        status, twiml = await call(stack, "/webhooks/twilio/voice")
        assert status == 200 and "<Dial timeout=\"20\"" in twiml
        assert "/webhooks/twilio/voice/status" in twiml and "<Number>+1305555010" in twiml
        status, twiml = await call(stack, "/webhooks/twilio/voice/status",
                                   DialCallStatus="no-answer")
        assert status == 200 and "<Record" in twiml and "<Say language=\"en-US\">" in twiml
        sent = await stack.twilio.wait_for("+13055550142")
        assert sent[0].body == "[en] Hi there, this is the Coral Realty assistant about call."
        # Twilio retries the callback: nobody is texted twice.
        await call(stack, "/webhooks/twilio/voice/status", DialCallStatus="no-answer")
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to("+13055550142")) == 1
        async with stack.services.store.maker() as session:
            lead = (await session.scalars(select(Lead))).one()
            assert (lead.source, lead.phone) == ("call", "+13055550142")


async def test_at_night_the_caller_goes_straight_to_voicemail_and_a_spanish_text(
        make_stack: Any) -> None:
    async with make_stack(clock=lambda: NIGHT) as stack:
        _, twiml = await call(stack, "/webhooks/twilio/voice", To=SPANISH_NUMBER)
        assert "<Dial" not in twiml and "<Say language=\"es-MX\">" in twiml
        sent = await stack.twilio.wait_for("+13055550142")
        assert sent[0].body.startswith("[es] ")
        # The voicemail is attached to the lead; a recording URL off Twilio's host is not.
        await call(stack, "/webhooks/twilio/voice/status",
                   RecordingUrl="http://169.254.169.254/latest", RecordingDuration="9")
        await call(stack, "/webhooks/twilio/voice/status",
                   RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                   RecordingDuration="14")
        async with stack.services.store.maker() as session:
            record = (await session.scalars(select(IntakeRecord))).one()
            assert record.data["recording_url"].startswith("https://api.twilio.com/")
            kinds = set(await session.scalars(select(AuditEvent.type)))
            assert "call.voicemail" in kinds


async def test_an_answered_call_texts_nobody(make_stack: Any) -> None:
    async with make_stack(clock=lambda: WORKING) as stack:
        await call(stack, "/webhooks/twilio/voice")
        status, _ = await call(stack, "/webhooks/twilio/voice/status",
                               DialCallStatus="completed")
        assert status == 200
        await asyncio.sleep(0.3)
        assert stack.twilio.sent == []


async def test_an_unsigned_or_forged_call_is_refused(make_stack: Any) -> None:
    async with make_stack(clock=lambda: WORKING) as stack:
        async with stack.http.post(f"{stack.base}/webhooks/twilio/voice",
                                   data={"CallSid": "CAx", "From": "+13055550142"},
                                   headers={"X-Twilio-Signature": "forged"}) as resp:
            assert resp.status == 403
        async with stack.http.post(f"{stack.base}/webhooks/twilio/voice/status",
                                   data={"CallSid": "CAx", "DialCallStatus": "no-answer"}
                                   ) as resp:
            assert resp.status == 403
        assert stack.twilio.sent == []
