"""The acknowledgement lane (`gateway.ack_lane`): with a backlog in front of Rasa, new leads are
acknowledged at the lane's moment, once, in their language, and the pipeline records it; the
lane leaves alone whoever is not a new lead or writes a compliance keyword. Real Redis and
SQL, the real twilio client against the fake Twilio API, a slow fake Rasa."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from gateway.ack_lane import FAILED, LANE, MAIN, MAIN_SAW, SENT, claim_first, claim_key
from gateway.messages import Inbound
from gateway.store.models import AuditEvent, Identity, Message
from tests.conftest import wait_until
from tests.fakes.rasa import FakeRasa

ACK_EN, ACK_ES = "Thanks for reaching out", "Gracias por escribir"


async def _ack_rows(stack: Any, phone: str) -> list[Message]:
    async with stack.services.store.maker() as s:
        lead_id = await s.scalar(select(Identity.lead_id).where(Identity.address == phone))
        rows = await s.scalars(select(Message).where(
            Message.lead_id == lead_id, Message.direction == "out", Message.author == "system"))
        return list(rows)


async def test_a_backlog_still_gets_every_new_lead_acknowledged_in_time_once(
        make_stack: Any) -> None:
    """One event at a time in the worker, one Rasa slot, a 1 s Rasa: six new leads at once wait
    in the queue up to six seconds, and each hears from us at the lane's moment (60 % of 0.7 s)."""
    slow = await FakeRasa(delay=1.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=0.7, rasa_concurrency=1,
                              worker_in_flight=1) as stack:
            loop = asyncio.get_running_loop()
            phones = [f"+1305555088{i}" for i in range(6)]
            texts = ["Hi, I want to buy a house", "Hola, busco casa en Doral"] * 3
            t0 = loop.time()
            await asyncio.gather(*(stack.sms(t, phone=p) for p, t in zip(phones, texts,
                                                                         strict=True)))
            firsts = await asyncio.gather(*(stack.twilio.wait_for(p, 1) for p in phones))
            for (first,) in firsts:
                assert first.at - t0 < 1.5, "acknowledged late"
            # The ones the pipeline could not reach in time were the lane's, in their language.
            acked = [(f[0].to, f[0].body) for f in firsts if ACK_EN in f[0].body
                     or ACK_ES in f[0].body]
            assert len(acked) >= 4
            for phone, body in acked:
                spanish = texts[phones.index(phone)].startswith("Hola")
                assert (ACK_ES if spanish else ACK_EN) in body
            for p in phones:  # then the bot's answer, once, after at most one acknowledgement
                sent = await stack.twilio.wait_for(p, 2 if (p, firsts[phones.index(p)][0].body)
                                                   in acked else 1, timeout=30)
                assert not (ACK_EN in sent[-1].body or ACK_ES in sent[-1].body)
            await asyncio.sleep(0.5)
            assert all(len(stack.twilio.to(p)) <= 2 for p in phones)
            assert len(slow.requests) == 6
            # Every acknowledgement is recorded: one outbound row with Twilio's sid and status,
            # and its audit event.
            for phone, _ in acked:
                async def recorded(phone: str = phone) -> bool:
                    return len(await _ack_rows(stack, phone)) == 1

                await wait_until(recorded, what=f"the acknowledgement of {phone} recorded")
                (row,) = await _ack_rows(stack, phone)
                assert row.status == "queued"  # what Twilio answered; its callbacks follow
                assert row.provider_id == stack.twilio.to(phone)[0].sid
            async with stack.services.store.maker() as s:
                lane = list(await s.scalars(select(AuditEvent).where(
                    AuditEvent.type == "bot.ack_sent")))
            assert len(lane) == len(acked)
    finally:
        await slow.stop()


async def test_a_backlogged_bot_gets_a_new_lead_acknowledged_at_once(make_stack: Any) -> None:
    """The only Rasa slot is held by a 3 s turn and the worker takes one event at a time: the
    bot cannot answer the next new lead in time, so the lane acknowledges it at once, not at its
    usual moment (60 % of 2 s = 1.2 s after the webhook; before, always then). Once, in its
    language, and the bot's answer still follows."""
    slow = await FakeRasa(delay=3.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=2.0, rasa_concurrency=1,
                              worker_in_flight=1) as stack:
            loop = asyncio.get_running_loop()
            blocker, queued = "+13055550911", "+13055550912"
            await stack.sms("Hi, I want to sell", phone=blocker)  # holds the only slot
            await asyncio.sleep(0.3)
            t0 = loop.time()
            await stack.sms("Hola, busco casa en Doral", phone=queued)
            (first,) = await stack.twilio.wait_for(queued, 1, timeout=5)
            assert ACK_ES in first.body
            assert first.at - t0 < 0.8, f"acknowledged {first.at - t0:.2f} s after the webhook"
            sent = await stack.twilio.wait_for(queued, 2, timeout=20)  # then the bot's answer
            assert ACK_ES not in sent[1].body and ACK_EN not in sent[1].body
            await asyncio.sleep(0.5)
            assert len(stack.twilio.to(queued)) == 2
    finally:
        await slow.stop()


