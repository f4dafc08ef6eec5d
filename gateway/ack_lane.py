"""The acknowledgement lane: a new lead hears from us within the budget at any offered rate.

The pipeline acknowledges a new lead when it reaches the message and Rasa is slow. Under a
backlog it reaches it late: the event waits in the stream behind those already at Rasa, and
the workers take on no more than Rasa can answer (`worker_in_flight`). The lane does not
wait in that line. Each worker runs one: it reads every inbound event the moment it is queued
(its own consumer group, `acks`, on the same streams, with no pending list) and, when at 60 %
of the acknowledgement budget after the webhook nobody has taken the message on, it
acknowledges the sender, if the sender is a new lead: an address with no lead and no agent
behind it, writing no compliance keyword, revocation or flagged request (those the pipeline
answers itself).

One claim per message decides who acknowledges it: `pronto:first:{channel}:{provider id}`,
set NX by the pipeline when it stores a new lead's first message for the bot (`claim_first`),
and by the lane when it fires. The lane sends through the channel adapter at once, with no SQL
write on the way (that is what keeps it cheap), and queues an `ack_sent` event on the lead's
key: the pipeline runs it after the message (same key, same partition, in order) and records
the outbound message and the `bot.ack_sent` audit event (`record_lane_ack`). A failed send is
left to the pipeline, which acknowledges through the outbox with its retries. A worker that
dies loses only the acknowledgements it had not fired yet: the pipeline still sends those
itself, late, when it reaches the messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError, ResponseError
from sqlalchemy import Executable, literal, select, union_all
from sqlalchemy.exc import SQLAlchemyError

from gateway import metrics
from gateway.domain.compliance import assess, keyword
from gateway.domain.segments import to_gsm7
from gateway.messages import SMS, Inbound, Outbound, utcnow
from gateway.pipeline_steps import default_language
from gateway.services import Services
from gateway.store.leads import audit, current_conversation, find_message
from gateway.store.models import Agent, Identity, Lead, Message

log = logging.getLogger(__name__)
LANE_SHARE = 0.6
"""The lane fires at this share of the acknowledgement budget: the rest is for the send."""
GROUP = "acks"
ACK_SENT = "ack_sent"
CLAIM_TTL = 24 * 3600
STALE_SECONDS = 120.0
"""An event the lane reads this late (a lane that was itself stopped) is left to the
pipeline: an acknowledgement minutes late says nothing the bot's answer will not."""
ADDRESS_QUIET_SECONDS = 600
"""At most one lane acknowledgement per address in this window (the pipeline's own window)."""
MAX_WAITING = 20000
"""Acknowledgements waiting for their moment in one process, at most (a memory bound)."""
MAIN, LANE, SENT, SKIPPED, FAILED = "main", "lane", "lane:sent", "lane:skipped", "lane:failed"


def claim_key(channel: str, provider_id: str) -> str:
    """The one claim on acknowledging a message."""
    return f"pronto:first:{channel}:{provider_id}"


async def claim_first(s: Services, inbound: Inbound) -> bool:
    """The pipeline takes a new lead's first message on; False when the lane holds it
    (acknowledging or acknowledged: the pipeline must not acknowledge it again)."""
    key = claim_key(inbound.channel, inbound.provider_id)
    if await s.redis.set(key, MAIN, nx=True, ex=CLAIM_TTL):
        return True
    holder = await s.redis.get(key)
    # Skipped or failed by the lane: the message is the pipeline's, as if never claimed.
    return holder in (MAIN, SKIPPED, FAILED)


