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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.errors import BotUnavailable
from gateway.infra.bot_client import BotReply
from gateway.messages import SMS
from gateway.pipeline import bot_sender
from gateway.services import Services
from gateway.store.intake import has_consent
from gateway.store.leads import audit, current_conversation
from gateway.store.models import Conversation, IntakeRecord, Lead

log = logging.getLogger(__name__)
OPENING = "/greet"
"""The opening is asked of the bot as the greet intent (Rasa parses "/intent" directly, no
NLU), with the intake's facts in the metadata."""


class FirstTouch:
    """Runs the first touch of one intake record."""

    def __init__(self, services: Services) -> None:
        self.s = services

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
            lead_id, conv_id = lead.id, conv.id
            intake = self._facts(record, lead)
            sender, language = bot_sender(lead), lead.language
        # The bot call is outside the transaction: no SQL connection held while Rasa thinks.
        metadata = {"language": language, "channel": SMS, "intake": intake}
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
            for text in texts:
                await s.outbox.queue(
                    session, channel=SMS, address=lead.phone or "", text=text,
                    author="bot" if reply and reply.texts else "system", lead_id=lead.id,
                    conversation_id=conv_id, language=lead.language,
                )
            lead.last_channel, lead.last_address = SMS, lead.phone
            self._mark(session, record, lead, "sent" if reply and reply.texts else "template")
        metrics.FIRST_TOUCH.labels(kind=record.kind).inc()
        created = record.created_at
        if created is not None:
            metrics.FIRST_TOUCH_LATENCY.observe(
                (s.clock() - _aware(created)).total_seconds())

    async def _precheck(
        self, session: AsyncSession, record: IntakeRecord, lead: Lead, conv: Conversation
    ) -> str | None:
        """Why not to text now ("opted_out", "no_consent", "no_phone"), else None.

        Each of these alerts an agent with the lead, so a person still follows up.
        """
        reason = None
        if lead.opted_out:
            reason = "opted_out"
        elif not lead.phone:
            reason = "no_phone"
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

    def _mark(self, session: AsyncSession, record: IntakeRecord, lead: Lead, touch: str) -> None:
        record.data = {**record.data, "touch": touch}
        audit(session, "intake.first_touch", lead_id=lead.id, intake_id=record.id,
              outcome=touch, kind=record.kind)

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

    def _template(self, record: IntakeRecord, lead: Lead) -> str:
        facts = self._facts(record, lead)
        first = (lead.name or "").split()
        key = "first_touch_call" if record.kind == "call" else "first_touch"
        about = ""
        if facts["listing"]:
            about = (" sobre " if lead.language == "es" else " about ") + facts["listing"]
        return self.s.templates.render(
            key, lead.language, name_part=f" {first[0]}" if first else "",
            brokerage=self.s.settings.brokerage, about=about)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)