async def test_the_lane_leaves_known_leads_and_keywords_to_the_pipeline(
        make_stack: Any) -> None:
    slow = await FakeRasa(delay=1.2).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=0.5, rasa_concurrency=1,
                              worker_in_flight=1) as stack:
            known, blocker, stopper = "+13055550901", "+13055550902", "+13055550903"
            await stack.sms("Hi, I want to buy a house", phone=known)
            await stack.twilio.wait_for(known, 2, timeout=10)  # acknowledged, then answered
            await stack.sms("Hi, I want to sell", phone=blocker)  # holds the only slot
            await asyncio.sleep(0.1)
            await stack.sms("Doral", phone=known, sid="SM" + "a" * 32)
            await stack.sms("STOP", phone=stopper, sid="SM" + "b" * 32)
            redis = stack.services.redis

            await asyncio.sleep(1.0)  # past the lane's moment (0.3 s): it looked and let go
            # Nothing of the lane's on either: no claim, or the pipeline's once it started.
            assert await redis.get(claim_key("sms", "SM" + "a" * 32)) in (None, MAIN)
            sent = await stack.twilio.wait_for(stopper, 1, timeout=15)
            assert sent[0].body != "" and ACK_EN not in sent[0].body  # the STOP confirmation
            assert await redis.get(claim_key("sms", "SM" + "b" * 32)) in (None, MAIN)
            await stack.twilio.wait_for(known, 3, timeout=15)
            await asyncio.sleep(0.5)
            assert sum(ACK_EN in s.body for s in stack.twilio.to(known)) == 1  # the first only
            assert len(stack.twilio.to(stopper)) == 1
    finally:
        await slow.stop()


async def test_one_claim_decides_who_acknowledges(make_stack: Any) -> None:
    async with make_stack() as stack:
        s, redis = stack.services, stack.services.redis

        def inbound(sid: str) -> Inbound:
            return Inbound(channel="sms", address="+13055550999", text="hi", provider_id=sid)

        assert (await claim_first(s, inbound("SM1"))).ours  # the pipeline first: its own
        assert await redis.get(claim_key("sms", "SM1")) == MAIN
        assert (await claim_first(s, inbound("SM1"))).ours  # a redelivery keeps it
        await redis.set(claim_key("sms", "SM2"), LANE)
        claim = await claim_first(s, inbound("SM2"))  # the lane is sending
        assert not claim.ours and claim.lane_send is None
        assert await redis.get(claim_key("sms", "SM2")) == MAIN_SAW  # so it queues the record
        await redis.set(claim_key("sms", "SM3"), SENT + json.dumps({"sid": "SMx"}))
        claim = await claim_first(s, inbound("SM3"))  # the lane sent: record it here
        assert not claim.ours and claim.lane_send == {"sid": "SMx"}
        await redis.set(claim_key("sms", "SM4"), FAILED)
        assert (await claim_first(s, inbound("SM4"))).ours  # the lane failed: ours, outbox


async def test_a_new_lead_writing_twice_in_the_backlog_is_acknowledged_once(
        make_stack: Any) -> None:
    slow = await FakeRasa(delay=1.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=0.5, rasa_concurrency=1,
                              worker_in_flight=1) as stack:
            blocker, twice = "+13055550911", "+13055550912"
            await stack.sms("Hi, I want to sell", phone=blocker)  # holds the only slot
            await asyncio.sleep(0.05)
            await stack.sms("Hi", phone=twice)
            await stack.sms("I want to buy a house in Doral", phone=twice)
            sent = await stack.twilio.wait_for(twice, 3, timeout=20)  # an ack, two answers
            await asyncio.sleep(0.5)
            acks = [s for s in stack.twilio.to(twice) if ACK_EN in s.body]
            assert len(acks) == 1 and sent[0] is acks[0], [s.body[:30] for s in sent]
            assert len(stack.twilio.to(twice)) == 3

            async def recorded() -> bool:
                return len(await _ack_rows(stack, twice)) == 1

            await wait_until(recorded, what="the one acknowledgement recorded")
            (row,) = await _ack_rows(stack, twice)
            assert row.provider_id == acks[0].sid
    finally:
        await slow.stop()


async def test_a_send_the_pipeline_went_by_is_recorded_by_its_event(make_stack: Any) -> None:
    """The lane finished sending after the pipeline stored the message: its `ack_sent` event
    records the send on the lead, with the audit event."""
    from gateway.ack_lane import record_lane_ack

    async with make_stack() as stack:
        phone = "+13055550921"
        await stack.sms("Hi, I want to buy", phone=phone, sid="SM" + "c" * 32)
        await stack.twilio.wait_for(phone, 1)
        await record_lane_ack(stack.services, {
            "channel": "sms", "kind": "phone", "address": phone, "provider_id": "SM" + "c" * 32,
            "sid": "SM" + "e" * 32, "status": "queued", "text": "Thanks for reaching out",
            "language": "en", "at": "2030-01-01T12:00:00+00:00", "send_ms": 3.5})
        (row,) = await _ack_rows(stack, phone)
        assert (row.provider_id, row.status, row.language) == ("SM" + "e" * 32, "queued", "en")
        async with stack.services.store.maker() as s:
            (event,) = list(await s.scalars(select(AuditEvent).where(
                AuditEvent.type == "bot.ack_sent")))
            inbound = await s.scalar(select(Message).where(Message.direction == "in"))
        assert event.data["lane"] is True and event.data["message_id"] == inbound.id


async def test_a_message_the_pipeline_is_working_on_is_left_to_it(make_stack: Any) -> None:
    """A new lead's message taken by the pipeline before the lane's moment gets no lane
    acknowledgement, however long the pipeline's own work then takes: within the budget the
    bot answers, past it the pipeline acknowledges (once)."""
    slow = await FakeRasa(delay=1.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=0.5) as stack:
            phone = "+13055550931"
            await stack.sms("Hi, I want to buy a house", phone=phone, sid="SM" + "f" * 32)
            sent = await stack.twilio.wait_for(phone, 2, timeout=10)  # one ack, the answer
            assert ACK_EN in sent[0].body and ACK_EN not in sent[1].body
            assert await stack.services.redis.get(claim_key("sms", "SM" + "f" * 32)) == MAIN
            await asyncio.sleep(0.5)
            assert len(stack.twilio.to(phone)) == 2
    finally:
        await slow.stop()
