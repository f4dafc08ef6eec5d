"""The worker pipeline for one queued event: dedupe → agent or lead → store → compliance →
language → human or bot. The bot step is bounded by the acknowledgement budget (from arrival):
when Rasa is slow, saturated or down the lead is acknowledged at once in its language, and the
message stays `pending` until Rasa answers (a durable `bot_retry` timer drains it, in order).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.ack_lane import ACK_QUIET_SECONDS, ACK_SENT, AckLane, lane_has, record_lane_ack, take
from gateway.channels.base import ShowsTyping
from gateway.compliance_flow import ComplianceFlow
from gateway.errors import BotUnavailable
from gateway.infra.bot_client import BotReply
from gateway.infra.queue import Event
from gateway.infra.timers import has_pending
from gateway.media_intake import fetch_media, pending_media
from gateway.messages import Inbound
from gateway.phone_claims import PhoneClaims
from gateway.pipeline_steps import (
    answers,
    bot_sender,
    contact,
    decide_language,
    default_language,
    fill_agent_name,
    progress,
    request_handoff,
)
from gateway.rasa_slots import RasaSlots
from gateway.services import Services
from gateway.store.agent_directory import AgentDirectory
from gateway.store.leads import (
    after_commit,
    audit,
    current_conversation,
    find_or_create_lead_in_conversation,
    lead_with_conversation,
    pending_bot_messages,
)
from gateway.store.models import Lead, Message, Timer

log = logging.getLogger(__name__)
BOT_RETRY = "bot_retry"
__all__ = ["BOT_RETRY", "Pipeline", "bot_sender", "fill_agent_name"]


class Pipeline:
    """Processes queue events; one instance per worker process."""

    def __init__(self, services: Services) -> None:
        self.s = services
        services.timers.register(BOT_RETRY, self._on_bot_retry_timer)
        self._slots = RasaSlots(services.settings.rasa_concurrency,
                                services.settings.ack_budget_seconds)
        """At most this many turns at Rasa from this process: more only queue inside Rasa."""
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {}
        self._fresh: dict[int, tuple[Lead, list[Message], bool]] = {}
        """A lead, its pending messages and whether the message created it, read by `_record`
        for `drain` (no second read)."""
        self._acked: set[int] = set()
        """Messages acknowledged already (in the transaction that stored them, or by the lane)."""
        self._agents = AgentDirectory()
        self.lane = AckLane(services, backlogged=self._slots.backlogged)
        """The acknowledgement lane; the worker runs it (`lane.run`)."""
        self.register(ACK_SENT, lambda body: record_lane_ack(services, body))

    def register(self, event_type: str, handler: Callable[[dict[str, Any]], Awaitable[None]]
                 ) -> None:
        """Handle queue events of `event_type` (e.g. intake's first touch) with `handler`,
        called with the event body; they run serialised per lead like messages."""
        self.handlers[event_type] = handler

    # -- entry -----------------------------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """Process one queue event (the worker serialises events of one key)."""
        if event.type == "inbound":
            await self.inbound(Inbound.from_json(event.body["inbound"]))
        elif event.type == BOT_RETRY:
            await self.drain(int(event.body["lead_id"]))
        elif event.type in self.handlers:
            await self.handlers[event.type](event.body)
        else:
            log.warning("unknown event type %s", event.type)

    async def inbound(self, inbound: Inbound) -> None:
        """Process one inbound message. A redelivery is told by SQL alone: the message's row
        (unique channel and provider id) says it was handled; no Redis key per message."""
        await take(self.s, inbound)  # the lane leaves it to us from now on
        lead_id = await self._record(inbound)
        if lead_id is not None:
            await self.drain(lead_id, received_at=inbound)
        await fetch_media(self.s, inbound)  # after the bot's turn, best effort (media_intake)

    # -- record: everything up to the bot call, in one transaction ----------------------------

    async def _record(self, inbound: Inbound) -> int | None:
        """Store the message and apply every rule; returns a lead id when the bot must answer."""
        try:
            return await self._record_once(inbound)
        except IntegrityError:
            # Rolled back whole: the message's unique (channel, provider_id) row is there. A
            # redelivery (the stream's, after a crash or a partition handover, or racing the
            # original) is told this way, not by a look before every message: that look was
            # a statement on each of them, and redeliveries are rare.
            row = await self.s.store.read_first(
                select(Message.lead_id, Message.bot_status).where(
                    Message.channel == inbound.channel,
                    Message.provider_id == inbound.provider_id))
            if row is None:
                raise
            if row.bot_status == "pending" and row.lead_id is not None:
                return int(row.lead_id)  # it crashed before the bot answered: resume
            metrics.DUPLICATES.labels(channel=inbound.channel).inc()
            return None  # a redelivery of a message already handled

    async def _record_once(self, inbound: Inbound) -> int | None:
        async with self.s.store.transaction() as session:
            agent = await self._agents.find(session, inbound)
            if agent is not None and self.s.handoff is not None:
                msg = self._message(inbound, author="agent", agent_id=agent.id)
                await self._store_new(session, msg)
                await self.s.handoff.on_agent_message(
                    session, agent=agent, inbound=inbound, message=msg
                )
                return None

            default = default_language(self.s.settings, inbound)
            lead, conv, created = await find_or_create_lead_in_conversation(
                session, inbound, default)
            msg = self._message(inbound, author="lead", lead_id=lead.id, conversation_id=conv.id)
            await self._store_new(session, msg)

            if inbound.action == "contact":
                await contact(self.s, session, lead, inbound)
                msg.bot_status = "skipped"
                return None
            if inbound.action != "message":
                msg.bot_status = "skipped"  # a button from someone who is not an agent
                return None

            # Keywords, revocation in free text, flagged requests: answered there, no further.
            if await ComplianceFlow(self.s).screen(session, lead, msg, inbound, created=created):
                return None
            if lead.opted_out:
                msg.bot_status = "skipped"
                audit(session, "message.ignored_opted_out", lead_id=lead.id, message_id=msg.id)
                return None

            if await PhoneClaims(self.s).answer(session, lead, msg, inbound):
                return None  # the code texted to a phone the visitor gave
            decide_language(self.s, session, lead, msg, inbound, created=created, default=default)
            conv.last_lead_message_at = inbound.received_at
            if await answers(self.s, session, lead, conv, msg):
                return None
            if conv.status != "bot" and self.s.handoff is not None:
                msg.bot_status = "skipped"
                await self.s.handoff.on_lead_message(session, lead=lead, conversation=conv,
                                                     message=msg)
                return None
            msg.bot_status = "pending"
            if await lane_has(self.s, session, lead.id, conv.id, msg, inbound):
                self._acked.add(msg.id)  # the acknowledgement lane's, not ours
            elif created and self._slots.ack_due(msg) and await self._ack_once(lead):
                # A backlog: the budget is short already, so acknowledge in this transaction.
                await self._queue_ack(session, lead, msg)
                self._acked.add(msg.id)
            # What `drain` needs, read here: its own session would cost three round trips more.
            # A new lead has nothing else pending; a known one may (Rasa was down).
            self._fresh[lead.id] = (
                lead, [msg] if created else await pending_bot_messages(session, lead.id),
                created)
            return lead.id

    async def _store_new(self, session: AsyncSession, msg: Message) -> None:
        """Insert an inbound message: one INSERT, no savepoint around it (that costs two round
        trips more on every message). A race over its unique (channel, provider_id) fails
        the whole transaction, and `_record` tells a duplicate from a fault."""
        session.add(msg)
        await session.flush()

    def _message(self, inbound: Inbound, *, author: str, **ids: Any) -> Message:
        return Message(direction="in", author=author, channel=inbound.channel,
                       address=inbound.address, provider_id=inbound.provider_id,
                       text=inbound.text, received_at=inbound.received_at, status="received",
                       media=pending_media(inbound) if author == "lead" else None, **ids)

    # -- bot ---------------------------------------------------------------------------------

    async def drain(self, lead_id: int, received_at: Inbound | None = None) -> None:
        """Send the lead's pending messages to Rasa, oldest first; stop at the first failure."""
        fresh = self._fresh.pop(lead_id, None)
        created = False
        if fresh is not None and received_at is not None:
            lead, pending, created = fresh
        else:
            async with self.s.store.maker() as session:
                pending = await pending_bot_messages(session, lead_id)
                found = await session.get(Lead, lead_id)
            if found is None:
                return
            lead = found
        # A retry drains (no inbound), or a message waits from a failed turn: only then is
        # there a failure count to clear after an answer (one Redis command fewer a turn).
        retried = received_at is None or len(pending) > 1
        for i, msg in enumerate(pending):
            newest = i == len(pending) - 1
            ok = await self._ask_bot(lead, msg, budget=newest, retried=retried, first=created)
            if not ok:
                return
            if newest and received_at is not None:
                metrics.FIRST_REPLY.observe(
                    (self.s.clock() - received_at.received_at).total_seconds()
                )

    async def _ask_bot(self, lead: Lead, msg: Message, *, budget: bool, retried: bool,
                       first: bool = False) -> bool:
        adapter = self.s.channels.get(msg.channel)
        if isinstance(adapter, ShowsTyping):
            await adapter.typing(msg.address)
        acked = msg.id in self._acked
        self._acked.discard(msg.id)
        if budget and not acked and self._slots.ack_due(msg):
            acked = await self._ack(lead, msg)
        try:
            reply = await self._turn(lead, msg, wait_to_ack=budget and not acked)
        except BotUnavailable as exc:
            log.warning("rasa unavailable for lead %s (%s); will retry", lead.id, exc)
            if budget:
                await self._ack(lead, msg)  # once per lead and window: a repeat is a no-op
            await self._schedule_retry(lead.id)
            return False
        await self._apply(lead.id, msg, reply, retried=retried, first=first)
        return True

    async def _turn(self, lead: Lead, msg: Message, *, wait_to_ack: bool) -> BotReply:
        """One Rasa turn in a Rasa slot; acknowledges if the wait for a slot, or the turn,
        would outlast the budget left (`gateway.rasa_slots`)."""
        metadata = {"language": msg.language or lead.language, "channel": msg.channel}
        loop = asyncio.get_running_loop()
        if await self._slots.take(msg, in_budget=wait_to_ack, ack=lambda: self._ack(lead, msg)):
            wait_to_ack = False  # acknowledged while it waited for a slot
        started, took = loop.time(), None
        try:
            call = asyncio.ensure_future(self.s.bot.send(
                bot_sender(lead), msg.text, metadata, self.s.settings.rasa_timeout_seconds))
            if wait_to_ack and not await self._slots.watch(msg, call):
                await self._ack(lead, msg)
            reply = await call
            took = loop.time() - started
        finally:
            self._slots.done(took)
        metrics.BOT_LATENCY.observe(took)
        return reply

    async def _ack_once(self, lead: Lead) -> bool:
        """Whether this is the lead's first acknowledgement in its quiet window (claimed)."""
        key = f"pronto:acked:{lead.id}"
        return bool(await self.s.redis.set(key, "1", nx=True, ex=ACK_QUIET_SECONDS))

    async def _ack(self, lead: Lead, msg: Message) -> bool:
        """Send the instant acknowledgement, at most once per lead per quiet window."""
        started = time.monotonic()
        if not await self._ack_once(lead):
            return False
        async with self.s.store.transaction() as session:
            fresh = await session.get(Lead, lead.id)
            if fresh is None or fresh.opted_out:
                return False
            await self._queue_ack(session, fresh, msg)
        self._slots.acked(time.monotonic() - started)  # the send ran in the commit's hooks
        return True

    async def _queue_ack(self, session: AsyncSession, lead: Lead, msg: Message) -> None:
        lang = msg.language or lead.language
        await self.s.outbox.queue(
            session, channel=msg.channel, address=msg.address,
            text=self.s.templates.render("ack", lang, brokerage=self.s.settings.brokerage),
            author="system", lead_id=lead.id, conversation_id=msg.conversation_id,
            language=lang)
        audit(session, "bot.ack_sent", lead_id=lead.id, message_id=msg.id)

        async def counted() -> None:
            metrics.ACKS.inc()

        after_commit(session, counted)

    async def _schedule_retry(self, lead_id: int) -> None:
        async with self.s.store.transaction() as session:
            if await has_pending(session, lead_id, BOT_RETRY):
                return
            attempts = int(await self.s.redis.incr(f"pronto:bot-retries:{lead_id}"))
            await self.s.redis.expire(f"pronto:bot-retries:{lead_id}", 3600)
            delay = min(self.s.settings.rasa_retry_seconds * 2 ** min(attempts - 1, 4), 60.0)
            await self.s.timers.schedule(
                session, BOT_RETRY, self.s.clock() + timedelta(seconds=delay), lead_id=lead_id
            )

    async def _on_bot_retry_timer(self, session: AsyncSession, timer: Timer) -> None:
        lead = await session.get(Lead, timer.lead_id)
        if lead is None or not lead.queue_key:
            return
        key, lead_id = lead.queue_key, lead.id

        async def enqueue() -> None:
            await self.s.queue.enqueue(key, BOT_RETRY, {"lead_id": lead_id})

        after_commit(session, enqueue)

    async def _apply(self, lead_id: int, asked: Message, reply: BotReply, *,
                     retried: bool, first: bool = False) -> None:
        """Record the bot's answer, start a handoff if asked, and queue the texts. `first`:
        the lead was created by the asked message, so it has no follow-up to move yet.

        `asked` is the message as stored (detached): its row is read back only when the
        answer marks it (not understood, the ceiling): one SELECT fewer on most turns."""
        message_id = asked.id
        async with self.s.store.transaction() as session:
            # One conditional UPDATE claims the answer: after a partition handover the old and
            # new holder may both get here, and only one may queue the reply.
            won = await session.execute(
                update(Message).where(Message.id == message_id, Message.bot_status == "pending")
                .values(bot_status="done").execution_options(synchronize_session=False))
            if won.rowcount != 1:  # type: ignore[attr-defined]
                return
            found = await lead_with_conversation(session, lead_id)  # one query for both
            if found is None:
                return
            lead, open_conv = found
            marks = any(reply.custom(k) is not None for k in ("low_confidence", "not_understood"))
            handoff = reply.custom("handoff")
            msg = asked
            if marks or (handoff is not None and handoff.get("ceiling")):
                loaded = await session.get(Message, message_id)
                if loaded is None:
                    return
                msg = loaded
            if retried:
                await self.s.redis.delete(f"pronto:bot-retries:{lead_id}")
            # Both mark the message for the dashboard's "not understood" view: a low-confidence
            # intent, or an answer the bot could not use (a re-ask, or given up on).
            for kind in ("low_confidence", "not_understood"):
                low = reply.custom(kind)
                if low is None:
                    continue
                msg.low_confidence = True
                msg.intent = str(low.get("intent") or "") or None
                conf = low.get("confidence")
                msg.confidence = float(conf) if isinstance(conf, int | float) else None
                audit(session, f"nlu.{kind}", lead_id=lead_id, message_id=msg.id,
                      intent=msg.intent, confidence=msg.confidence,
                      topic=low.get("topic"), attempt=low.get("attempt"))
            if lead.opted_out:
                return
            conv = open_conv or await current_conversation(session, lead)
            agent_name = None
            if handoff is not None:
                if handoff.get("ceiling"):
                    # The bot gave up at the message ceiling: the dashboard lists it.
                    msg.low_confidence, msg.intent = True, "ceiling"
                agent_name = await request_handoff(self.s, session, lead, conv, handoff)
            await progress(self.s, session, lead, conv, reply, handed_off=handoff is not None,
                           first=first)
            fallback = self.s.templates.render("handoff_fallback_name", lead.language)
            for text in reply.texts:
                await self.s.outbox.queue(
                    session,
                    channel=msg.channel,
                    address=msg.address,
                    text=fill_agent_name(text, agent_name or fallback),
                    author="bot",
                    lead_id=lead_id,
                    conversation_id=conv.id,
                    language=lead.language,
                    flush=False,  # the turn's texts are one INSERT, at the commit
                )
