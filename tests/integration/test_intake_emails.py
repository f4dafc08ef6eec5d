"""Lead emails: a Zillow notification forwarded over real SMTP (loopback) and an inbound-parse
webhook become leads with a first text; an unparseable email is kept for an admin."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.intake.wiring import SMTP_PORT
from gateway.store.models import Consent, IntakeRecord, Lead
from tests.conftest import free_port

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
SECRET = "email-hook-secret"


def clock() -> datetime:
    return NOON


def send_smtp(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("forwarder@sunshine-realty.example.com", ["leads@pronto.example"], raw)


async def test_a_zillow_email_over_smtp_becomes_a_lead_with_its_first_text(
        make_stack: Any) -> None:
    async with make_stack(clock=clock, smtp_host="127.0.0.1", smtp_port=free_port(),
                          brokerage="Sunshine Realty") as stack:
        port = stack.app[SMTP_PORT]
        raw = (EMAILS / "zillow_multipart.eml").read_bytes()
        await asyncio.to_thread(send_smtp, port, raw)
        sent = await stack.twilio.wait_for("+13055550142")
        assert sent[0].body == ("[en] Hi Jane Doe, this is the Sunshine Realty assistant "
                                "about 1234 Ocean Dr, Miami Beach, FL 33139.")
        await asyncio.to_thread(send_smtp, port, raw)  # forwarded twice: one lead, one text
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to("+13055550142")) == 1
        async with stack.services.store.maker() as session:
            lead = (await session.scalars(select(Lead))).one()
            assert (lead.source, lead.email, lead.listing["mls_id"]) == (
                "zillow", "jane.doe@example.com", "A11223344")
            consent = (await session.scalars(select(Consent))).one()
            assert consent.kind == "portal" and "Zillow" in consent.wording


async def test_a_spanish_portal_email_is_answered_in_spanish(make_stack: Any) -> None:
    async with make_stack(clock=clock, smtp_host="127.0.0.1", smtp_port=free_port()) as stack:
        raw = (EMAILS / "zillow_spanish_qp.eml").read_bytes()
        await asyncio.to_thread(send_smtp, stack.app[SMTP_PORT], raw)
        await _wait_lead(stack)
        async with stack.services.store.maker() as session:
            lead = (await session.scalars(select(Lead))).one()
        sent = await stack.twilio.wait_for(lead.phone)
        assert sent[0].body.startswith("[es] ")


async def test_the_webhook_needs_its_secret_and_keeps_an_unparseable_email(
        make_stack: Any) -> None:
    async with make_stack(clock=clock, email_webhook_secret=SECRET) as stack:
        url = f"{stack.base}/webhooks/email"
        news = (EMAILS / "newsletter.eml").read_bytes()
        async with stack.http.post(url, data={"email": news.decode()}) as resp:
            assert resp.status == 403
        async with stack.http.post(url, data={"email": news.decode()},
                                   headers={"X-Pronto-Email-Secret": "wrong"}) as resp:
            assert resp.status == 403
        async with stack.http.post(url, data={"nothing": "x"},
                                   headers={"X-Pronto-Email-Secret": SECRET}) as resp:
            assert resp.status == 400
        async with stack.http.post(url, data={"email": news.decode()},
                                   headers={"X-Pronto-Email-Secret": SECRET}) as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "unparsed"
        async with stack.services.store.maker() as session:
            record = (await session.scalars(select(IntakeRecord))).one()
            assert record.status == "unparsed" and record.raw and "Subject:" in record.raw
            assert record.data["reason"]
            assert (await session.scalars(select(Lead))).all() == []
        realtor = (EMAILS / "realtor_base64.eml").read_bytes()
        async with stack.http.post(f"{url}?secret={SECRET}",
                                   data={"email": realtor.decode()}) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["status"] == "accepted"


async def test_a_lead_metadata_email_has_no_consent_basis_so_an_agent_is_alerted(
        make_stack: Any) -> None:
    async with make_stack(clock=clock, email_webhook_secret=SECRET) as stack:
        raw = (EMAILS / "metadata_plain.eml").read_bytes()
        async with stack.http.post(f"{stack.base}/webhooks/email?secret={SECRET}",
                                   data={"email": raw.decode()}) as resp:
            assert (await resp.json())["status"] == "accepted"
        await _wait_lead(stack)

        async def alerted() -> bool:
            async with stack.services.store.maker() as session:
                rec = (await session.scalars(select(IntakeRecord))).one()
                return rec.data.get("touch") == "no_consent"
        for _ in range(100):
            if await alerted():
                break
            await asyncio.sleep(0.05)
        assert await alerted()
        async with stack.services.store.maker() as session:
            lead = (await session.scalars(select(Lead))).one()
        assert stack.twilio.to(lead.phone) == [] and stack.twilio.sent  # the agent's alert


async def _wait_lead(stack: Any) -> None:
    for _ in range(200):
        async with stack.services.store.maker() as session:
            if (await session.scalars(select(Lead))).first() is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no lead")


async def test_an_email_only_lead_is_written_to_by_email_and_its_reply_continues(
        make_stack: Any) -> None:
    from email import message_from_bytes, policy

    from tests.fakes.smtp_server import FakeSmtp

    smtp = FakeSmtp()
    await smtp.start()
    try:
        async with make_stack(clock=clock, intake_token="k", email_webhook_secret=SECRET,
                              email_smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                              email_from="Coral Realty <leads@coral.example>",
                              brokerage="Coral Realty") as stack:
            form = {"source": "website", "external_id": "mail-1", "name": "Ana Ruiz",
                    "email": "ana.ruiz@example.com", "message": "Is it available?",
                    "listing": {"address": "9 Bay Rd"}, "consent": {"text": "OK to contact"}}
            async with stack.http.post(f"{stack.base}/api/leads", json=form,
                                       headers={"Authorization": "Bearer k"}) as resp:
                assert resp.status == 201
            for _ in range(200):
                if smtp.mails:
                    break
                await asyncio.sleep(0.05)
            first = smtp.mails[0].message
            assert first["To"] == "ana.ruiz@example.com"
            assert first["Reply-To"] == "Coral Realty <leads@coral.example>"
            assert "Hi Ana Ruiz, this is the Coral Realty assistant about 9 Bay Rd" in \
                first.get_content()
            reply = (b"From: Ana Ruiz <Ana.Ruiz@example.com>\r\nTo: leads@coral.example\r\n"
                     b"Subject: Re: Your inquiry\r\nMessage-ID: <r1@example.com>\r\n"
                     b"Content-Type: text/plain; charset=utf-8\r\n\r\nI want to buy\r\n\r\n"
                     b"On Tue, Dec 1, 2026 Coral Realty wrote:\r\n> Hi Ana Ruiz, this is\r\n")
            async with stack.http.post(f"{stack.base}/webhooks/email?secret={SECRET}",
                                       data={"email": reply.decode()}) as resp:
                assert resp.status == 200
            for _ in range(200):
                if len(smtp.mails) >= 2:
                    break
                await asyncio.sleep(0.05)
            assert len(smtp.mails) == 2  # the assistant answered by email
            asked = [r["message"] for r in stack.rasa.requests]
            assert asked[-1] == "I want to buy"  # only the new text, not the quote
            async with stack.services.store.maker() as session:
                leads = (await session.scalars(select(Lead))).all()
            assert len(leads) == 1  # the reply is the same lead, not a new one
            assert message_from_bytes(smtp.mails[1].data, policy=policy.default)["To"] == \
                "ana.ruiz@example.com"
    finally:
        await smtp.stop()
