"""Appointments and feedback through the real pipeline (fake Rasa and Twilio, real Redis and
SQL, a clock the test moves): APPT confirms to the prospect and reminds, "C" confirms; after
DONE won the prospect is asked CSAT, a low score alerts the team lead with the transcript
link, and the dashboard shows the score per agent."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.store.models import Agent, Appointment, AuditEvent, Feedback
from tests.conftest import wait_until

PHONE = "+13055550142"
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in Miami
CARMEN = "+13055550105"  # the team lead in config/agents.yml


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def handed_to_agent(stack: Any) -> tuple[str, str]:
    """The prospect asks for a person; the alerted agent accepts. Returns (phone, code)."""
    await stack.sms("Hi", phone=PHONE)
    await stack.twilio.wait_for(PHONE)
    await stack.sms("agent please", phone=PHONE)
    async with stack.services.store.maker() as session:
        agents = set(await session.scalars(select(Agent.phone)))

    async def alerted() -> bool:
        return any(s.to in agents for s in stack.twilio.sent)
    await wait_until(alerted, what="an agent alert")
    alert = next(s for s in stack.twilio.sent if s.to in agents)
    code = re.search(r"\b(\d{4})\b", alert.body).group(1)  # type: ignore[union-attr]
    await stack.sms(f"ACCEPT {code}", phone=alert.to)
    await stack.twilio.wait_for(alert.to, 2)

    async def introduced() -> bool:  # "Ana … is now helping you"
        return any("is now helping you" in s.body for s in stack.twilio.to(PHONE))
    await wait_until(introduced, what="the agent's introduction")
    return alert.to, code


async def last_to(stack: Any, phone: str, n: int) -> str:
    return (await stack.twilio.wait_for(phone, n, timeout=15))[-1].body


async def test_an_appointment_is_confirmed_reminded_and_confirmed_back(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        agent, code = await handed_to_agent(stack)
        n_lead = len(stack.twilio.to(PHONE))
        n_agent = len(stack.twilio.to(agent))
        await stack.sms(f"APPT {code} tomorrow 5pm", phone=agent)
        booked = await last_to(stack, PHONE, n_lead + 1)
        assert "Wed Dec 2 at 5:00 PM" in booked and booked.startswith("You're booked with ")
        told = await last_to(stack, agent, n_agent + 1)
        # In the agent's own language (Ana and Luis read Spanish first).
        assert told.startswith((f"Appointment for lead {code} set: Wed Dec 2 at 5:00 PM",
                                f"Cita del cliente {code} registrada: mié 2 de dic a las 17:00"))
        async with stack.services.store.maker() as session:
            appt = (await session.scalars(select(Appointment))).one()
        assert appt.starts_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 22, 0, tzinfo=UTC)

        clock.now = datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)  # 24 h before
        reminder = await last_to(stack, PHONE, n_lead + 2)
        assert reminder.startswith("Reminder: you meet ")
        await stack.sms("C", phone=PHONE)

        async def confirmed() -> bool:
            async with stack.services.store.maker() as session:
                return (await session.scalar(select(Appointment.status))) == "confirmed"
        await wait_until(confirmed, what="the confirmation")
        # The agent owns the lead: they see the prospect's answer relayed.
        assert "C" in await last_to(stack, agent, n_agent + 2)


async def test_a_bad_time_gets_the_agent_the_usage(make_stack: Any) -> None:
    async with make_stack(clock=Clock(NOON)) as stack:
        agent, code = await handed_to_agent(stack)
        n_agent = len(stack.twilio.to(agent))
        await stack.sms(f"APPT {code} whenever works", phone=agent)
        usage = await last_to(stack, agent, n_agent + 1)
        assert usage.startswith(("I couldn't read that time", "No entendí la hora"))
        assert f" {code} " in usage


async def test_after_a_won_close_csat_is_asked_and_a_low_score_alerts_the_team_lead(
        make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        agent, code = await handed_to_agent(stack)
        await stack.sms(f"DONE {code} won", phone=agent)

        async def scheduled() -> bool:
            async with stack.services.store.maker() as session:
                return (await session.scalar(select(AuditEvent.id).where(
                    AuditEvent.type == "conversation.closed"))) is not None
        await wait_until(scheduled, what="the close")
        n_lead = len(stack.twilio.to(PHONE))
        clock.now = NOON + timedelta(days=1, seconds=5)
        question = await last_to(stack, PHONE, n_lead + 1)
        assert question.startswith("Hi! How did ") and "Reply 1 (poor) to 5 (great)" in question
        n_boss = len(stack.twilio.to(CARMEN))
        await stack.sms("honestly a 2", phone=PHONE)
        assert await last_to(stack, PHONE, n_lead + 2) == "Thank you for your feedback!"
        alert = await last_to(stack, CARMEN, n_boss + 1)
        assert alert.startswith(("Low CSAT score 2 for ", "Puntuación CSAT baja (2) para "))
        assert "/admin/leads/" in alert and "s=" in alert  # the signed transcript link
        async with stack.services.store.maker() as session:
            fb = (await session.scalars(select(Feedback).where(Feedback.kind == "csat"))).one()
        assert fb.score == 2 and fb.agent_id is not None
        # The answer never reached the assistant.
        assert all(r["message"] != "honestly a 2" for r in stack.rasa.requests)
        async with stack.http.get(f"{stack.base}/admin/agents",
                                  headers={"Authorization": "Bearer admin-test-token"}) as r:
            page = await r.text()
        assert "2.0" in page and "(n=1" in page


async def test_a_lead_closed_as_lost_gets_one_check_in_after_90_days(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        agent, code = await handed_to_agent(stack)
        await stack.sms(f"DONE {code} lost", phone=agent)

        async def closed() -> bool:
            async with stack.services.store.maker() as session:
                return (await session.scalar(select(AuditEvent.id).where(
                    AuditEvent.type == "conversation.closed"))) is not None
        await wait_until(closed, what="the close")
        n_lead = len(stack.twilio.to(PHONE))
        clock.now = NOON + timedelta(days=2)  # the CSAT question (a lost lead gets one too)
        await last_to(stack, PHONE, n_lead + 1)
        clock.now = NOON + timedelta(days=90, minutes=1)
        check_in = await last_to(stack, PHONE, n_lead + 2)
        assert "Are you still thinking about a move?" in check_in
        assert "Reply STOP to opt out" in check_in
        clock.now = NOON + timedelta(days=200)
        await asyncio.sleep(1.0)
        assert len(stack.twilio.to(PHONE)) == n_lead + 2  # one check-in, not a series
