"""Workers: consume partitions of the inbound queue, fire due timers, and keep house.

Each partition is held by one worker at a time through a Redis lease that the holder renews;
live workers split the partitions evenly (heartbeats in a sorted set). Inside a partition,
events of one key run strictly in order; different keys run concurrently. An event is
acknowledged only after it was processed, so a killed worker's entries are taken over by the
next holder of its partitions (at-least-once; the pipeline dedupes).

Next to the timers, the periodic loop owns what no single request does: the outbox sweeper
sends queued messages a dead process left behind (`Outbox.sweep`), and conversations nobody
touched for the configured inactivity are closed (`gateway.handoff.closing.close_idle`), and
messages left waiting for the bot with no next step are resumed (`gateway.bot_stalls`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gateway import metrics
from gateway.bot_stalls import resume_stalled
from gateway.handoff.closing import close_idle
from gateway.infra.outbound import Outbox
from gateway.infra.queue import Event, InboundQueue
from gateway.infra.timers import Timers

log = logging.getLogger(__name__)
OUTAGE_ALERT_SECONDS = 300.0
"""An event waiting out a SQL/Redis outage this long is logged at ERROR (once)."""
TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError,
             ConnectionError, TimeoutError, PoolTimeoutError)
"""Errors of the infrastructure, not of the event: retried until it is back."""
Handler = Callable[[Event], Awaitable[None]]

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Worker:
    """One worker: partition consumers plus the timer and housekeeping loop."""

    def __init__(
        self,
        queue: InboundQueue,
        timers: Timers,
        handler: Handler,
        *,
        lease_seconds: float = 15.0,
        timer_interval: float = 0.2,
        max_in_flight: int = 32,
        max_attempts: int = 3,
        worker_id: str | None = None,
        outbox: Outbox | None = None,
        sweep_interval: float = 5.0,
        idle_close_after: timedelta | None = None,
        close_interval: float = 300.0,
        stall_after: timedelta | None = None,
        stall_interval: float = 30.0,
        side_tasks: Sequence[Callable[[], Awaitable[None]]] = (),
        status_sweep: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """Create a worker.

        Args:
            queue: the inbound queue.
            timers: the timer service (its handlers registered).
            handler: processes one queue event.
            lease_seconds: partition lease.
            timer_interval: seconds between timer runs.
            max_in_flight: events processed concurrently at most; the rest wait in the
                queue (most of those in flight wait for a Rasa slot).
            max_attempts: tries per event before it is parked in the dead stream.
            worker_id: this worker's name (default: host and a nonce).
            outbox: sweep its queued messages left by dead processes (None: no sweeper).
            sweep_interval: seconds between outbox sweeps.
            idle_close_after: close conversations untouched this long (None: never).
            close_interval: seconds between inactivity checks; the first one runs an interval
                after the start, not at it.
            stall_after: resume messages pending for the bot this long with no retry timer
                (None: no stall sweep).
            stall_interval: seconds between stall sweeps.
            side_tasks: loops run next to the consumers while the worker runs (the
                acknowledgement lane), cancelled when it stops.
            status_sweep: applies delivery status callbacks kept until their message's row
                was there (`gateway.delivery_status.apply_kept`), every `sweep_interval`.
        """
        self.queue = queue
        self.redis = queue.redis
        self.timers = timers
        self.handler = handler
        self.lease_ms = int(lease_seconds * 1000)
        self.timer_interval = timer_interval
        self.max_attempts = max_attempts
        self.id = worker_id or f"{socket.gethostname()}-{secrets.token_hex(4)}"
        self._sem = asyncio.Semaphore(max_in_flight)
        self._owned: dict[int, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self.outbox = outbox
        self.idle_close_after = idle_close_after
        self.stall_after = stall_after
        self.status_sweep = status_sweep
        self._every = {"sweep": sweep_interval, "close": close_interval, "stalls": stall_interval,
                       "statuses": sweep_interval}
        # Closing fortnight-idle conversations can wait an interval after a start: at the
        # start itself it raced the first messages of a process whose clock is not the one
        # their arrival was stamped with (a test's fake clock), closing a conversation just
        # opened; the other jobs recover work and run at once.
        self._last: dict[str, float] = {"close": time.monotonic()}
        self._side = tuple(side_tasks)

    def _lease_key(self, p: int) -> str:
        return f"{self.queue.prefix}:partition-lease:{p}"

    @property
    def _heartbeats(self) -> str:
        return f"{self.queue.prefix}:workers"

    async def run(self) -> None:
        """Run until `stop()`; safe to cancel."""
        await self.queue.ensure_groups()
        log.info("worker %s started", self.id)
        tasks = [
            asyncio.create_task(self._balance_loop(), name="balance"),
            asyncio.create_task(self._timer_loop(), name="timers"),
            *(asyncio.create_task(_logged(side), name="side") for side in self._side),
        ]
        try:
            await self._stop.wait()
        finally:
            self._stop.set()
            for t in tasks:
                await _cancel(t)
            await self._release_all()
            log.info("worker %s stopped", self.id)

    def stop(self) -> None:
        """Ask the worker to stop after the events in flight."""
        self._stop.set()

    # -- partitions ----------------------------------------------------------------------------

    async def _balance_loop(self) -> None:
        interval = self.lease_ms / 3000
        while not self._stop.is_set():
            try:
                await self._balance()
            except Exception:
                log.exception("partition balancing failed")
            await asyncio.sleep(interval)

    async def _balance(self) -> None:
        now = time.time()
        owned = list(self._owned.items())
        # One round trip: the heartbeat, the live count, and every held lease renewed.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self._heartbeats, {self.id: now})
            pipe.zremrangebyscore(self._heartbeats, "-inf", now - self.lease_ms / 1000)
            pipe.zcard(self._heartbeats)
            for p, _task in owned:
                pipe.eval(_RENEW, 1, self._lease_key(p), self.id, self.lease_ms)
            replies = await pipe.execute()
        live = max(1, int(replies[2]))
        target = math.ceil(self.queue.partitions / live)
        for (p, task), ok in zip(owned, replies[3:], strict=True):  # drop lost ones
            if not ok or task.done():
                await self._drop(p)
        for p in range(self.queue.partitions):
            if len(self._owned) >= target:
                break
            if p in self._owned:
                continue
            if await self.redis.set(self._lease_key(p), self.id, nx=True, px=self.lease_ms):
                self._owned[p] = asyncio.create_task(self._consume(p), name=f"partition-{p}")
        while len(self._owned) > target:  # give back to a newcomer
            await self._drop(max(self._owned))
        metrics.QUEUE_DEPTH.set(await self.queue.depth())

    async def _drop(self, p: int) -> None:
        task = self._owned.pop(p, None)
        if task is not None:
            await _cancel(task)
        await self.redis.eval(_RELEASE, 1, self._lease_key(p), self.id)

    async def _release_all(self) -> None:
        for p in list(self._owned):
            await self._drop(p)
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self.redis.zrem(self._heartbeats, self.id)

    async def _consume(self, p: int) -> None:
        for event in await self.queue.claim_abandoned(p, self.id):
            await self._dispatch(event)
        # The flag as well as cancellation: redis-py can swallow a cancel that lands inside a
        # blocking read, and the loop must still end.
        while not self._stop.is_set() and p in self._owned:
            for event in await self.queue.read(p, self.id, block_ms=200):
                await self._dispatch(event)

    async def _dispatch(self, event: Event) -> None:
        """Start processing after the previous event of the same key (in-order per key)."""
        await self._sem.acquire()
        previous = self._tails.get(event.key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[event.key] = done

        async def run() -> None:
            try:
                if previous is not None:
                    await asyncio.shield(previous)
                await self._process(event)
            finally:
                done.set_result(None)
                if self._tails.get(event.key) is done:
                    del self._tails[event.key]
                self._sem.release()

        task = asyncio.create_task(run())
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _process(self, event: Event) -> None:
        waiting: list[float] = [0.0]  # seconds this event has waited out an outage
        try:
            await self._attempts(event, waiting)
        finally:
            if waiting[0]:
                metrics.WAITING_OUTAGE.dec()

    async def _attempts(self, event: Event, waiting: list[float]) -> None:
        attempt = 1
        outage_wait = 0.5
        while attempt <= self.max_attempts:
            try:
                try:
                    await self.handler(event)
                except DBAPIError as exc:
                    # A connection lost mid-statement is the database's, not the event's.
                    if exc.connection_invalidated:
                        raise ConnectionError("sql connection lost") from exc
                    raise
                break
            except TRANSIENT as exc:
                # SQL or Redis is away (restart, failover, network): not this event's fault.
                # Wait it out with backoff, without using up an attempt, so an outage parks
                # nothing in the dead stream; a stop leaves the entry unacknowledged for the
                # next holder of the partition.
                log.warning("event %s waits for SQL/Redis to come back (%.1f s): %s",
                            event.entry_id, outage_wait, type(exc).__name__)
                if self._stop.is_set():
                    return
                if not waiting[0]:
                    metrics.WAITING_OUTAGE.inc()
                await asyncio.sleep(outage_wait)
                waiting[0] += outage_wait
                if waiting[0] >= OUTAGE_ALERT_SECONDS > waiting[0] - outage_wait:
                    # Once per event: the gauge says how many wait, this says for how long.
                    log.error("event %s has waited %.0f s for SQL/Redis: the outage is not "
                              "passing (the event is kept and retried)", event.entry_id,
                              waiting[0])
                outage_wait = min(outage_wait * 2, 30.0)
                continue
            except Exception:
                log.exception(
                    "event %s (%s) failed, attempt %d", event.entry_id, event.type, attempt
                )
                if attempt == self.max_attempts:
                    # Park it where an operator can see it rather than blocking the key forever.
                    await self.redis.xadd(
                        f"{self.queue.prefix}:dead",
                        {"key": event.key, "type": event.type, "entry": event.entry_id},
                        maxlen=10000,
                    )
                else:
                    await asyncio.sleep(0.5 * attempt)
                attempt += 1
        await self.queue.ack(event)

    # -- timers ------------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.timers.run_due(self.id)
            except Exception:
                log.exception("timer loop failed")
            await self.housekeeping()
            await asyncio.sleep(self.timer_interval)

    async def housekeeping(self, *, force: bool = False) -> int:
        """Run the periodic jobs that are due (all of them when `force`); returns the work done.

        Each job fails alone: a failure is logged and the job runs again at its next turn.
        """
        done = 0
        if self.outbox is not None and self._due("sweep", force):
            done += await self._job("outbox sweep", self.outbox.sweep())
        if self.status_sweep is not None and self._due("statuses", force):
            done += await self._job("early status callbacks", self.status_sweep())
        if self.idle_close_after is not None and self._due("close", force):
            done += await self._job("idle close", close_idle(
                self.timers.store, self.timers, idle=self.idle_close_after,
                now=self.timers.clock(),
            ))
        if self.stall_after is not None and self._due("stalls", force):
            done += await self._job("stall sweep", resume_stalled(
                self.timers, older_than=self.stall_after, now=self.timers.clock()))
        return done

    def _due(self, job: str, force: bool) -> bool:
        now = time.monotonic()
        last = self._last.get(job)
        if force or last is None or now - last >= self._every[job]:
            self._last[job] = now
            return True
        return False

    async def _job(self, name: str, work: Awaitable[int]) -> int:
        try:
            return await work
        except Exception:
            log.exception("%s failed", name)
            return 0

    # -- burst mode (tests, `pronto worker --burst`) ----------------------------------------------

    async def run_burst(self, max_seconds: float = 30.0) -> int:
        """Process everything queued and every due timer, then return the events handled."""
        await self.queue.ensure_groups()
        handled = 0
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            progressed = 0
            for p in range(self.queue.partitions):
                events = await self.queue.claim_abandoned(p, self.id)
                events += await self.queue.read(p, self.id, block_ms=1)
                for event in events:
                    await self._process(event)
                    progressed += 1
            progressed += await self.timers.run_due(self.id)
            progressed += await self.housekeeping(force=True)
            handled += progressed
            if not progressed:
                break
        return handled


async def _logged(side: Callable[[], Awaitable[None]]) -> None:
    """Run a side loop; a crash is logged, not raised into the worker."""
    try:
        await side()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("worker side task failed")


async def _cancel(task: asyncio.Task[None], attempts: int = 20) -> None:
    """Cancel a task and wait until it has really ended.

    A cancellation delivered inside some redis-py calls can be swallowed; cancelling again
    (bounded) makes shutdown finish instead of hanging on the task.
    """
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: a failure at shutdown is not "never retrieved"
    elif not task.done():
        log.error("task %s did not stop", task.get_name())
