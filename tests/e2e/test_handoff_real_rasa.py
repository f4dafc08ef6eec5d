"""Handoff through the real pipeline: real Rasa and action server, fake Twilio, the team in
config/agents.yml, a controllable clock for the SLA ladder."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway.store.models import AuditEvent
from tests.conftest import FROM_NUMBER
from tests.integration.handoff_harness import Clock

pytestmark = pytest.mark.e2e

MONDAY_10AM_MIAMI = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ANA, CARMEN = "+13055550101", "+13055550105"
AGENTS = {"+13055550101", "+13055550102", "+13055550103", "+13055550104"}
PROSPECT = "+13055550999"


def _code(body: str) -> str:
    m = re.search(r"\b(\d{4})\b", body)
    assert m, body
    return m.group(1)


async def _ask_for_an_agent(stack: Any) -> None:
    await stack.sms("Hola, busco casa en Coral Gables", phone=PROSPECT)
    await stack.twilio.wait_for(PROSPECT, timeout=60)
    await asyncio.sleep(1.0)  # the greeting may come in several texts
    before = len(stack.twilio.to(PROSPECT))
    await stack.sms("quiero hablar con un agente por favor", phone=PROSPECT)
    told = await stack.twilio.wait_for(PROSPECT, before + 1, timeout=60)
    assert "{" not in told[-1].body  # the {agent_name} placeholder was filled


async def test_spanish_prospect_reaches_spanish_agent_who_accepts_by_sms_and_they_talk(
    make_stack: Any, rasa_url: str
) -> None:
    clock = Clock(MONDAY_10AM_MIAMI)
    async with make_stack(rasa_url=rasa_url, clock=clock, ack_budget_seconds=10.0) as stack:
        await _ask_for_an_agent(stack)
        alert = (await stack.twilio.wait_for(ANA, timeout=60))[0]
        assert alert.from_ == FROM_NUMBER and alert.body.startswith("Nuevo cliente")
        code = _code(alert.body)
        told = len(stack.twilio.to(PROSPECT))

        await stack.sms(f"aceptar {code}", phone=ANA)
        sent = await stack.twilio.wait_for(PROSPECT, told + 1, timeout=20)
        assert "Ana" in sent[-1].body  # told in Spanish who is helping
        assert "+13055550101" not in sent[-1].body  # the agent's number stays private

        await stack.sms("¿Podemos ver la casa el sábado?", phone=PROSPECT)
        relayed = await stack.twilio.wait_for(ANA, 3, timeout=20)  # alert, accept ack, relay
        assert "sábado" in relayed[-1].body and code in relayed[-1].body
        bot_turns = len([r for r in stack.twilio.to(PROSPECT)])

        await stack.sms("Claro, el sábado a las 11 le queda bien?", phone=ANA)
        sent = await stack.twilio.wait_for(PROSPECT, bot_turns + 1, timeout=20)
        assert sent[-1].body == "Claro, el sábado a las 11 le queda bien?"
        assert sent[-1].from_ == FROM_NUMBER
        await asyncio.sleep(1.0)
        assert len(stack.twilio.to(PROSPECT)) == bot_turns + 1  # the bot stayed silent
        async with stack.services.store.maker() as s:
            types = set((await s.execute(select(AuditEvent.type))).scalars())
        assert {"handoff.begin", "assignment.offered", "assignment.accepted",
                "relay.lead_to_agent", "relay.agent_to_lead"} <= types


async def test_no_accept_runs_the_ladder_to_the_team_lead(
    make_stack: Any, rasa_url: str
) -> None:
    clock = Clock(MONDAY_10AM_MIAMI)
    async with make_stack(rasa_url=rasa_url, clock=clock, ack_budget_seconds=10.0) as stack:
        await _ask_for_an_agent(stack)
        await stack.twilio.wait_for(ANA, timeout=60)
        for _ in range(20):
            if stack.twilio.to(CARMEN):
                break
            before = len(stack.twilio.sent)
            clock.now += timedelta(minutes=2, seconds=30)
            for _ in range(40):  # the in-process worker fires due timers within 0.2 s
                await asyncio.sleep(0.1)
                if len(stack.twilio.sent) > before:
                    break
        assert stack.twilio.to(CARMEN), "the team lead was never alerted"
        assert "Escalamiento" in stack.twilio.to(CARMEN)[0].body
        assert len(stack.twilio.to(ANA)) >= 2  # the first alert and the re-alert
        others = {s.to for s in stack.twilio.sent if s.to in AGENTS - {ANA}}
        assert others, "the lead was never reassigned to another agent"
        async with stack.services.store.maker() as s:
            events = (await s.execute(
                select(AuditEvent.type, AuditEvent.at).order_by(AuditEvent.id))).all()
        types = [t for t, _ in events]
        for step in ("assignment.offered", "escalation.realert", "assignment.expired",
                     "escalation.team_lead"):
            assert step in types, (step, types)
        assert types.index("escalation.realert") < types.index("assignment.expired") < (
            types.index("escalation.team_lead"))
