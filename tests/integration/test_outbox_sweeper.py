"""Queued sends always have an owner: a send lost in a crash (committed, after-commit hook never
run) is sent by any live process's sweeper once the lease lapses, and sweepers racing over the
same rows send each message exactly once (counted at the fake Twilio API)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from gateway.infra.outbound import Outbox
from gateway.keys import PIPELINE
from gateway.messages import Button, Outbound, utcnow
from gateway.store.models import Lead, Message
from gateway.worker import Worker
from tests.integration.handoff_harness import harness
from tests.integration.invariants import violations

PHONE = "+13055550177"


def later(seconds: float) -> Any:
    """A wall clock `seconds` ahead: another process looking after the lease lapsed."""
    return lambda: utcnow() + timedelta(seconds=seconds)


async def crash_after_commit(services: Any, bodies: list[str], **fields: Any) -> list[int]:
    """Commit queued messages the way `Outbox.queue` stores them, then "die": the session's
    after-commit hooks (the sends) run only in `Store.transaction`, which is not used here."""
    ids = []
    async with services.store.maker() as session, session.begin():
        for body in bodies:
            msg = await services.outbox.queue(session, channel="sms", address=PHONE, text=body,
                                              author=fields.get("author", "system"),
                                              lead_id=fields.get("lead_id"))
            ids.append(msg.id)
    return ids


async def statuses(services: Any, ids: list[int]) -> list[tuple[str | None, str | None]]:
    async with services.store.maker() as s:
        rows = (await s.execute(select(Message.status, Message.provider_id)
                                .where(Message.id.in_(ids)).order_by(Message.id))).all()
    return [(st, pid) for st, pid in rows]


async def test_a_send_lost_in_a_crash_is_sent_by_the_worker_sweeper(make_stack: Any) -> None:
    async with make_stack() as stack:
        s = stack.services
        [mid] = await crash_after_commit(s, ["left behind by a dead process"])
        await asyncio.sleep(0.3)
        assert stack.twilio.to(PHONE) == []  # nobody sent it: the hook died with its process

        # Another process, its lease not lapsed yet: it leaves the row to its owner.
        early = Outbox(s.store, s.outbox.channels, clock=later(60))
        assert await early.sweep() == 0

        # After the lease: a worker's periodic loop sweeps it.
        sweeper = Outbox(s.store, s.outbox.channels, clock=later(121))
        assert (await violations(s.store, now=utcnow() + timedelta(seconds=121))) != []
        worker = Worker(s.queue, s.timers, stack.app[PIPELINE].handle, outbox=sweeper,
                        worker_id="sweeper-worker")
        assert await worker.housekeeping() == 1
        sent = await stack.twilio.wait_for(PHONE)
        assert [m.body for m in sent] == ["left behind by a dead process"]
        # Twilio answers "queued" (its own queue): the provider id says it left Pronto.
        [(_, provider_id)] = await statuses(s, [mid])
        assert provider_id == sent[0].sid
        assert await sweeper.sweep() == 0  # sent rows are never taken again
        assert await violations(s.store, now=utcnow() + timedelta(seconds=121)) == []


async def test_racing_sweepers_send_each_message_exactly_once(make_stack: Any) -> None:
    async with make_stack() as stack:
        s = stack.services
        bodies = [f"left behind #{i}" for i in range(24)]
        ids = await crash_after_commit(s, bodies)
        stack.twilio.delay = 0.01  # sends overlap with the other sweeper's claims

        async def drain(outbox: Outbox) -> int:
            total = 0
            while n := await outbox.sweep(limit=4):
                total += n
            return total

        a = Outbox(s.store, s.outbox.channels, clock=later(121), owner="process-a")
        b = Outbox(s.store, s.outbox.channels, clock=later(121), owner="process-b")
        claimed = await asyncio.gather(drain(a), drain(b), drain(a), drain(b))
        assert sum(claimed) == len(bodies)
        counts = Counter(m.body for m in stack.twilio.to(PHONE))
        assert counts == Counter(bodies), counts  # each exactly once
        assert all(pid for _, pid in await statuses(s, ids))


async def test_a_message_sent_normally_is_not_swept_again(make_stack: Any) -> None:
    async with make_stack() as stack:
        s = stack.services
        async with s.store.transaction() as session:
            await s.outbox.queue(session, channel="sms", address=PHONE, text="sent at once",
                                 author="system")
        await stack.twilio.wait_for(PHONE)
        assert await Outbox(s.store, s.outbox.channels, clock=later(3600)).sweep() == 0
        assert [m.body for m in stack.twilio.to(PHONE)] == ["sent at once"]


async def test_stale_and_opted_out_sends_are_dropped_not_sent(make_stack: Any) -> None:
    async with make_stack() as stack:
        s = stack.services
        async with s.store.transaction() as session:
            lead = Lead(phone=PHONE, language="en", qualification={})
            session.add(lead)
            await session.flush()
            lead_id = lead.id
        [bot_msg] = await crash_after_commit(s, ["bot text"], author="bot", lead_id=lead_id)
        [old_msg] = await crash_after_commit(s, ["a day too late"])
        async with s.store.transaction() as session:
            await session.execute(update(Lead).where(Lead.id == lead_id).values(opted_out=True))
            await session.execute(update(Message).where(Message.id == old_msg).values(
                created_at=datetime.now(UTC) - timedelta(days=2)))
        assert await Outbox(s.store, s.outbox.channels, clock=later(121)).sweep() == 2
        assert stack.twilio.to(PHONE) == []
        async with s.store.maker() as session:
            rows = dict((await session.execute(
                select(Message.id, Message.error_code).where(Message.id.in_([bot_msg, old_msg]))
            )).all())
        assert rows == {bot_msg: "opted_out", old_msg: "stale"}


async def test_a_swept_telegram_alert_keeps_its_buttons(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        outbox = h.handoff.services.outbox
        buttons = (Button("Accept", "accept:4821"), Button("Pass", "pass:4821"))
        async with h.store.maker() as session, session.begin():
            await outbox.queue(session, channel="telegram", address="7101", text="New lead 4821",
                               author="system", buttons=buttons)
        assert h.telegram.sent == []
        assert await Outbox(h.store, outbox.channels, clock=later(121)).sweep() == 1
        [sent] = h.telegram.sent
        assert sent.text == "New lead 4821" and sent.buttons == buttons


async def test_a_send_lagging_past_its_lease_is_not_sent_again_by_its_own_sweeper(
    make_stack: Any,
) -> None:
    """One process, two paths: its after-commit send lags past the lease (a backlog), its own
    sweeper takes the row over meanwhile. The claim is per send, not per process, so the
    lagging send sees the row taken and skips it: one text, not two."""
    async with make_stack() as stack:
        s = stack.services
        [mid] = await crash_after_commit(s, ["sent once though two paths hold it"])
        async with s.store.maker() as session:
            row = await session.get(Message, mid)
            assert row is not None and row.claimed_by and row.claimed_until
            first_claim, first_until = row.claimed_by, row.claimed_until
        stack.twilio.delay = 0.5  # the sweeper's send is in flight while the lagging one wakes
        same = Outbox(s.store, s.outbox.channels, clock=later(121), owner=s.outbox.owner)
        sweeping = asyncio.create_task(same.sweep())
        for _ in range(100):
            async with s.store.maker() as session:
                row = await session.get(Message, mid)
                if row is not None and row.claimed_by != first_claim:
                    break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the sweeper did not claim the row")
        until = first_until if first_until.tzinfo else first_until.replace(tzinfo=UTC)
        out = Outbound(channel="sms", address=PHONE, text="sent once though two paths hold it",
                       message_id=mid)
        lagging = await same.deliver(out, lead_id=None, lease_until=until, claim=first_claim)
        assert await sweeping == 1
        assert lagging == "skipped"
        await asyncio.sleep(0.6)
        assert [m.body for m in stack.twilio.to(PHONE)] == ["sent once though two paths hold it"]


async def test_a_send_that_reached_twilio_before_its_process_died_is_not_resent(
    make_stack: Any,
) -> None:
    """Died after Twilio accepted the message and before the send was recorded: the sweeper
    asks Twilio's message list, finds it, and records it as sent instead of sending again."""
    async with make_stack() as stack:
        s = stack.services
        text = "reached Twilio, then the process died"
        [mid, other] = await crash_after_commit(s, [text, "never reached Twilio"])
        [result] = await s.channels["sms"].send(
            Outbound(channel="sms", address=PHONE, text=text, message_id=mid))
        assert await Outbox(s.store, s.outbox.channels, clock=later(121)).sweep() == 2
        bodies = [m.body for m in stack.twilio.to(PHONE)]
        assert bodies == [text, "never reached Twilio"]  # the first once, the second sent now
        assert [pid for _, pid in await statuses(s, [mid])] == [result.provider_id]
        assert all(pid for _, pid in await statuses(s, [mid, other]))


async def test_the_same_text_sent_for_another_row_is_not_taken_for_this_one(
    make_stack: Any,
) -> None:
    """A repeated text (the same template twice): the first was sent and recorded, the second
    was left behind before its send. Twilio's list has the first; it is the first row's, so the
    second is sent, not marked sent on the strength of the other's record."""
    async with make_stack() as stack:
        s = stack.services
        text = "We got your message and will answer shortly."
        async with s.store.transaction() as session:
            await s.outbox.queue(session, channel="sms", address=PHONE, text=text,
                                 author="system")
        await stack.twilio.wait_for(PHONE)
        await asyncio.sleep(0.3)  # the first send's record committed
        [left] = await crash_after_commit(s, [text])
        assert await Outbox(s.store, s.outbox.channels, clock=later(121)).sweep() == 1
        sent = await stack.twilio.wait_for(PHONE, count=2)
        assert [m.body for m in sent] == [text, text]
        assert [pid for _, pid in await statuses(s, [left])] == [sent[1].sid]
