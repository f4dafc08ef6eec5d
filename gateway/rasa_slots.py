"""A worker's Rasa slots: at most `cap` turns at Rasa from one process (more only queue inside
Rasa), the recent pace of its turns, and what follows for the acknowledgement budget (from
arrival): acknowledge a lead at once, when its slot comes too late, or not at all.

A lead Rasa will answer inside the budget gets no acknowledgement (one text, not two in a
second); one that would wait past it hears from us within the budget at any rate. The budget
counts the acknowledgement's own cost (its transaction and send, `ack_cost`): under load that
takes a second, so the acknowledgement starts that much earlier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gateway.pipeline_steps import budget_left
from gateway.store.models import Message


class RasaSlots:
    """Slots, the waiting count, and the recent turn time (an exponential average)."""

    def __init__(self, cap: int, budget: float) -> None:
        """Args:
        cap: turns at Rasa at once from this process (`PRONTO_RASA_CONCURRENCY`).
        budget: the acknowledgement budget, seconds from the webhook's arrival.
        """
        self.cap, self.budget = cap, budget
        self._slots = asyncio.Semaphore(cap)
        self.waiting = 0
        self.latency = 0.0
        """Recent Rasa turn time, seconds (an exponential moving average)."""
        self.ack_cost = 0.0
        """Recent time from deciding to acknowledge to the send's answer, seconds (an
        exponential moving average): what the budget must leave for it."""

    def left(self, msg: Message) -> float:
        """Seconds left to wait for Rasa: the budget from arrival, less the acknowledgement's
        own recent cost."""
        return budget_left(self.budget, msg) - self.ack_cost

    def acked(self, took: float) -> None:
        """An acknowledgement went out `took` seconds after it was decided."""
        self.ack_cost = 0.8 * self.ack_cost + 0.2 * took

    def backlogged(self, within: float) -> bool:
        """Whether a message still queued now would wait past `within` seconds for an answer:
        every slot is taken and the turns waiting for one, at the recent pace, take longer (the
        acknowledgement lane then acknowledges a new lead at once, not at its usual moment)."""
        if not self._slots.locked():
            return False  # a slot is free now
        if self.latency <= 0:
            return True  # saturated before any turn was timed: no pace to judge by
        # Slots free one at a time, about every latency / cap seconds; then its own turn.
        return self.latency * ((self.waiting + 1) / self.cap + 1) > within

    def ack_due(self, msg: Message) -> bool:
        """Acknowledge at once, without waiting for a slot: the budget is spent already (the
        message queued), recent turns are slower than what is left, or every slot is busy and
        the turns waiting before this one, at the recent pace, would not leave it time."""
        left = self.left(msg)
        return left <= 0 or self.latency > left or self.backlogged(left)

    async def take(self, msg: Message, *, in_budget: bool,
                   ack: Callable[[], Awaitable[object]]) -> bool:
        """Take a slot. With `in_budget`, a slot that has not come while a turn at the recent
        pace would still end inside the budget is waited for after `ack()`; returns whether it
        acknowledged. The slot is never lost to an error or a cancellation."""
        if not self._slots.locked():
            # Free: taken without yielding to the loop, so no other lead can see it free too
            # and count on it (it would then wait out its whole budget for an acknowledgement).
            await self._slots.acquire()
            return False
        if in_budget and self.ack_due(msg):
            await ack()  # every slot is taken and the turns ahead would outlast the budget
            in_budget = False
            acked = True
        else:
            acked = False
        acquire = asyncio.ensure_future(self._slots.acquire())
        self.waiting += 1
        try:
            if in_budget:
                left = self.left(msg) - self.latency
                done, _ = await asyncio.wait({acquire}, timeout=max(left, 0))
                if not done:
                    await ack()  # the slot is late: the lead hears from us now
                    await asyncio.shield(acquire)
                    return True
            await asyncio.shield(acquire)
            return acked
        except BaseException:
            if acquire.done() and not acquire.cancelled() and acquire.exception() is None:
                self._slots.release()  # taken meanwhile: give it back
            else:
                acquire.cancel()
            raise
        finally:
            self.waiting -= 1

    def done(self, took: float | None) -> None:
        """The turn ended (`took` seconds; None when it failed): the slot is free again."""
        self._slots.release()
        if took is not None:
            self.latency = 0.8 * self.latency + 0.2 * took  # recent turns weigh most
