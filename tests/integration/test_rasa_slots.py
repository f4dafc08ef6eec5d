"""Rasa's slots and the acknowledgement budget (`gateway.rasa_slots`): with every slot busy, a
lead Rasa will still answer in time gets one text (the answer), and a lead whose slot would
come too late is acknowledged within the budget, then answered. Real Redis and SQL, the real
twilio client against the fake Twilio API, a fake Rasa that takes a fixed time a turn."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.fakes.rasa import FakeRasa

ACK = "Thanks for reaching out"


async def _pace(stack: Any, phone: str) -> None:
    """One turn first, so the worker knows Rasa's pace (before any, saturation acknowledges)."""
    await stack.sms("Hi, I want to buy", phone=phone)
    await stack.twilio.wait_for(phone, 1, timeout=10)


async def test_saturated_but_in_time_means_one_text_not_an_acknowledgement_too(
        make_stack: Any) -> None:
    quick = await FakeRasa(delay=0.3).start()
    try:
        async with make_stack(fake_rasa=quick, ack_budget_seconds=2.5,
                              rasa_concurrency=1) as stack:
            await _pace(stack, "+13055550900")
            phones = [f"+1305555091{i}" for i in range(3)]
            await asyncio.gather(*(stack.sms("Hi, I want to buy", phone=p) for p in phones))
            for p in phones:  # one slot, 0.3 s a turn: the third is answered after ~0.9 s
                sent = await stack.twilio.wait_for(p, 1, timeout=10)
                assert sent[0].body.startswith("Hi! I'm the assistant")
            await asyncio.sleep(0.5)
            for p in phones:
                assert [s.body for s in stack.twilio.to(p) if ACK in s.body] == []
                assert len(stack.twilio.to(p)) == 1
    finally:
        await quick.stop()


async def test_a_slot_too_late_for_the_budget_means_an_acknowledgement_within_it(
        make_stack: Any) -> None:
    slow = await FakeRasa(delay=1.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=1.5,
                              rasa_concurrency=1) as stack:
            await _pace(stack, "+13055550920")
            phones = [f"+1305555093{i}" for i in range(3)]
            t0 = time.perf_counter()  # the clock the fake Twilio stamps sends with
            await asyncio.gather(*(stack.sms("Hi, I want to buy", phone=p) for p in phones))
            firsts = await asyncio.gather(*(stack.twilio.wait_for(p, 1, timeout=10)
                                            for p in phones))
            # One slot, 1 s a turn: the third lead's slot comes after 2 s, past the 1.5 s
            # budget, so it is acknowledged inside it (slack for a loaded machine).
            assert max(s[0].at for s in firsts) - t0 < 2.2
            acked = [p for p, s in zip(phones, firsts, strict=True) if ACK in s[0].body]
            assert acked  # at least the last one in line
            for p in phones:  # then every lead's answer, and one acknowledgement at most
                sent = await stack.twilio.wait_for(p, 2 if p in acked else 1, timeout=20)
                assert sent[-1].body.startswith("Hi! I'm the assistant")
                assert sum(ACK in s.body for s in stack.twilio.to(p)) <= 1
            assert len(slow.requests) == 4
    finally:
        await slow.stop()
