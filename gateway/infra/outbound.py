"""Outbound: every message out is stored first, sent after its transaction commits through its
channel adapter, and updated with the provider's id and status.

A queued message always has an owner: the row is born claimed by the send that queued it
(`claimed_by` holds a token unique to that one claim, `claimed_until` its lease), which sends
it from an after-commit hook. If that process dies between commit and send, the lease lapses
and any live process's sweeper (`Outbox.sweep`, run by the worker loop) claims the row with one
conditional UPDATE under a new token and sends it, so a message left behind is sent, and sent
once even when several sweepers race. The token is per claim, not per process: a process whose
own after-commit send lags past its lease and whose own sweeper took the row over must not send
it from both paths.

A process may also die after the provider accepted a message and before the send was recorded.
Before resending, the sweeper asks a channel that can tell (`Reconciles`: Twilio's message list)
whether the message already went out, and records it as sent if so; a channel that cannot
tell is resent (at least once).

Provider errors are handled by meaning: opted out → mark the lead and never retry; rate limits
and transient failures → back off and retry; anything else → recorded as failed.

Every message to a lead passes the per-lead hourly cap here, in the one path all senders share
(`gateway.infra.outbound_cap`): over it the row is stored "refused", never sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.channels.base import Channel
from gateway.domain.outbound_gate import GateRules
from gateway.domain.segments import encode_info, to_gsm7
from gateway.errors import ChannelError, ProviderRejected, RateLimited
from gateway.infra.outbound_cap import REFUSED, HourlyCap
from gateway.infra.outbox_sweep import LATER, leads_by_id, outbound_of, provider_has, unowned
from gateway.infra.send_failure import FailureListener, SendFailure
from gateway.messages import SMS, WHATSAPP, Button, Outbound, SendResult, utcnow
from gateway.store.leads import Store, after_commit, audit, mark_opted_out
from gateway.store.models import Lead, Message

log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0
"""Default hold of a process on a queued message before another may send it."""
SKIPPED = "skipped"
"""`deliver` outcome when this process no longer holds the message's lease (another sends it)."""
_CLAIMS = itertools.count(1)
"""Claim numbers, unique in the process (the owner name makes them unique across processes)."""


