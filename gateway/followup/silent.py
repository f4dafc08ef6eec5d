"""The silent-lead sequence and the cold-lead check-in.

After every assistant message that leaves a question open, the sequence restarts: nudges at
the configured offsets (10 min, 1 h, next morning, day 3, day 7), each in the lead's language
with what is known filled in. A step checks its stop conditions when it fires, so nothing a
later event changed is missed: any reply since the start, an opt-out, a handoff (the
conversation left the assistant), a closed conversation. Every step passes the outbound gate
(quiet hours in the lead's zone, state caps): a step due at 22:00 is moved to the next allowed
minute. When the sequence runs out, one check-in is scheduled for much later (90 days).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.followup import FollowupConfig
from gateway.domain.followup import due_at, fill, first_name
from gateway.domain.outbound_gate import GateInput, GateLead, GateRules, Hold, Kind, Refuse, decide
from gateway.domain.quiet_hours import lead_state, lead_zone
from gateway.domain.utc import as_utc
from gateway.messages import WHATSAPP
from gateway.services import Services
from gateway.store.leads import audit
from gateway.store.models import AuditEvent, Conversation, Lead, Timer

log = logging.getLogger(__name__)
SILENT = "followup_silent"
REENGAGE = "followup_reengage"
KINDS = (SILENT, REENGAGE)
WHATSAPP_WINDOW = timedelta(hours=24)
"""WhatsApp allows free-form text only within 24 h of the lead's last message."""


