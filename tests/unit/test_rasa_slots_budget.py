"""`RasaSlots`' budget arithmetic without I/O: the acknowledgement's own recent cost comes off
the wait for Rasa (under load it takes a second, so it must start that much earlier), and a
worker whose slots are held by turns that outlast a wait says it is backlogged (the lane then
acknowledges at once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gateway.rasa_slots import RasaSlots
from gateway.store.models import Message


def _arrived(seconds_ago: float = 0.0) -> Message:
    return Message(received_at=datetime.now(UTC) - timedelta(seconds=seconds_ago))


async def _noop() -> None:
    return None


def test_the_wait_for_rasa_leaves_the_acknowledgements_recent_cost() -> None:
    slots = RasaSlots(cap=2, budget=2.5)
    msg = _arrived(0.5)
    assert slots.left(msg) == pytest.approx(2.0, abs=0.05)
    for _ in range(30):
        slots.acked(1.0)  # under load: a second from deciding to the send's answer
    assert slots.ack_cost == pytest.approx(1.0, abs=0.01)
    assert slots.left(msg) == pytest.approx(1.0, abs=0.05)
    slots.latency = 1.2  # a turn at the recent pace would end past what is left
    assert slots.ack_due(msg)


def test_one_slow_acknowledgement_moves_the_estimate_a_fifth() -> None:
    slots = RasaSlots(cap=2, budget=2.5)
    slots.acked(2.0)
    assert slots.ack_cost == pytest.approx(0.4)


async def test_backlogged_only_when_every_slot_is_held_by_turns_that_outlast_the_wait() -> None:
    slots = RasaSlots(cap=2, budget=2.5)
    assert not slots.backlogged(1.5)  # slots free
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    assert not slots.backlogged(1.5)  # one free still
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    assert slots.backlogged(1.5)  # all taken, no pace measured: a queued message waits
    slots.done(0.1)
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    # A quick pace (the average is 0.02 s after one 0.1 s turn): the next slot frees soon.
    assert not slots.backlogged(1.5)
    slots.latency = 1.2  # half a pace for its slot, then its own turn: 1.8 s
    assert slots.backlogged(1.5)
    assert not slots.backlogged(2.5)


async def test_a_queued_turn_is_acknowledged_as_soon_as_a_slower_pace_makes_it_late() -> None:
    # Judged in time when it queued (a quick pace), then the turn at Rasa takes 2 s: the
    # average moves to 0.48 s; the turn still ahead and its own outlast what is left.
    slots = RasaSlots(cap=1, budget=2.5)
    slots.latency = 0.1
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    ahead = asyncio.create_task(slots.take(_arrived(), in_budget=False, ack=_noop))
    acks: list[float] = []
    loop = asyncio.get_running_loop()

    async def ack() -> None:
        acks.append(loop.time())

    started = loop.time()
    late = asyncio.create_task(slots.take(_arrived(1.9), in_budget=True, ack=ack))
    await asyncio.sleep(0.05)
    assert acks == []  # 0.1 s a turn, one queued ahead: in time (0.6 s left)
    slots.done(2.0)  # the slot goes to the turn ahead; at 0.48 s a turn this one is late
    assert await ahead is False
    await asyncio.sleep(0.05)
    assert acks and acks[0] - started < 0.2  # at once, not at the budget's end (0.6 s)
    slots.done(0.1)  # then its slot
    assert await late is True
    slots.done(0.1)


async def test_a_queued_turn_the_pace_keeps_in_time_is_not_acknowledged() -> None:
    slots = RasaSlots(cap=1, budget=2.5)
    slots.latency = 0.1
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    acks: list[bool] = []

    async def ack() -> None:
        acks.append(True)

    queued = asyncio.create_task(slots.take(_arrived(), in_budget=True, ack=ack))
    await asyncio.sleep(0.05)
    slots.done(0.12)  # about the same pace: its slot comes, in time
    assert await queued is False
    assert acks == []
    slots.done(0.1)


async def test_a_turn_at_rasa_stops_waiting_when_the_pace_says_it_ends_too_late() -> None:
    slots = RasaSlots(cap=2, budget=2.5)
    slots.latency = 0.2
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    await slots.take(_arrived(), in_budget=False, ack=_noop)
    loop = asyncio.get_running_loop()
    call: asyncio.Future[None] = loop.create_future()
    started = loop.time()
    watching = asyncio.create_task(slots.watch(_arrived(1.5), call))  # 1 s left
    await asyncio.sleep(0.05)
    assert not watching.done()
    slots.done(8.0)  # the other turn took 8 s: the average is 1.76 s, past what is left
    assert await watching is False
    assert loop.time() - started < 0.3
    call.set_result(None)
    assert await slots.watch(_arrived(), call) is True  # done: in time
    slots.done(0.2)
