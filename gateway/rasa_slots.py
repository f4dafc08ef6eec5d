"""A worker's Rasa slots: at most `cap` turns at Rasa from one process (more only queue inside
Rasa), the recent pace of its turns, and what follows for the acknowledgement budget (from
arrival): acknowledge a lead at once, when its slot comes too late, or not at all.

A lead Rasa will answer inside the budget gets no acknowledgement (one text, not two in a
second); one that would wait past it hears from us within the budget at any rate. The budget
counts the acknowledgement's own cost (its transaction and send, `ack_cost`): under load that
takes a second, so the acknowledgement starts that much earlier.

The judgement is made again whenever a turn ends and the pace moves (`done`): a lead judged in
time when a burst began, at the pace measured before it, is acknowledged as soon as the slower
pace says its answer would come too late, not at its budget's end. Before, at 200 webhooks/s,
the leads a worker took on as a burst began were the slowest acknowledged (2.3 s at the median
from arrival to the queued text).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.pipeline_steps import budget_left
from gateway.store.models import Message


@dataclass(eq=False)
class _Waiter:
    """A turn waiting for its slot, or (`started` set) at Rasa, with its lead's budget."""

    msg: Message
    judged: bool
    """Whether to tell it when its answer would come too late (it has not acknowledged)."""
    started: float | None = None
    late: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    """Done when the recent pace says its answer would come past its budget."""


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
        self._queue: dict[int, _Waiter] = {}
        """Turns waiting for a slot, first come first (the semaphore's order)."""
        self._running: dict[int, _Waiter] = {}
        """Turns at Rasa whose leads still wait to hear from us (`watch`)."""
        self._tickets = itertools.count()

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

    def _queued_late(self, msg: Message, ahead: int) -> bool:
        """Whether a turn with `ahead` turns before it in the queue would end past its budget:
        slots free about every latency / cap seconds, then its own turn."""
        return self.latency * ((ahead + 1) / self.cap + 1) > self.left(msg)

    def _judge(self, now: float) -> None:
        """Tell every waiting turn whose answer, at the recent pace, would now come too late."""
        for ahead, w in enumerate(self._queue.values()):
            if w.judged and not w.late.done() and self._queued_late(w.msg, ahead):
                w.late.set_result(None)
        for w in self._running.values():
            # At Rasa for `now - started` of a turn that takes `latency`: what remains of it.
            if (not w.late.done() and w.started is not None
                    and self.latency - (now - w.started) > self.left(w.msg)):
                w.late.set_result(None)

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
        ticket, waiter = next(self._tickets), _Waiter(msg, in_budget)
        self._queue[ticket] = waiter
        self.waiting += 1
        try:
            if in_budget:
                left = self.left(msg) - self.latency
                either: set[asyncio.Future[Any]] = {acquire, waiter.late}
                await asyncio.wait(either, timeout=max(left, 0),
                                   return_when=asyncio.FIRST_COMPLETED)
                if not acquire.done():
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
            del self._queue[ticket]
            waiter.late.cancel()

    async def watch(self, msg: Message, call: asyncio.Future[Any]) -> bool:
        """Wait for a turn at Rasa while what is left of its lead's budget allows; whether it
        ended in time. It stops early when the pace, moved by turns ending meanwhile, says
        this one would end too late (the caller acknowledges then)."""
        left = self.left(msg)
        if left <= 0:
            return call.done()
        ticket = next(self._tickets)
        waiter = _Waiter(msg, True, asyncio.get_running_loop().time())
        self._running[ticket] = waiter
        try:
            await asyncio.wait({call, waiter.late}, timeout=left,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            del self._running[ticket]
            waiter.late.cancel()
        return call.done()

    def done(self, took: float | None) -> None:
        """The turn ended (`took` seconds; None when it failed): the slot is free again."""
        self._slots.release()
        if took is not None:
            self.latency = 0.8 * self.latency + 0.2 * took  # recent turns weigh most
            self._judge(asyncio.get_running_loop().time())