class FollowUp:
    """Schedules and sends follow-ups; one per worker process."""

    def __init__(self, services: Services, config: FollowupConfig, gate: GateRules,
                 default_zone: str) -> None:
        self.s, self.config, self.gate, self.default_zone = services, config, gate, default_zone
        services.timers.register(SILENT, self._fire_silent)
        services.timers.register(REENGAGE, self._fire_reengage)

    def zone(self, lead: Lead) -> str:
        """The lead's time zone (known, else the phone's, else the office's)."""
        return lead_zone(lead.phone, lead.timezone, self.default_zone)

    async def restart(self, session: AsyncSession, lead: Lead, conv: Conversation, *,
                      first: bool = False) -> None:
        """The assistant asked a question: the silent sequence starts again from now.

        `first`: the lead's first answer (the lead was created by the message answered), so
        no follow-up is pending: the first step is scheduled without an UPDATE that would
        find nothing (one statement fewer for every new lead)."""
        if not self.config.silent:
            await self.stop(session, lead.id)
            return
        start = self.s.clock()
        data = {"step": 0, "start": start.isoformat(), "conversation_id": conv.id}
        due = due_at(start, self.config.silent[0], self.zone(lead))
        if first:
            await self.s.timers.schedule(session, SILENT, due, lead_id=lead.id, data=data)
            return
        # Every message moves the lead's one pending follow-up: in place, not cancel + new.
        await self.s.timers.reschedule(
            session, SILENT, due, lead_id=lead.id, replaces=KINDS, data=data)

    async def stop(self, session: AsyncSession, lead_id: int) -> None:
        """Cancel the lead's pending follow-ups (a handoff, a reply)."""
        await self.s.timers.cancel(session, lead_id=lead_id, kinds=KINDS)

    async def went_cold(self, session: AsyncSession, lead: Lead) -> None:
        """Schedule the one check-in for a lead that went cold (closed lost / no answer)."""
        if self.config.reengage_after is None:
            return
        await self.stop(session, lead.id)
        await self.s.timers.schedule(session, REENGAGE, self.s.clock()
                                     + self.config.reengage_after, lead_id=lead.id)

    async def _schedule(self, session: AsyncSession, lead: Lead, conv_id: int, step: int,
                        start: datetime) -> None:
        steps = self.config.silent
        if step >= len(steps):
            await self.went_cold(session, lead)
            return
        due = due_at(start, steps[step], self.zone(lead))
        await self.s.timers.schedule(
            session, SILENT, due, lead_id=lead.id,
            data={"step": step, "start": start.isoformat(), "conversation_id": conv_id},
        )

    async def _fire_silent(self, session: AsyncSession, timer: Timer) -> None:
        lead = await session.get(Lead, timer.lead_id) if timer.lead_id else None
        conv_id = int(timer.data.get("conversation_id") or 0)
        conv = await session.get(Conversation, conv_id) if conv_id else None
        start = datetime.fromisoformat(str(timer.data["start"]))
        step = int(timer.data.get("step") or 0)
        if lead is None or conv is None:
            return
        why = _stopped(lead, conv, start)
        if why is not None:
            audit(session, "followup.stopped", lead_id=lead.id, reason=why, step=step,
                  at=self.s.clock())
            return
        template = self.config.silent[step].template if step < len(self.config.silent) else ""
        if await self._send(session, lead, conv, template, timer, step=step):
            await self._schedule(session, lead, conv.id, step + 1, start)

    async def _fire_reengage(self, session: AsyncSession, timer: Timer) -> None:
        lead = await session.get(Lead, timer.lead_id) if timer.lead_id else None
        if lead is None or lead.opted_out:
            return
        conv = await session.scalar(
            select(Conversation).where(Conversation.lead_id == lead.id)
            .order_by(Conversation.id.desc()).limit(1))
        if conv is not None and conv.status in ("pending", "pool", "agent"):
            return  # a person has the lead again
        await self._send(session, lead, conv, self.config.reengage_template, timer, step=-1)

    async def _send(self, session: AsyncSession, lead: Lead, conv: Conversation | None,
                    template: str, timer: Timer, *, step: int) -> bool:
        """Gate and send one follow-up; False when it was held (rescheduled) or refused."""
        now = self.s.clock()
        if not lead.last_channel or not lead.last_address:
            return False
        if lead.last_channel == WHATSAPP and conv is not None and conv.last_lead_message_at \
                and now - as_utc(conv.last_lead_message_at) > WHATSAPP_WINDOW:
            # Outside WhatsApp's 24-hour window free text is not allowed: skip, don't fail.
            audit(session, "followup.skipped", lead_id=lead.id, reason="whatsapp_window",
                  step=step, at=now)
            return True
        gate_lead = GateLead(opted_out=lead.opted_out, zone=self.zone(lead),
                             state=lead_state(lead.phone),
                             recent_initiated_utc=await self._recent_starts(session, lead.id))
        decision = decide(GateInput(Kind.INITIATED), gate_lead, now, self.gate)
        if isinstance(decision, Hold):
            await self.s.timers.schedule(session, timer.kind, decision.until, lead_id=lead.id,
                                         data=dict(timer.data))
            audit(session, "followup.held", lead_id=lead.id, until=decision.until.isoformat(),
                  reason=decision.reason, step=step, at=now)
            return False
        if isinstance(decision, Refuse):
            audit(session, "followup.refused", lead_id=lead.id, reason=decision.reason, at=now)
            return False
        text = fill(self.config.variants(template, lead.language), self._facts(lead))
        if text is None:
            log.warning("follow-up template %s has no variant for lead %s", template, lead.id)
            return True
        await self.s.outbox.queue(
            session, channel=lead.last_channel, address=lead.last_address, text=text,
            author="system", lead_id=lead.id, conversation_id=conv.id if conv else None,
            language=lead.language,
        )
        audit(session, "followup.sent", lead_id=lead.id, template=template, step=step, at=now)
        return True

    def _facts(self, lead: Lead) -> dict[str, str | None]:
        progress = (lead.qualification or {}).get("in_progress") or {}
        name = first_name(lead.name or progress.get("name"))
        location = progress.get("location") or (lead.qualification or {}).get("location")
        return {"first_name": name, "comma_name": f", {name}" if name else None,
                "location": str(location).strip().title()[:60] if location else None,
                "brokerage": self.s.settings.brokerage}

    async def _recent_starts(self, session: AsyncSession, lead_id: int) -> list[datetime]:
        since = self.s.clock() - timedelta(hours=24)
        rows = await session.scalars(
            select(AuditEvent.at).where(
                AuditEvent.lead_id == lead_id, AuditEvent.at >= since,
                AuditEvent.type.in_(("followup.sent", "intake.first_touch"))))
        return [as_utc(t) for t in rows]


def _stopped(lead: Lead, conv: Conversation, start: datetime) -> str | None:
    """Why the silent sequence ends here, if it does."""
    if lead.opted_out:
        return "opted_out"
    if conv.status != "bot":
        return "handoff" if conv.status in ("pending", "pool", "agent") else conv.status
    last = conv.last_lead_message_at
    if last is not None and as_utc(last) > start:
        return "reply"
    return None
