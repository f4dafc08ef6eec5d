"""`RasaSlots`' budget arithmetic without I/O: the acknowledgement's own recent cost comes off
the wait for Rasa (under load it takes a second, so it must start that much earlier), and a
worker whose slots are held by turns that outlast a wait says it is backlogged (the lane then
acknowledges at once)."""

from __future__ import annotations

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
