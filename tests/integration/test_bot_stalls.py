"""A message left waiting for the bot with no next step is resumed by the workers' stall sweep.

The window reproduced: Rasa was away, the lead was acknowledged and a `bot_retry` timer set;
the timer fired, and the process died before the queue event it appends after its commit. The
message is `pending`, with no timer and no queue entry: without the sweep it waits for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from gateway.keys import PIPELINE
from gateway.messages import utcnow
from gateway.pipeline import BOT_RETRY
from gateway.store.models import AuditEvent, Message, Timer
from gateway.worker import Worker
from tests.fakes.rasa import REPLIES, FakeRasa
from tests.integration.invariants import violations

PHONE = "+13055550168"


async def _pending(stack: Any) -> list[Message]:
    async with stack.services.store.maker() as s:
        return list((await s.execute(select(Message).where(
            Message.direction == "in", Message.bot_status == "pending"))).scalars())


@asynccontextmanager
async def rasa_away_for(
    make_stack: Any, text: str
) -> AsyncIterator[tuple[Any, Worker, FakeRasa]]:
    """A stack whose lead wrote `text` while Rasa was away: acknowledged, the message pending
    with a bot_retry timer; a worker with a 5-minute stall sweep; Rasa still stopped."""
    rasa = await FakeRasa().start()
    try:
        async with make_stack(fake_rasa=rasa, run_workers=False) as stack:
            s = stack.services
            worker = Worker(s.queue, s.timers, stack.app[PIPELINE].handle, worker_id="w1",
                            stall_after=timedelta(minutes=5))
            await rasa.stop()
            await stack.sms(text, phone=PHONE)
            await worker.run_burst(max_seconds=5)
            yield stack, worker, rasa
    finally:
        await rasa.stop()


async def test_a_message_stranded_without_a_next_step_is_answered(make_stack: Any) -> None:
    async with rasa_away_for(make_stack, "Hi, I want to buy a house") as (stack, worker, rasa):
        s = stack.services
        [ack] = await stack.twilio.wait_for(PHONE)
        [msg] = await _pending(stack)
        async with s.store.transaction() as session:
            # The timer fired and its process died before the queue append; the message
            # has waited ten minutes since.
            fired = await session.execute(
                update(Timer).where(Timer.kind == BOT_RETRY, Timer.status == "pending")
                .values(status="fired"))
            assert fired.rowcount == 1
            await session.execute(update(Message).where(Message.id == msg.id).values(
                received_at=utcnow() - timedelta(minutes=10)))
        await rasa.start()
        assert await violations(s.store) != []  # the invariant sees the stall too

        assert await worker.housekeeping(force=True) == 1
        await worker.run_burst(max_seconds=10)
        sent = await stack.twilio.wait_for(PHONE, count=2)
        assert [m.body for m in sent[1:]] == [REPLIES["en"]]
        assert await _pending(stack) == []
        assert await violations(s.store) == []
        async with s.store.maker() as session:
            audited = await session.scalar(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.type == "bot.stall_resumed"))
        assert audited == 1
        assert await worker.housekeeping(force=True) == 0  # nothing left to resume
        assert ack.body != REPLIES["en"]


async def test_a_recent_or_scheduled_message_is_left_alone(make_stack: Any) -> None:
    async with rasa_away_for(make_stack, "Hola, busco casa") as (stack, worker, _):
        s = stack.services
        [msg] = await _pending(stack)
        assert await worker.housekeeping(force=True) == 0  # recent: a turn may be running
        async with s.store.transaction() as session:
            await session.execute(update(Message).where(Message.id == msg.id).values(
                received_at=utcnow() - timedelta(minutes=10)))
        assert await worker.housekeeping(force=True) == 0  # old, but its retry is set
        async with s.store.maker() as session:
            timers = await session.scalar(select(func.count()).select_from(Timer)
                                          .where(Timer.kind == BOT_RETRY))
        assert timers == 1
