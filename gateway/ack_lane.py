"""The acknowledgement lane: a new lead hears from us within the budget at any offered rate.

The pipeline acknowledges a new lead when it reaches the message and Rasa is slow. Under a
backlog it reaches it late: the event waits in the stream behind those already at Rasa, and
the workers take on no more than Rasa can answer (`worker_in_flight`). The lane does not
wait in that line. Each worker runs one: it reads every inbound event the moment it is queued
(its own consumer group, `acks`, on the same streams, with no pending list) and, when at 60 %
of the acknowledgement budget after the webhook nobody has taken the message on (at once
while the worker's Rasa slots are backlogged: the bot will not answer in time), it
acknowledges the sender, if the sender is a new lead: an address with no lead and no agent
behind it, writing no compliance keyword, revocation or flagged request (those the pipeline
answers itself).

One claim per message decides who acknowledges it: `pronto:first:{channel}:{provider id}`,
set NX by the pipeline when it stores a new lead's first message for the bot (`claim_first`),
and by the lane when it fires and SQL knows no one behind the address. The lane sends through
the channel adapter at once, with no SQL write on the way (that is what keeps it cheap), and
leaves the send on the claim; the pipeline, reaching the message later, records the outbound
message and the `bot.ack_sent` audit event in the transaction that stores the message. If the
pipeline went by while the lane was sending, the lane queues an `ack_sent` event on the lead's
key instead, which the pipeline runs after the message (same key, in order). A failed send
before the pipeline looked leaves the message to the pipeline, which acknowledges through the
outbox with its retries; one that fails after it looked is not retried (the bot's answer still
follows). A worker that dies loses only the acknowledgements it had not fired yet: the pipeline
sends those itself, late, when it reaches the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError, ResponseError
from sqlalchemy import Executable, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.domain.compliance import assess, keyword
from gateway.domain.segments import to_gsm7
from gateway.messages import SMS, Inbound, Outbound, utcnow
from gateway.pipeline_steps import default_language
from gateway.services import Services
from gateway.store.leads import audit, current_conversation, find_message
from gateway.store.models import Identity, Lead, Message

log = logging.getLogger(__name__)
LANE_SHARE = 0.6
"""The lane fires at this share of the acknowledgement budget: the rest is for the send."""
GROUP = "acks"
ACK_SENT = "ack_sent"
CLAIM_TTL = 24 * 3600
"""How long the lane's outcome stays for the pipeline (which may reach a message late)."""
STALE_SECONDS = 120.0
"""An event the lane reads this late (a lane that was itself stopped) is left to the
pipeline: an acknowledgement minutes late says nothing the bot's answer will not."""
ACK_QUIET_SECONDS = 600
"""At most one acknowledgement per lead (and lane acknowledgement per address) this long."""
TAKEN_TTL = int(2 * STALE_SECONDS)
"""How long the pipeline's claim stays: past STALE_SECONDS the lane never fires anyway."""
MAX_WAITING = 20000
"""Acknowledgements waiting for their moment in one process, at most (a memory bound)."""
MAIN, LANE, MAIN_SAW, FAILED = "main", "lane", "lane:main-saw", "lane:failed"
OTHER = "lane:other"
"""The lane acknowledged another message from the same new lead: none for this one."""
NEW, KNOWN, TAKEN = "new", "known", "taken"
_CLAIM = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ARGV[1]) then return 'new' end
  return 'taken'
