"""Three leads that do not start by writing, through the real pipeline with the real model
(real Redis, SQL, Rasa and action server; fake Twilio): a form post, a Zillow email delivered
over real SMTP on loopback, and a missed call. Each makes one lead, gets its first text in its
language, then qualifies with the assistant and is handed to an agent."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.intake.wiring import SMTP_PORT
from gateway.store.models import Agent, Assignment, Lead
from tests.conftest import ACCOUNT_SID, FROM_NUMBER, free_port, sign
from tests.integration.handoff_harness import Clock

pytestmark = pytest.mark.e2e

TUESDAY_NOON_MIAMI = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
KEY = "e2e-intake-key"

# What a prospect answers to each of the assistant's questions (matched on its wording).
ANSWERS = {
    "en": [("buy, sell or rent", "I want to buy"), ("like to sell?", "Brickell"),
           ("which area", "Doral"), ("bedrooms", "3 bedrooms"),
           ("price are you hoping", "around 600k"), ("budget", "around 450k"),
           ("when", "in 2 months"), ("pay", "I'm pre-approved"), ("name", "Maria Lopez")],
    "es": [("comprar, vender o rentar", "quiero comprar"), ("qué zona", "Doral"),
           ("habitaciones", "3 habitaciones"), ("presupuesto", "unos 450 mil"),
           ("cuándo", "en 2 meses"), ("pagar", "tengo preaprobación"),
           ("nombre", "María Núñez")],
}
DONE = ("will contact you", "se pondrá en contacto")


async def qualify(stack: Any, phone: str, lang: str, *, goal: str | None = None) -> list[str]:
    """Answer the assistant's questions until it hands off; returns every text received."""
    seen = 0
    for _ in range(10):
        texts = [s.body for s in await stack.twilio.wait_for(phone, seen + 1, timeout=60)]
        await asyncio.sleep(0.8)  # an answer may come in several texts
        texts = [s.body for s in stack.twilio.to(phone)]
        seen = len(texts)
        last = texts[-1]
        if any(d in last for d in DONE):
            return texts
        low = last.lower()
        answer = goal if goal and "how can we help" in low else next(
            (a for cue, a in ANSWERS[lang] if cue in low), None)
        assert answer is not None, f"no scripted answer for {last!r}"
        goal = None
        await stack.sms(answer, phone=phone)
    raise AssertionError(f"no handoff after 10 answers: {texts}")


async def alerted(stack: Any) -> int:
    async with stack.services.store.maker() as session:
        agents = set(await session.scalars(select(Agent.phone)))
        offers = int(await session.scalar(select(func.count()).select_from(Assignment)) or 0)
    assert any(s.to in agents for s in stack.twilio.sent)
    return offers


def send_smtp(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("leads@forwarder.example.com", ["intake@pronto.example"], raw)


async def test_form_email_and_missed_call_each_reach_an_agent(
        make_stack: Any, rasa_url: str) -> None:
    clock = Clock(TUESDAY_NOON_MIAMI)
    async with make_stack(rasa_url=rasa_url, clock=clock, ack_budget_seconds=10.0,
                          intake_token=KEY, brokerage="Coral Realty",
                          smtp_host="127.0.0.1", smtp_port=free_port()) as stack:
        # 1. A website form, English.
        form = {"source": "website", "external_id": "e2e-1", "name": "Maria Lopez",
                "phone": "+13055550191", "message": "Is 123 Palm Ave still available?",
                "listing": {"address": "123 Palm Ave"},
                "consent": {"text": "I agree to be texted about my inquiry."}}
        async with stack.http.post(f"{stack.base}/api/leads", json=form,
                                   headers={"Authorization": f"Bearer {KEY}"}) as resp:
            assert resp.status == 201
        first = (await stack.twilio.wait_for("+13055550191", timeout=60))[0].body
        assert first.startswith("Hi Maria, this is the Coral Realty assistant")
        assert "123 Palm Ave" in first
        texts = await qualify(stack, "+13055550191", "en")
        assert "Maria" in texts[-1]  # the name came with the form: never asked
        assert not any("what's your name" in t.lower() for t in texts)
        assert await alerted(stack) == 1

        # 2. A Zillow email in Spanish, forwarded over SMTP.
        raw = (EMAILS / "zillow_spanish_qp.eml").read_bytes()
        await asyncio.to_thread(send_smtp, stack.app[SMTP_PORT], raw)
        first = (await stack.twilio.wait_for("+13055550178", timeout=60))[0].body
        assert first.startswith("Hola María, soy el asistente de Coral Realty"), first
        await qualify(stack, "+13055550178", "es")
        assert await alerted(stack) == 2

        # 3. A missed call: nobody answers, the caller is texted back and qualifies.
        caller = "+13055550193"
        for path, extra in (("/webhooks/twilio/voice", {}),
                            ("/webhooks/twilio/voice/status", {"DialCallStatus": "no-answer"})):
            params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "7" * 32, "From": caller,
                      "To": FROM_NUMBER, **extra}
            url = f"{stack.settings.public_url}{path}"
            async with stack.http.post(f"{stack.base}{path}", data=params,
                                       headers={"X-Twilio-Signature": sign(url, params)}) as r:
                assert r.status == 200
        first = (await stack.twilio.wait_for(caller, timeout=60))[0].body
        assert "sorry we missed your call" in first.lower()
        await qualify(stack, caller, "en", goal="I'd like to sell my condo")
        assert await alerted(stack) == 3

        async with stack.services.store.maker() as session:
            leads = {lead.phone: lead for lead in await session.scalars(select(Lead))}
        assert set(leads) == {"+13055550191", "+13055550178", "+13055550193"}
        assert (leads["+13055550191"].source, leads["+13055550178"].source,
                leads["+13055550193"].source) == ("website", "zillow", "call")
        assert leads["+13055550178"].language == "es"
