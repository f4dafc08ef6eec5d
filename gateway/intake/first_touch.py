"""The first touch: Pronto writes first, within seconds of an intake, in the lead's language.

Runs in the worker as the queue event "intake" (in order with the lead's other messages). The
assistant writes the opening itself (Rasa, with the intake's facts as metadata), so the lead's
reply continues one qualification; when Rasa cannot be reached a template opens instead.

Nothing is texted without a consent basis or to an opted-out lead: an agent is alerted with
the lead instead. Outside the lead's quiet hours the text is held to the next allowed time and
the agent is alerted at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.channels.email import EMAIL
from gateway.domain.outbound_gate import GateInput, GateLead, GateRules, Hold, Kind, decide
from gateway.domain.quiet_hours import lead_state, lead_zone
from gateway.domain.utc import as_utc
from gateway.errors import BotUnavailable
from gateway.infra.bot_client import BotReply
from gateway.intake.record import INTAKE_EVENT
from gateway.messages import SMS
from gateway.pipeline_steps import bot_sender
from gateway.services import Services
from gateway.store.intake import has_consent
from gateway.store.leads import after_commit, audit, current_conversation
from gateway.store.models import Conversation, IntakeRecord, Lead, Timer

log = logging.getLogger(__name__)
OPENING = "/greet"
"""The opening is asked of the bot as the greet intent (Rasa parses "/intent" directly, no
NLU), with the intake's facts in the metadata."""


HELD_TOUCH = "intake_touch"
"""The timer that releases a first touch held by quiet hours."""


