"""Follow-up of silent leads through the real pipeline (fake Rasa, fake Twilio, real Redis and
SQL) with a clock the test moves: the nudges go out at their offsets in the lead's language
with what is known, stop on a reply or a handoff, and wait for quiet hours to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.followup.silent import KINDS
from gateway.store.models import AuditEvent, Timer
from tests.conftest import wait_until

PHONE = "+13055550142"  # Miami (305): Florida's 8:00-20:00 window
# Ahead of the real clock, which parts of the stack still stamp (a fake time that has passed
# made the nudge test fail once the real afternoon went by it).
NOON = datetime(2030, 12, 3, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in Miami


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def texts_to(stack: Any, n: int) -> list[str]:
    return [s.body for s in await stack.twilio.wait_for(PHONE, count=n, timeout=15)]


async def test_a_silent_lead_is_nudged_at_10_minutes_then_1_hour_and_a_reply_stops_it(
        make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock, brokerage="Coral Realty") as stack:
        await stack.sms("Hi, looking for a place in Doral", phone=PHONE)
        assert len(await texts_to(stack, 1)) == 1  # the bot's question
        clock.now = NOON + timedelta(minutes=10, seconds=1)
        nudge = (await texts_to(stack, 2))[-1]
        assert nudge == "Still there? Just reply when you have a moment."
        clock.now = NOON + timedelta(hours=1, seconds=2)
        nudge = (await texts_to(stack, 3))[-1]
        assert nudge == "Still looking? I can get an agent on it as soon as you reply." \
            or nudge.startswith("Still looking in Doral")
        # The lead answers: the old sequence ends, the bot's next question starts a new one.
        await stack.sms("I want to buy", phone=PHONE)
        await texts_to(stack, 4)
        async with stack.services.store.maker() as session:
            pending = list(await session.scalars(select(Timer).where(
                Timer.kind.in_(KINDS), Timer.status == "pending")))
        assert len(pending) == 1 and pending[0].data["step"] == 0
        assert pending[0].due_at.replace(tzinfo=UTC) == clock.now + timedelta(minutes=10)


async def test_a_handoff_stops_the_nudges(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        await stack.sms("Hi", phone=PHONE)
        await texts_to(stack, 1)
        await stack.sms("agent please", phone=PHONE)
        await texts_to(stack, 2)
        async def no_followups() -> bool:
            async with stack.services.store.maker() as session:
                rows = await session.scalars(select(Timer).where(
                    Timer.kind.in_(KINDS), Timer.status == "pending"))
                return not list(rows)
        await wait_until(no_followups, what="follow-ups cancelled by the handoff")


async def test_a_nudge_due_at_night_goes_out_at_8_in_the_lead_zone(make_stack: Any) -> None:
    late = datetime(2030, 12, 4, 2, 55, tzinfo=UTC)  # 21:55 in Miami
    clock = Clock(late)
    async with make_stack(clock=clock) as stack:
        await stack.sms("Hola, busco casa", phone=PHONE)
        await texts_to(stack, 1)  # a reply is never held
        clock.now = late + timedelta(minutes=11)  # the 10-minute nudge is due at 22:05

        async def held() -> bool:
            async with stack.services.store.maker() as session:
                return (await session.scalar(select(AuditEvent.id).where(
                    AuditEvent.type == "followup.held"))) is not None
        await wait_until(held, what="the nudge to be held")
        assert len(stack.twilio.to(PHONE)) == 1
        clock.now = datetime(2030, 12, 4, 13, 0, 1, tzinfo=UTC)  # 8:00 in Miami
        nudge = (await texts_to(stack, 2))[-1]
        assert nudge == "¿Sigues ahí? Responde cuando tengas un momento."
        async with stack.services.store.maker() as session:
            sent = (await session.scalars(select(AuditEvent).where(
                AuditEvent.type == "followup.sent"))).one()
        assert sent.at.replace(tzinfo=UTC) >= datetime(2030, 12, 4, 13, 0, tzinfo=UTC)


async def test_an_opted_out_lead_gets_no_nudge(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        await stack.sms("Hi", phone=PHONE)
        await texts_to(stack, 1)
        await stack.sms("STOP", phone=PHONE)
        await texts_to(stack, 2)  # the one confirmation
        clock.now = NOON + timedelta(hours=2)
        async with stack.services.store.maker() as session:
            pending = list(await session.scalars(select(Timer).where(
                Timer.kind.in_(KINDS), Timer.status == "pending")))
        assert pending == []  # opting out cancelled every timer of the lead
        assert len(stack.twilio.to(PHONE)) == 2