end
redis.call('SET', KEYS[1], ARGV[4], 'NX', 'EX', ARGV[1])
return 'other'
"""
"""The lane's claims once SQL knows no one behind the address: the address's quiet window
(KEYS[2]), then the message (KEYS[1]): `lane` if the window was free, else `lane:other`."""
SENT = "lane:sent:"
"""Prefix of the claim once the lane sent: the send follows as JSON, for the pipeline."""


def claim_key(channel: str, provider_id: str) -> str:
    """The one claim on acknowledging a message."""
    return f"pronto:first:{channel}:{provider_id}"


@dataclass(frozen=True, slots=True)
class FirstClaim:
    """What `claim_first` found.

    Attributes:
        ours: the pipeline acknowledges the message if it must (the lane did not).
        lane_send: the lane's send, for the pipeline to record in its transaction; None when
            the lane is still sending (it queues an `ack_sent` event instead) or did not.
    """

    ours: bool
    lane_send: dict[str, Any] | None = None


async def take(s: Services, inbound: Inbound) -> None:
    """The pipeline starts on a message: from now on its own budget logic acknowledges it if
    Rasa is slow, and the lane leaves it alone (the lane is for messages still queued). Kept
    only while the lane could still fire for it."""
    if inbound.action == "message":
        await s.redis.set(claim_key(inbound.channel, inbound.provider_id), MAIN, nx=True,
                          ex=TAKEN_TTL)


async def claim_first(s: Services, inbound: Inbound, *, new: bool = True) -> FirstClaim:
    """The pipeline takes a new lead's first message on (`new`), or learns that the lane has
    it; for a message of a lead it knows it only looks (the lane may have acknowledged this
    message while the lead's first one, acknowledged by nobody, was still in the queue)."""
    key = claim_key(inbound.channel, inbound.provider_id)
    if new and await s.redis.set(key, MAIN, nx=True, ex=TAKEN_TTL):
        return FirstClaim(ours=True)
    holder = _text(await s.redis.get(key))
    if holder == LANE:
        # Still sending: say the pipeline went by, so the lane queues the record itself. The
        # swap returns what was there: the lane may have finished in between.
        holder = _text(await s.redis.set(key, MAIN_SAW, ex=CLAIM_TTL, get=True))
    if holder.startswith(SENT):
        return FirstClaim(ours=False, lane_send=json.loads(holder[len(SENT):]))
    if holder in (LANE, MAIN_SAW, OTHER):
        return FirstClaim(ours=False)
    return FirstClaim(ours=True)  # the pipeline's already, or nobody's (the claim expired)


async def lane_has(s: Services, session: AsyncSession, lead_id: int, conversation_id: int,
                   msg: Message, inbound: Inbound) -> bool:
    """Before the pipeline decides on an acknowledgement: True when the lane has (or had) the
    message, so the pipeline must not acknowledge this lead again in the quiet window. What the
    lane sent is recorded here, in the pipeline's transaction. Only a look: the pipeline took
    the message when it started on it (`take`); a known lead's message may still carry the
    lane's send (acknowledged while the lead's first, unacknowledged, was still queued)."""
    claim = await claim_first(s, inbound, new=False)
    if claim.lane_send is not None:
        record_lane_send(session, lead_id, conversation_id, msg.id, claim.lane_send)
    if claim.ours:
        return False
    await s.redis.set(f"pronto:acked:{lead_id}", "1", ex=ACK_QUIET_SECONDS)
    return True


class AckLane:
    """One worker's acknowledgement lane (see the module docstring)."""

    def __init__(self, services: Services,
                 backlogged: Callable[[float], bool] | None = None) -> None:
        """Args:
        services: the process's services.
        backlogged: whether a message queued now would wait longer than the given seconds
            for the bot (the worker's Rasa slots); then a new lead is acknowledged at once.
        """
        self.s = services
        settings = services.settings
        self.after = LANE_SHARE * settings.ack_budget_seconds if settings.ack_lane else 0.0
        self.backlogged = backlogged
        self._backlog = asyncio.Event()
        """Set while the bot is backlogged: waiting acknowledgements go at once, new ones too."""
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
                self._check_backlog()
                for _stream, entries in res or []:
                    for _entry_id, fields in entries:
                        self._schedule(fields)
        finally:
            for task in list(self._waiting):
                task.cancel()
            await self._leave(streams)

    async def _leave(self, streams: dict[str, str]) -> None:
        """Remove this consumer from the group (it holds nothing: the lane reads NOACK), so
        restarts do not pile up consumer names."""
        for stream in streams:
            with contextlib.suppress(RedisError):
                await self.s.redis.xgroup_delconsumer(stream, GROUP, self.consumer)

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
        delay = 0.0 if self._backlog.is_set() else max(0.0, self.after - age)
        task = asyncio.create_task(self._fire(inbound, delay))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    def _check_backlog(self) -> None:
        """After each read (at least every 200 ms): is the bot backlogged? Its slots taken by
        turns that will outlast the lane's wait mean a queued message will not be answered in
        time: waiting to see would only make the lead wait (issue 12: saturated, the
        acknowledgement goes out at once). Before, at 200 webhooks/s, the lane's
        acknowledgements left at 1.5 s and later, behind the load, never at once."""
        if self.backlogged is not None and self.backlogged(self.after):
            self._backlog.set()  # wakes the acknowledgements waiting for their moment
        else:
            self._backlog.clear()

    async def _fire(self, inbound: Inbound, delay: float) -> None:
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._backlog.wait()
        if keyword(inbound.text, opted_out=False) is not None or assess(inbound.text):
            return  # STOP, HELP, a revocation or a flagged request: the pipeline answers
        key = claim_key(inbound.channel, inbound.provider_id)
        try:
            if await self.s.redis.exists(key):
                return  # the pipeline has the message: it acknowledges if it must
            if await self._new_lead(inbound, key) != NEW:
                return
            send = await self._send(inbound)
            if send is None:
                await self.s.redis.set(key, FAILED, ex=CLAIM_TTL)
                return
            before = _text(await self.s.redis.set(key, SENT + json.dumps(send), ex=CLAIM_TTL,
                                                  get=True))
            if before == MAIN_SAW:  # the pipeline went by while we sent: record it later
                await self.s.queue.enqueue(inbound.queue_key, ACK_SENT, send)
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("ack lane skipped a message: %s", type(exc).__name__)
            return
        metrics.ACKS.inc()
        metrics.LANE_ACKS.inc()

    async def _new_lead(self, inbound: Inbound, key: str) -> str:
        """NEW: no lead and no agent behind the address, the first lane acknowledgement to it
        in the quiet window, and the claim on the message is the lane's now; OTHER: the lane
        acknowledged another message from it (a new lead's second message can come before the
        pipeline stored the first, both in the backlog), and the claim says so, for the
        pipeline; KNOWN: someone we know; TAKEN: the pipeline took the message meanwhile (it
        acknowledges if it must). The two claims are one Redis round trip."""
        if await self.s.store.read_first(*_known(inbound)) is not None:
            return KNOWN
        verdict = await self.s.redis.eval(
            _CLAIM, 2, key, f"pronto:lane-acked:{inbound.queue_key}",
            CLAIM_TTL, ACK_QUIET_SECONDS, LANE, OTHER)
        return _text(verdict)

    async def _send(self, inbound: Inbound) -> dict[str, Any] | None:
        """Send the acknowledgement; what to record of it, None when the send failed."""
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
            return None
        return {"channel": inbound.channel, "kind": inbound.identity_kind,
                "address": inbound.address, "provider_id": inbound.provider_id,
                "sid": results[0].provider_id if results else "",
                "status": results[0].status if results else "sent", "text": text,
                "language": language, "at": self.s.clock().isoformat(),
                "send_ms": round((time.monotonic() - started) * 1000, 1)}


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
        record_lane_send(session, lead.id, conv.id, inbound.id if inbound else None, body)


def record_lane_send(session: AsyncSession, lead_id: int, conversation_id: int,
                     message_id: int | None, send: dict[str, Any]) -> None:
    """Store the lane's acknowledgement as the outbound message it was, and audit it."""
    session.add(Message(
        direction="out", author="system", channel=str(send["channel"]),
        address=str(send["address"]), text=str(send["text"]), language=str(send["language"]),
        lead_id=lead_id, conversation_id=conversation_id,
        status=str(send.get("status") or "sent"), provider_id=str(send.get("sid") or "") or None,
        created_at=datetime.fromisoformat(str(send["at"]))))
    audit(session, "bot.ack_sent", lead_id=lead_id, message_id=message_id, lane=True,
          send_ms=send.get("send_ms"))


_IDENTITY = "SELECT 1 FROM identities WHERE kind = :kind AND address = :address"
_AGENT = " UNION ALL SELECT 1 FROM agents WHERE {column} = :address AND active = :active"
# Plain SQL, made once: building this select with the ORM on every message, and its cache
# key, was about 7 % of a worker's time at 200 webhooks/s (the statement is the same each time).
_KNOWN = {
    "phone": text(_IDENTITY + _AGENT.format(column="phone") + " LIMIT 1"),
    "telegram": text(_IDENTITY + _AGENT.format(column="telegram_chat_id") + " LIMIT 1"),
    "": text(_IDENTITY + " LIMIT 1"),
}


def _known(inbound: Inbound) -> tuple[Executable, dict[str, Any]]:
    """One statement and its parameters: a lead's identity, or an active agent, behind the
    sender's address (the agent test is `AgentDirectory`'s)."""
    params: dict[str, Any] = {"kind": inbound.identity_kind, "address": inbound.address}
    if inbound.identity_kind == "phone":
        return _KNOWN["phone"], params | {"active": True}
    if inbound.channel == "telegram":
        return _KNOWN["telegram"], params | {"active": True}
    return _KNOWN[""], params


def _text(value: object) -> str:
    """A Redis reply as text ("" for none); the client decodes, but is typed for bytes too."""
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else ""


def _age(received_at: datetime) -> float:
    return max(0.0, (utcnow() - received_at).total_seconds())
