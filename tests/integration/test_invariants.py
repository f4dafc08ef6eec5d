"""DESIGN §1.9, checked at the quiet points of whole scenarios through the real stack (fake Rasa,
fake Twilio, real Redis and SQL): every waiting conversation has a pending timer or an owner,
every queued send an owner, every pending timer a place in the Redis index."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gateway.store.models import Conversation, Message, Timer
from tests.conftest import free_port, wait_until
from tests.fakes.rasa import FakeRasa
from tests.integration.handoff_harness import MONDAY_10AM, Clock, harness
from tests.integration.invariants import assert_invariants, violations

PHONE = "+13055550166"
AGENT_PHONES = ("+13055550101", "+13055550102", "+13055550103", "+13055550104")  # agents.yml


async def quiet(stack: Any) -> None:
    """Wait until the queue is drained and nothing is mid-send."""
    s = stack.services

    async def idle() -> bool:
        async with s.store.maker() as session:
            unsent = await session.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "out", Message.status == "queued",
                Message.provider_id.is_(None)))
        return await s.queue.depth() == 0 and not unsent

    await wait_until(idle, what="a quiet stack")


async def check(stack: Any) -> None:
    s = stack.services
    await quiet(stack)
    await assert_invariants(s.store, timers=s.timers, queue=s.queue)


async def status(stack: Any) -> str:
    async with stack.services.store.maker() as s:
        q = select(Conversation.status).order_by(Conversation.id.desc()).limit(1)
        return str(await s.scalar(q))


async def test_a_bot_conversation_keeps_the_invariant(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("Hi, I want to buy a condo", phone=PHONE)
        await stack.twilio.wait_for(PHONE)
        await check(stack)
        await stack.sms("In Brickell, 2 bedrooms", phone=PHONE)
        await stack.twilio.wait_for(PHONE, 2)
        await check(stack)


async def test_rasa_down_the_retry_timer_owns_the_unanswered_message(make_stack: Any) -> None:
    port = free_port()
    async with make_stack(rasa_url=f"http://127.0.0.1:{port}", rasa_retry_seconds=30) as stack:
        await stack.sms("Hola, quiero comprar una casa", phone=PHONE)
        await stack.twilio.wait_for(PHONE)  # the acknowledgement
        s = stack.services

        async def retry_pending() -> bool:
            async with s.store.maker() as session:
                return bool(await session.scalar(select(func.count()).select_from(Timer).where(
                    Timer.status == "pending")))

        await wait_until(retry_pending, what="the bot retry timer")
        await check(stack)  # waiting for the bot, owned by its retry timer
        rasa = await FakeRasa(port=port).start()
        try:
            async with s.store.transaction() as session:  # due now rather than in 30 s
                for t in (await session.execute(select(Timer))).scalars():
                    t.due_at = s.clock()
            await s.timers.rebuild()
            await stack.twilio.wait_for(PHONE, 2, timeout=15)
            await check(stack)
        finally:
            await rasa.stop()


async def test_handoff_accept_and_close_keep_the_invariant(make_stack: Any) -> None:
    async with make_stack(clock=Clock(MONDAY_10AM)) as stack:
        await stack.sms("Hi, I'd like to buy a house", phone=PHONE)
        await stack.twilio.wait_for(PHONE)
        await stack.sms("agent please", phone=PHONE)

        def alerts() -> list[Any]:
            return [m for m in stack.twilio.sent if m.to in AGENT_PHONES]

        async def alerted() -> bool:
            return bool(alerts())

        await wait_until(alerted, what="an agent alert")
        alert = alerts()[0]
        code = re.search(r"\b(\d{4,6})\b", alert.body)
        assert code, alert.body
        assert await status(stack) == "pending"
        await check(stack)  # waiting for an accept: the accept timers

        await stack.sms(f"ACCEPT {code.group(1)}", phone=alert.to)

        async def owned() -> bool:
            return await status(stack) == "agent"

        await wait_until(owned, what="the accept")
        await check(stack)
        await stack.sms(f"DONE {code.group(1)} won", phone=alert.to)

        async def closed() -> bool:
            return await status(stack) == "closed"

        await wait_until(closed, what="the close")
        await check(stack)


async def test_a_conversation_in_the_pool_has_a_next_step(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, intent="sell", location="Brickell", name="Tom")
        for _ in range(6):
            await h.advance(5)
        assert (await h.conversation(lead)).status == "pool"
        assert await violations(h.store, timers=h.timers) == []