class Outbox:
    """Queues outbound messages in SQL and delivers them through the channel adapters."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        max_attempts: int = 4,
        max_backoff: float = 30.0,
        lease_seconds: float = LEASE_SECONDS,
        max_age_seconds: float = 24 * 3600.0,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rules: GateRules | None = None,
        spanish_gsm7: bool = False,
    ) -> None:
        """Create the outbox.

        Args:
            store: the SQL store.
            channels: adapter per message channel ("sms", "whatsapp", "telegram", "webchat").
            max_attempts: sends tried per message before it is marked failed.
            max_backoff: cap, in seconds, on one wait between attempts.
            lease_seconds: how long a process holds a queued message before a sweeper may
                take it over; renewed while a send is still retrying.
            max_age_seconds: a message left queued longer than this is marked failed
                ("stale") by the sweeper instead of being sent late.
            owner: this process's name in `claimed_by` (default: host, pid and a nonce).
            clock: wall-clock time source for leases and the hourly cap (tests move it).
            rules: the outbound gate's rules (`max_per_lead_per_hour`); default: the gate's
                defaults (config/compliance.yml is loaded by the app).
            spanish_gsm7: send Spanish SMS in GSM-7 (á í ó ú → a i o u; ñ é ¿ ¡ kept), so a
                text is not billed as UCS-2 with 70-character segments for one accent.
        """
        self.store = store
        self.channels = channels
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.lease = timedelta(seconds=lease_seconds)
        self.max_age = timedelta(seconds=max_age_seconds)
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.clock = clock
        self.rules = rules or GateRules()
        self.cap = HourlyCap(self.rules)
        self.spanish_gsm7 = spanish_gsm7
        self.on_failure: FailureListener | None = None
        """Set by the app: what a failed send means beyond its row (see `failed`)."""

    async def queue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        address: str,
        text: str,
        author: str,
        lead_id: int | None = None,
        agent_id: int | None = None,
        conversation_id: int | None = None,
        language: str | None = None,
        buttons: tuple[Button, ...] = (),
        reply_to: str | None = None,
        content_sid: str = "",
        content_variables: Mapping[str, str] | None = None,
        flush: bool = True,
    ) -> Message:
        """Store an outbound message in `session`; it is sent once the transaction commits.

        The row is claimed by this process for one lease; if the process dies before sending,
        a sweeper sends it once the lease lapses. A message to a lead over the hourly cap is
        stored "refused" instead and never sent (agent alerts, `lead_id` None, are not capped).
        With `content_sid`, the approved template (and its variables) is sent, not `text`.
        With `flush` False the row goes in with the transaction's next flush, so the texts of
        one bot turn are one INSERT (one round trip and one unit of work, not one a text); its
        `id` is then unset until that flush.
        """
        now = self.clock()
        until = now + self.lease
        claim = self._claim()
        capped = lead_id is not None and await self.cap.over(session, lead_id, now)
        msg = Message(
            direction="out",
            author=author,
            channel=channel,
            address=address,
            text=text,
            lead_id=lead_id,
            agent_id=agent_id,
            conversation_id=conversation_id,
            language=language,
            status=REFUSED if capped else "queued",
            error_code="rate_cap" if capped else None,
            claimed_by=None if capped else claim,
            claimed_until=None if capped else until,
            buttons=[[b.label, b.data] for b in buttons] or None,
            content_sid=content_sid or None,
            content_variables=dict(content_variables or {}) or None,
            created_at=now,  # the clock the hourly cap counts by
        )
        if channel == SMS and language == "es" and self.spanish_gsm7:
            text = msg.text = to_gsm7(text)  # opt-in trade-off: cheaper, accents dropped
        if channel in (SMS, WHATSAPP):
            # Stored with the message: what it costs (segments) and why (one "á" is UCS-2).
            info = encode_info(text)
            msg.segments, msg.encoding = info.segments, info.encoding
        session.add(msg)
        if flush or capped:
            await session.flush()  # a refusal's audit names the row
        if capped and lead_id is not None:
            await self.cap.refuse(session, msg, lead_id, now)
            return msg
        if lead_id is not None:
            self.cap.counted(session, lead_id)
        variables = json.dumps(dict(content_variables or {})) if content_sid else ""

        async def send() -> None:
            # Built after the commit: the row's id is known by then, flushed or not here.
            out = Outbound(channel=channel, address=address, text=text, buttons=buttons,
                           reply_to=reply_to, message_id=msg.id, content_sid=content_sid,
                           content_variables=variables)
            await self.deliver(out, lead_id=lead_id, lease_until=until, claim=claim)

        after_commit(session, send)
        return msg

    def _claim(self) -> str:
        """A token for one claim on rows: this process's name and a counter (64 characters)."""
        return f"{self.owner[:48]}#{next(_CLAIMS)}"

    async def deliver(
        self, out: Outbound, *, lead_id: int | None, lease_until: datetime | None = None,
        claim: str | None = None,
    ) -> str:
        """Send a stored message now, with retries; returns the final status.

        Args:
            out: the message (with its `message_id`).
            lead_id: the lead it belongs to, for opt-out marking and logs.
            lease_until: when the claim on the row lapses; the claim is renewed before a
                try once it is close, and the send gives up ("skipped") if another claim
                (another process's sweeper, or this one's) took the row over meanwhile.
            claim: the token the row was claimed under (`claimed_by`).
        """
        adapter = self.channels.get(out.channel)
        status, provider_id, error = "failed", None, None
        opted_out = False
        if adapter is None:
            error = "no_channel"
            log.error("no adapter for channel %s (message %s)", out.channel, out.message_id)
        else:
            for attempt in range(1, self.max_attempts + 1):
                if lease_until is not None and out.message_id is not None:
                    renewed = await self._keep_lease(out.message_id, lease_until, claim)
                    if renewed is None:
                        log.warning("message %s was taken over by another sender", out.message_id)
                        return SKIPPED
                    lease_until = renewed
                try:
                    results = await adapter.send(out)
                    status = results[-1].status if results else "sent"
                    provider_id = results[0].provider_id if results else None
                    error = None
                    break
                except ProviderRejected as exc:
                    error, opted_out = exc.code or "rejected", exc.opted_out
                    log.warning(
                        "provider rejected message %s for lead %s: code %s",
                        out.message_id, lead_id, error,
                    )
                    break
                except RateLimited as exc:
                    error = "rate_limited"
                    if attempt == self.max_attempts:
                        break
                    await asyncio.sleep(min(exc.retry_after, self.max_backoff))
                except ChannelError as exc:
                    error = type(exc).__name__
                    log.warning("send failed for message %s: %s", out.message_id, error)
                    break
        await self._record(out, lead_id, status, provider_id, error, opted_out=opted_out)
        return status

    async def _record(
        self, out: Outbound, lead_id: int | None, status: str, provider_id: str | None,
        error: str | None, *, opted_out: bool,
    ) -> None:
        metrics.OUTBOUND.labels(channel=out.channel, status=status).inc()
        values: dict[str, Any] = {"status": status, "updated_at": utcnow(), "claimed_until": None}
        if provider_id:
            values["provider_id"] = provider_id
        if error:
            values["error_code"] = error
        if status != "failed":  # the common case: one UPDATE, one round trip
            if out.message_id is not None:
                await self.store.write_one(
                    update(Message).where(Message.id == out.message_id).values(**values))
            return
        async with self.store.transaction() as session:
            if out.message_id is not None:
                await session.execute(
                    update(Message).where(Message.id == out.message_id).values(**values)
                )
            audit(session, "message.failed", lead_id=lead_id, message_id=out.message_id,
                  code=error)
            await self.failed(session, SendFailure(out.message_id, lead_id, error,
                                                   opted_out=opted_out))

    async def failed(self, session: AsyncSession, failure: SendFailure) -> None:
        """A send failed for good (a send error, or a status callback saying so): apply what
        it means, in `session`. The app's listener (`gateway.send_failures`) routes an opt-out
        at the carrier through the compliance flow and tells an agent whose relay failed;
        without one, an opt-out only marks the lead."""
        if self.on_failure is not None:
            await self.on_failure(session, failure)
        elif failure.opted_out and failure.lead_id is not None:
            await mark_opted_out(session, failure.lead_id, reason=f"provider:{failure.code}")

    async def _keep_lease(
        self, message_id: int, until: datetime, claim: str | None
    ) -> datetime | None:
        """The lease still held on a queued row: `until`, or renewed once it is close to
        lapsing (one UPDATE, only then); None when another claim holds the row now."""
        now = self.clock()
        if now < until - self.lease / 4:
            return until
        renewed = now + self.lease
        async with self.store.transaction() as session:
            res = await session.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    Message.status == "queued",
                    Message.claimed_by == (claim or self.owner),
                )
                .values(claimed_until=renewed)
            )
        return renewed if res.rowcount == 1 else None  # type: ignore[attr-defined]

    # -- the sweeper (its helpers: gateway.infra.outbox_sweep) ---------------------------------

    async def sweep(self, limit: int = 50) -> int:
        """Claim queued messages whose sender's lease lapsed (a dead process) and send them.

        The claim is one conditional UPDATE over the candidates (their lease must still be
        lapsed), so of several sweepers racing over the same rows each row has one winner.

        Returns:
            How many messages this call claimed (sent, failed or dropped).
        """
        now = self.clock()
        until = now + self.lease
        claim = self._claim()
        async with self.store.maker() as session:
            ids = list((await session.execute(
                select(Message.id).where(unowned(now)).order_by(Message.id).limit(limit)
            )).scalars())
        if not ids:
            return 0
        async with self.store.transaction() as session:
            res = await session.execute(
                update(Message)
                .where(Message.id.in_(ids), unowned(now))
                .values(claimed_by=claim, claimed_until=until, send_started_at=now)
                .returning(Message)
                .execution_options(synchronize_session=False)
            )
            claimed = sorted(res.scalars(), key=lambda m: m.id)
            leads = await leads_by_id(session, {m.lead_id for m in claimed if m.lead_id})
        for msg in claimed:
            await self._resend(msg, leads.get(msg.lead_id or 0), now, until, claim)
        return len(claimed)

    async def _resend(
        self, msg: Message, lead: Lead | None, now: datetime, until: datetime, claim: str
    ) -> None:
        # SQLite hands back naive datetimes for timezone columns; they are UTC.
        created = msg.created_at if msg.created_at.tzinfo else msg.created_at.replace(tzinfo=UTC)
        out = outbound_of(msg)
        to_lead = msg.author in ("bot", "agent")  # never to a prospect who opted out since
        if now - created > self.max_age or (to_lead and lead is not None and lead.opted_out):
            reason = "stale" if now - created > self.max_age else "opted_out"
            log.warning("queued message %s (lead %s) dropped: %s", msg.id, msg.lead_id, reason)
            await self._record(out, msg.lead_id, "failed", None, reason, opted_out=False)
            return
        found = await provider_has(self.store, self.channels.get(out.channel), out, created,
                                   self.clock)
        if found == LATER:
            return
        if isinstance(found, SendResult):
            log.info("message %s (lead %s) had reached the provider before its sender died: "
                     "recorded, not resent", msg.id, msg.lead_id)
            await self._record(out, msg.lead_id, found.status, found.provider_id, None,
                               opted_out=False)
            return
        log.info("outbox sweeper sending message %s (lead %s)", msg.id, msg.lead_id)
        await self.deliver(out, lead_id=msg.lead_id, lease_until=until, claim=claim)
