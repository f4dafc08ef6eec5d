"""The delivery loop: claim due deliveries with a lease, send them, retry with backoff.

Claiming is one conditional UPDATE over the candidates (pending, due, nobody's lease in force),
like the message outbox sweeper, so of several processes racing each delivery has one winner.
A delivery is a candidate only when no earlier delivery of the same (endpoint, lead) is still
pending: a CRM sees a lead's events in the order they happened, and an event that keeps
failing holds back the ones after it until it is delivered or dead-lettered.

Failures back off exponentially with jitter (so a receiver coming back is not hit by every
process at once), up to `retry.max_attempts` tries or `retry.max_age_hours`; a refusal (4xx)
is dead at once. Dead letters stay in SQL for the admin API to list and re-send.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from gateway.config.crm import CrmConfig
from gateway.crm.base import DeliveryFailed, Outgoing, Sender
from gateway.crm.envelope import TranscriptUrl, build_envelopes
from gateway.domain.utc import as_utc
from gateway.store.leads import Store
from gateway.store.models import CrmDelivery

log = logging.getLogger(__name__)
DELIVERIES = Counter(
    "pronto_crm_deliveries_total", "CRM delivery attempts by endpoint and outcome",
    ["endpoint", "outcome"],
)



class Dispatcher:
    """Delivers the CRM outbox (`crm_deliveries`) through the endpoints' adapters."""

    def __init__(
        self,
        store: Store,
        config: CrmConfig,
        senders: Mapping[str, Sender],
        *,
        transcript_url: TranscriptUrl,
        clock: Callable[[], datetime],
        owner: str | None = None,
        rng: Callable[[], float] = random.random,
        concurrency: int = 16,
    ) -> None:
        """Create the dispatcher.

        Args:
            store: the SQL store.
            config: the `crm:` section (endpoints, retry policy, lease, poll interval).
            senders: the adapter of each endpoint, by endpoint name.
            transcript_url: the dashboard link of a lead's transcript.
            clock: the time source for due times, leases and ages (tests move it).
            owner: this process's name in `claimed_by` (default: host, pid and a nonce).
            rng: jitter source in [0, 1).
            concurrency: deliveries in flight at most.
        """
        self.store, self.config, self.senders = store, config, senders
        self.transcript_url, self.clock, self.rng = transcript_url, clock, rng
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.lease = timedelta(seconds=config.section.lease_seconds)
        self._sem = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the delivery loop as a task of the running event loop."""
        self._task = asyncio.create_task(self._run(), name="crm-delivery")

    async def stop(self) -> None:
        """Stop the loop after the deliveries in flight."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        """Look for due deliveries now (a commit just owed some)."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stop.is_set():
            done = 0
            try:
                done = await self.run_once()
            except Exception:
                log.exception("crm delivery pass failed")
            if done:
                continue  # more may be due: the next event of a lead just delivered
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.section.poll_seconds)
            except TimeoutError:
                pass

    # -- one pass -------------------------------------------------------------------------------

    def _claimable(self, now: datetime) -> Any:
        d = CrmDelivery
        earlier = aliased(CrmDelivery)
        blocked = exists().where(
            earlier.endpoint == d.endpoint, earlier.lead_id == d.lead_id,
            earlier.id < d.id, earlier.status == "pending",
        )
        return and_(
            d.status == "pending",
            d.endpoint.in_(list(self.senders)),
            or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now),
            or_(d.claimed_until.is_(None), d.claimed_until < now),
            ~blocked,
        )

    async def run_once(self, limit: int = 100) -> int:
        """Claim the due deliveries and send them; returns how many were attempted."""
        now = self.clock()
        async with self.store.maker() as session:
            ids = list((await session.execute(
                select(CrmDelivery.id).where(self._claimable(now))
                .order_by(CrmDelivery.id).limit(limit)
            )).scalars())
        if not ids:
            return 0
        async with self.store.transaction() as session:
            res = await session.execute(
                update(CrmDelivery)
                .where(CrmDelivery.id.in_(ids), self._claimable(now))
                .values(claimed_by=self.owner, claimed_until=now + self.lease)
                .returning(CrmDelivery)
                .execution_options(synchronize_session=False)
            )
            claimed = sorted(res.scalars(), key=lambda r: r.id)
            envelopes = await build_envelopes(
                session, claimed, transcript_url=self.transcript_url,
                with_text=lambda name: self.config.endpoints[name].config.include_text,
            )
            refs = await self._refs(session, claimed)
        await asyncio.gather(*(
            self._deliver(row, envelopes[row.id], refs.get((row.endpoint, row.lead_id)))
            for row in claimed
        ))
        return len(claimed)

    async def _refs(self, session: Any, rows: list[CrmDelivery]
                    ) -> dict[tuple[str, int | None], str]:
        """What each CRM already calls each lead (the latest reference it gave us)."""
        leads = {r.lead_id for r in rows if r.lead_id is not None}
        if not leads:
            return {}
        q = (select(CrmDelivery.endpoint, CrmDelivery.lead_id, CrmDelivery.external_ref)
             .where(CrmDelivery.endpoint.in_({r.endpoint for r in rows}),
                    CrmDelivery.lead_id.in_(leads), CrmDelivery.external_ref.is_not(None))
             .order_by(CrmDelivery.id))
        return {(e, lead): ref for e, lead, ref in (await session.execute(q)).all()}

    async def _deliver(self, row: CrmDelivery, envelope: dict[str, Any], ref: str | None
                       ) -> None:
        item = Outgoing(row.id, row.event, envelope, row.attempts + 1, ref)
        async with self._sem:
            try:
                new_ref = await self.senders[row.endpoint].deliver(item)
            except DeliveryFailed as exc:
                await self._failed(row, exc)
                return
            except Exception as exc:  # an adapter bug must not stop the loop
                log.exception("crm adapter %s crashed on delivery %s", row.endpoint, row.id)
                await self._failed(row, DeliveryFailed(type(exc).__name__, retryable=True))
                return
        DELIVERIES.labels(endpoint=row.endpoint, outcome="delivered").inc()
        log.info("crm delivery %s (%s, lead %s) delivered to %s", row.id, row.event,
                 row.lead_id, row.endpoint)
        await self._finish(row, status="delivered", attempts=item.attempt,
                           delivered_at=self.clock(), last_error=None,
                           **({"external_ref": new_ref[:64]} if new_ref else {}))

    async def _failed(self, row: CrmDelivery, exc: DeliveryFailed) -> None:
        retry = self.config.retry
        attempts = row.attempts + 1
        now = self.clock()
        age = now - as_utc(row.created_at)
        dead = (not exc.retryable or attempts >= retry.max_attempts
                or age >= timedelta(hours=retry.max_age_hours))
        detail = str(exc)[:200]
        DELIVERIES.labels(endpoint=row.endpoint, outcome="dead" if dead else "retry").inc()
        if dead:
            log.warning("crm delivery %s (%s, lead %s) to %s dead after %d attempt(s): %s",
                        row.id, row.event, row.lead_id, row.endpoint, attempts, detail)
            await self._finish(row, status="dead", attempts=attempts, last_error=detail)
            return
        wait = self.backoff(attempts)
        if exc.retry_after is not None:
            wait = max(wait, min(exc.retry_after, retry.max_backoff_seconds))
        log.info("crm delivery %s to %s failed (%s), attempt %d; retry in %.1fs",
                 row.id, row.endpoint, detail, attempts, wait)
        await self._finish(row, status="pending", attempts=attempts, last_error=detail,
                           next_attempt_at=now + timedelta(seconds=wait))

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failures: doubling, capped, with jitter.

        "Equal jitter": half the step is fixed and half random, so waits still grow while
        processes that failed together spread out.
        """
        retry = self.config.retry
        step = min(retry.max_backoff_seconds, retry.base_seconds * 2 ** min(attempts - 1, 40))
        return float(step / 2 + self.rng() * step / 2)

    async def _finish(self, row: CrmDelivery, **values: Any) -> None:
        async with self.store.transaction() as session:
            await session.execute(
                update(CrmDelivery)
                .where(CrmDelivery.id == row.id, CrmDelivery.claimed_by == self.owner)
                .values(claimed_by=None, claimed_until=None, **values)
            )