class AckLane:
    """One worker's acknowledgement lane (see the module docstring)."""

    def __init__(self, services: Services) -> None:
        self.s = services
        settings = services.settings
        self.after = LANE_SHARE * settings.ack_budget_seconds if settings.ack_lane else 0.0
        self.consumer = f"lane-{id(self):x}"
        self._waiting: set[asyncio.Task[None]] = set()

    async def ensure_group(self) -> None:
        """Create the lane's group on every partition, from the start: what is queued and not
        yet processed counts (entries are deleted once processed; `STALE_SECONDS` bounds it)."""
        for p in range(self.s.queue.partitions):
            try:
                await self.s.redis.xgroup_create(self.s.queue.stream(p), GROUP, id="0",
                                                 mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def run(self) -> None:
        """Read and schedule until cancelled; a Redis error waits and retries."""
        if self.after <= 0:
            return
        await self.ensure_group()
        streams = {self.s.queue.stream(p): ">" for p in range(self.s.queue.partitions)}
        try:
            while True:
                try:
                    res: Any = await self.s.redis.xreadgroup(
                        GROUP, self.consumer, streams,  # type: ignore[arg-type]
                        count=500, block=200, noack=True)
                except RedisError as exc:
                    log.warning("ack lane waits for Redis: %s", type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                for _stream, entries in res or []:
                    for _entry_id, fields in entries:
                        self._schedule(fields)
        finally:
            for task in list(self._waiting):
                task.cancel()

    def _schedule(self, fields: dict[str, str]) -> None:
        if not fields or fields.get("type") != "inbound" or len(self._waiting) >= MAX_WAITING:
            return
        try:
            inbound = Inbound.from_json(json.loads(fields["body"])["inbound"])
        except (KeyError, ValueError, TypeError):
            return
        if inbound.action != "message" or inbound.channel not in self.s.channels:
            return
        age = _age(inbound.received_at)
        if age > STALE_SECONDS:
            return
        task = asyncio.create_task(self._fire(inbound, max(0.0, self.after - age)))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _fire(self, inbound: Inbound, delay: float) -> None:
        await asyncio.sleep(delay)
        if keyword(inbound.text, opted_out=False) is not None or assess(inbound.text):
            return  # STOP, HELP, a revocation or a flagged request: the pipeline answers
        key = claim_key(inbound.channel, inbound.provider_id)
        try:
            if not await self.s.redis.set(key, LANE, nx=True, ex=CLAIM_TTL):
                return  # the pipeline has the message: it acknowledges if it must
            outcome = await self._acknowledge(inbound)
            await self.s.redis.set(key, outcome, ex=CLAIM_TTL)
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("ack lane skipped a message: %s", type(exc).__name__)
            return
        if outcome == SENT:
            metrics.ACKS.inc()
            metrics.LANE_ACKS.inc()

    async def _acknowledge(self, inbound: Inbound) -> str:
        """Send the acknowledgement to a new lead; the outcome to store on the claim."""
        # A new lead's second message can come before the pipeline stored the first (both in
        # the backlog): one acknowledgement per address and quiet window, whatever SQL says.
        if not await self.s.redis.set(f"pronto:lane-acked:{inbound.queue_key}", "1", nx=True,
                                      ex=ADDRESS_QUIET_SECONDS):
            return SKIPPED
        async with self.s.store.maker() as session:
            if (await session.execute(_known(inbound))).first() is not None:
                return SKIPPED
        default = default_language(self.s.settings, inbound)
        language = self.s.language.decide(inbound.text, previous=None, fallback=default).language
        text = self.s.templates.render("ack", language, brokerage=self.s.settings.brokerage)
        if inbound.channel == SMS and language == "es" and self.s.outbox.spanish_gsm7:
            text = to_gsm7(text)  # as the outbox would send it
        started = time.monotonic()
        try:
            results = await self.s.channels[inbound.channel].send(
                Outbound(channel=inbound.channel, address=inbound.address, text=text))
        except Exception as exc:  # any channel error: the pipeline acknowledges via the outbox
            log.warning("ack lane send failed on %s: %s", inbound.channel, type(exc).__name__)
            return FAILED
        sid = results[0].provider_id if results else ""
        status = results[0].status if results else "sent"
        await self.s.queue.enqueue(inbound.queue_key, ACK_SENT, {
            "channel": inbound.channel, "kind": inbound.identity_kind, "address": inbound.address,
            "provider_id": inbound.provider_id, "sid": sid, "status": status, "text": text,
            "language": language, "at": self.s.clock().isoformat(),
            "send_ms": round((time.monotonic() - started) * 1000, 1)})
        return SENT


async def record_lane_ack(s: Services, body: dict[str, Any]) -> None:
    """Record an acknowledgement the lane sent (the `ack_sent` event, after the message)."""
    async with s.store.transaction() as session:
        lead = (await session.execute(
            select(Lead).join(Identity, Identity.lead_id == Lead.id).where(
                Identity.kind == str(body["kind"]),
                Identity.address == str(body["address"]))
        )).scalars().first()
        if lead is None:
            log.warning("lane acknowledgement for an address with no lead: not recorded")
            return
        conv = await current_conversation(session, lead)
        inbound = await find_message(session, str(body["channel"]), str(body["provider_id"]))
        at = datetime.fromisoformat(str(body["at"]))
        out = Message(direction="out", author="system", channel=str(body["channel"]),
                      address=str(body["address"]), text=str(body["text"]),
                      language=str(body["language"]), lead_id=lead.id,
                      conversation_id=conv.id, status=str(body.get("status") or "sent"),
                      provider_id=str(body.get("sid") or "") or None, created_at=at)
        session.add(out)
        await session.flush()
        audit(session, "bot.ack_sent", lead_id=lead.id,
              message_id=inbound.id if inbound is not None else None, lane=True,
              send_ms=body.get("send_ms"))
    await s.redis.set(f"pronto:acked:{lead.id}", "1", nx=True, ex=600)


def _known(inbound: Inbound) -> Executable:
    """One statement: a lead's identity, or an active agent, behind the sender's address (the
    agent test is `find_agent_by_address`'s)."""
    q = select(literal(1)).select_from(Identity).where(
        Identity.kind == inbound.identity_kind, Identity.address == inbound.address)
    if inbound.identity_kind == "phone":
        agent = Agent.phone == inbound.address
    elif inbound.channel == "telegram":
        agent = Agent.telegram_chat_id == inbound.address
    else:
        return q.limit(1)
    return union_all(q, select(literal(1)).select_from(Agent).where(
        agent, Agent.active.is_(True))).limit(1)


def _age(received_at: datetime) -> float:
    return max(0.0, (utcnow() - received_at).total_seconds())
