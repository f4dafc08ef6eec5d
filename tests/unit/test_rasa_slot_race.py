"""`RasaSlots` without I/O: a slot taken is seen as taken by the next lead at once, even before
the first lead's turn has begun, so a saturated worker acknowledges the next lead now rather
than after its whole budget (the race a loaded CI machine found)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gateway.rasa_slots import RasaSlots
from gateway.store.models import Message


def _new() -> Message:
    return Message(received_at=datetime.now(UTC))


async def _no_ack() -> None:
    raise AssertionError("a free slot needs no acknowledgement")


async def test_a_slot_taken_is_seen_taken_before_its_turn_begins() -> None:
    slots = RasaSlots(cap=1, budget=2.0)
    first = asyncio.ensure_future(slots.take(_new(), in_budget=True, ack=_no_ack))
    await asyncio.sleep(0)  # the first lead is inside `take`, its turn not yet begun
    assert slots.ack_due(_new())  # one slot, taken, no pace measured: acknowledge at once
    assert await first is False
    slots.done(None)
    assert not slots.ack_due(_new())  # free again: Rasa may answer in time


async def test_waiting_for_a_taken_slot_with_no_pace_acknowledges_at_once() -> None:
    slots = RasaSlots(cap=1, budget=2.0)
    assert await slots.take(_new(), in_budget=True, ack=_no_ack) is False
    loop = asyncio.get_running_loop()
    acked_at: list[float] = []

    async def ack() -> None:
        acked_at.append(loop.time())

    t0 = loop.time()
    second = asyncio.ensure_future(slots.take(_new(), in_budget=True, ack=ack))
    await asyncio.sleep(0.2)
    assert acked_at and acked_at[0] - t0 < 0.1  # not after the 2 s budget
    assert not second.done()  # it still waits for the slot
    slots.done(0.5)
    assert await second is True
    slots.done(0.5)


async def test_a_known_pace_that_fits_waits_without_an_acknowledgement() -> None:
    slots = RasaSlots(cap=1, budget=2.0)
    await slots.take(_new(), in_budget=True, ack=_no_ack)
    slots.done(0.1)  # pace 0.02 s after one turn (moving average from 0)
    await slots.take(_new(), in_budget=True, ack=_no_ack)
    second = asyncio.ensure_future(slots.take(_new(), in_budget=True, ack=_no_ack))
    await asyncio.sleep(0.05)
    slots.done(0.1)
    assert await second is False  # the slot came in time: one text, the answer
    slots.done(0.1)


async def test_a_cancelled_wait_gives_no_slot_away() -> None:
    slots = RasaSlots(cap=1, budget=2.0)
    await slots.take(_new(), in_budget=False, ack=_no_ack)
    waiter = asyncio.ensure_future(slots.take(_new(), in_budget=False, ack=_no_ack))
    await asyncio.sleep(0.01)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    slots.done(None)
    assert not slots.ack_due(_new()) and slots.waiting == 0