class FirstTouch:
    """Runs the first touch of one intake record."""

    def __init__(self, services: Services, gate: GateRules, default_zone: str) -> None:
        self.s = services
        self.gate, self.default_zone = gate, default_zone
        services.timers.register(HELD_TOUCH, self._release)

    def hold_until(self, lead: Lead) -> datetime | None:
        """When a text Pronto starts may reach this lead, if not now (quiet hours in the
        lead's zone and state, `config/compliance.yml`)."""
        gate_lead = GateLead(
            opted_out=False, zone=lead_zone(lead.phone, lead.timezone, self.default_zone),
            state=lead_state(lead.phone),
        )
        decision = decide(GateInput(Kind.INITIATED), gate_lead, self.s.clock(), self.gate)
        return decision.until if isinstance(decision, Hold) else None

    async def _release(self, session: AsyncSession, timer: Timer) -> None:
        """The held touch's time has come: queue it again, in order with the lead."""
        intake_id = int(timer.data.get("intake_id") or 0)
        record = await session.get(IntakeRecord, intake_id)
        lead = await session.get(Lead, timer.lead_id) if timer.lead_id else None
        if record is None or lead is None or record.data.get("touch") != "held":
            return
        record.data = {**record.data, "touch": "pending"}
        key, queue = lead.queue_key or "", self.s.queue

        async def enqueue() -> None:
            await queue.enqueue(key, INTAKE_EVENT, {"intake_id": intake_id})

        after_commit(session, enqueue)

    async def run(self, intake_id: int) -> None:
        """Touch the lead of `intake_id` once (a redelivered event finds it done)."""
        s = self.s
        async with s.store.transaction() as session:
            record = await session.get(IntakeRecord, intake_id)
            if record is None or record.data.get("touch") != "pending" or record.lead_id is None:
                return
            lead = await session.get(Lead, record.lead_id)
            if lead is None:
                return
            conv = await current_conversation(session, lead)
            outcome = await self._precheck(session, record, lead, conv)
            if outcome is not None:
                self._mark(session, record, lead, outcome)
                return
            # A missed call's text-back answers the caller's own contact just now: a reply,
            # never held. Forms and emails are Pronto writing first.
            # Quiet hours are for texts; an email-only lead is written to at once.
            until = None if record.kind == "call" or not lead.phone else self.hold_until(lead)
            if until is not None:
                await self._hold(session, record, lead, conv, until)
                return
            if conv.status != "bot":
                # Held overnight, and the agent was alerted meanwhile: the opening says a
                # person follows up, so the lead's answer reaches the agent it is relayed to.
                await self._queue(session, lead, conv.id,
                                  [self._template(record, lead, waiting=True)], "system")
                self._mark(session, record, lead, "template")
                return
            lead_id, conv_id = lead.id, conv.id
            intake = self._facts(record, lead)
            sender, language = bot_sender(lead), lead.language
            channel = SMS if lead.phone else EMAIL
        # The bot call is outside the transaction: no SQL connection held while Rasa thinks.
        metadata = {"language": language, "channel": channel, "intake": intake}
        try:
            reply: BotReply | None = await s.bot.send(
                sender, OPENING, metadata, s.settings.rasa_timeout_seconds)
        except BotUnavailable as exc:
            log.warning("rasa unavailable for the first touch of lead %s (%s)", lead_id, exc)
            reply = None
        async with s.store.transaction() as session:
            record = await session.get(IntakeRecord, intake_id)
            lead = await session.get(Lead, lead_id)
            if record is None or lead is None or record.data.get("touch") != "pending":
                return
            if lead.opted_out:  # opted out while the bot was asked
                self._mark(session, record, lead, "opted_out")
                return
            texts = list(reply.texts) if reply and reply.texts else [self._template(record, lead)]
            await self._queue(session, lead, conv_id, texts,
                              "bot" if reply and reply.texts else "system")
            self._mark(session, record, lead, "sent" if reply and reply.texts else "template")
        metrics.FIRST_TOUCH.labels(kind=record.kind).inc()
        created = record.created_at
        if created is not None:
            metrics.FIRST_TOUCH_LATENCY.observe(
                (s.clock() - as_utc(created)).total_seconds())

    async def _precheck(
        self, session: AsyncSession, record: IntakeRecord, lead: Lead, conv: Conversation
    ) -> str | None:
        """Why not to text now ("opted_out", "no_consent", "no_phone"), else None.

        Each of these alerts an agent with the lead, so a person still follows up.
        """
        reason = None
        if lead.opted_out:
            reason = "opted_out"
        elif not lead.phone and not lead.email:
            reason = "no_contact"
        elif not await has_consent(session, lead.id):
            reason = "no_consent"
        if reason is None or reason == "opted_out":
            return reason
        if self.s.handoff is not None and conv.status == "bot":
            await self.s.handoff.begin(
                session, lead=lead, conversation=conv, reason=f"intake_{reason}",
                payload={"lead": self._summary(record, lead)},
            )
        return reason

    async def _queue(self, session: AsyncSession, lead: Lead, conv_id: int, texts: list[str],
                     author: str) -> None:
        # A lead who gave only an email is written to by email (and answers by email).
        channel, address = (SMS, lead.phone) if lead.phone else (EMAIL, lead.email or "")
        for text in texts:
            await self.s.outbox.queue(
                session, channel=channel, address=address, text=text, author=author,
                lead_id=lead.id, conversation_id=conv_id, language=lead.language,
            )
        lead.last_channel, lead.last_address = channel, address

    async def _hold(self, session: AsyncSession, record: IntakeRecord, lead: Lead,
                    conv: Conversation, until: datetime) -> None:
        """Outside quiet hours: the text waits for `until`, the agent is alerted now."""
        record.data = {**record.data, "held_until": until.isoformat()}
        self._mark(session, record, lead, "held")
        await self.s.timers.schedule(session, HELD_TOUCH, until, lead_id=lead.id,
                                     data={"intake_id": record.id})
        if self.s.handoff is not None and conv.status == "bot":
            await self.s.handoff.begin(
                session, lead=lead, conversation=conv, reason="intake_quiet_hours",
                payload={"lead": self._summary(record, lead)},
            )

    def _mark(self, session: AsyncSession, record: IntakeRecord, lead: Lead, touch: str) -> None:
        record.data = {**record.data, "touch": touch}
        audit(session, "intake.first_touch", lead_id=lead.id, intake_id=record.id,
              outcome=touch, kind=record.kind, at=self.s.clock())

    def _facts(self, record: IntakeRecord, lead: Lead) -> dict[str, Any]:
        listing = record.data.get("listing") or lead.listing or {}
        return {
            "kind": record.kind,
            "name": lead.name or "",
            "listing": str(listing.get("address") or "") if isinstance(listing, dict) else "",
            "lead_intent": record.data.get("lead_intent") or "",
            "brokerage": self.s.settings.brokerage,
            "source": record.source,
        }

    def _summary(self, record: IntakeRecord, lead: Lead) -> dict[str, Any]:
        facts = self._facts(record, lead)
        return {"name": lead.name, "intent": facts["lead_intent"] or "listing",
                "listing_ref": facts["listing"] or None, "language": lead.language,
                "unparsed": {}, "no_preference": []}

    def _template(self, record: IntakeRecord, lead: Lead, *, waiting: bool = False) -> str:
        facts = self._facts(record, lead)
        first = (lead.name or "").split()
        key = "first_touch_call" if record.kind == "call" else "first_touch"
        key = "first_touch_waiting" if waiting else key
        about = ""
        if facts["listing"]:
            about = (" sobre " if lead.language == "es" else " about ") + facts["listing"]
        return self.s.templates.render(
            key, lead.language, name_part=f" {first[0]}" if first else "",
            brokerage=self.s.settings.brokerage, about=about)
