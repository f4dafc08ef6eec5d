"""Appointments: an agent sets a showing or consultation by SMS (`APPT <code> <when>`, EN/ES);
the prospect gets a confirmation at once and reminders before it (24 h and 2 h by default, in
the lead's language, through the outbound gate), and their answers are understood: "C" or
"confirmo" confirms, "can we do 6 instead?" asks to reschedule (the agent is told), "cancel"
cancels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain.appointment_time import format_when, parse_appointment_reply, parse_when
from gateway.domain.outbound_gate import GateInput, GateLead, GateRules, Hold, Kind, Send, decide
from gateway.domain.quiet_hours import lead_state, lead_zone
from gateway.domain.utc import as_utc
from gateway.followup.calendar import calendar_url
from gateway.services import Services
from gateway.store import handoff as hs
from gateway.store.leads import audit
from gateway.store.models import Agent, Appointment, Lead, Message, Timer

REMIND = "appt_reminder"
ACTIVE = ("scheduled", "confirmed", "reschedule")
Tell = Callable[..., Awaitable[None]]
"""`tell(session, agent, template, **values)`: a template to an agent (the handoff's)."""


class Appointments:
    """Sets appointments, reminds, and reads the prospect's answers."""

    def __init__(self, services: Services, gate: GateRules, default_zone: str,
                 reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2)),
                 ) -> None:
        self.s, self.gate, self.default_zone, self.reminders = (
            services, gate, default_zone, reminders)
        services.timers.register(REMIND, self._remind)

    async def set_by_agent(self, session: AsyncSession, agent: Agent, code: str, when: str,
                           tell: Tell) -> None:
        """`APPT <code> <when>`: record it, confirm to the prospect, schedule the reminders."""
        owned = await hs.owned_by_code(session, agent.id, code)
        lead = await session.get(Lead, owned[0].lead_id) if owned else None
        if owned is None or lead is None:
            await tell(session, agent, "agent_unknown_code", code=code)
            return
        conv = owned[0]
        zone = lead_zone(lead.phone, lead.timezone, self.default_zone)
        now = self.s.clock()
        starts = parse_when(when, now.astimezone(ZoneInfo(zone)), lead.language)
        if starts is None:
            await tell(session, agent, "agent_appt_usage", code=code)
            return
        for old in await self._active(session, lead.id, future_of=None):
            old.status = "cancelled"  # a new time replaces the old one
        await self.s.timers.cancel(session, lead_id=lead.id, kinds=(REMIND,))
        appt = Appointment(lead_id=lead.id, agent_id=agent.id, conversation_id=conv.id,
                           starts_at=starts.astimezone(UTC), zone=zone)
        session.add(appt)
        await session.flush()
        audit(session, "appointment.set", lead_id=lead.id, agent_id=agent.id, at=now,
              appointment_id=appt.id, starts_at=appt.starts_at.isoformat())
        await self._to_lead(session, lead, conv.id, "appt_confirmation", appt, agent)
        for before in self.reminders:
            due = appt.starts_at - before
            if due > now + timedelta(minutes=5):
                await self.s.timers.schedule(session, REMIND, due, lead_id=lead.id,
                                             data={"appointment_id": appt.id})
        # The agent's language is the handoff's to pick: both renderings go along.
        await tell(session, agent, "agent_appt_set", code=code,
                   when_en=format_when(starts, "en"), when_es=format_when(starts, "es"))

    async def on_lead_reply(self, session: AsyncSession, lead: Lead, message: Message
                            ) -> str | None:
        """Read a prospect's message as an answer about their upcoming appointment.

        Returns:
            "confirm", "reschedule" or "cancel" when it was one (recorded and audited), else
            None. The message still goes where it would (the agent sees it relayed).
        """
        # Parsed first: most messages are no answer, and then no appointment is looked up.
        answer = parse_appointment_reply(message.text, lead.language)
        if answer is None:
            return None
        upcoming = await self._active(session, lead.id, future_of=self.s.clock())
        if not upcoming:
            return None
        appt = upcoming[-1]
        appt.status = {"confirm": "confirmed", "reschedule": "reschedule",
                       "cancel": "cancelled"}[answer]
        if answer == "cancel":
            await self.s.timers.cancel(session, lead_id=lead.id, kinds=(REMIND,))
        audit(session, f"appointment.{appt.status}", lead_id=lead.id, agent_id=appt.agent_id,
              at=self.s.clock(), appointment_id=appt.id, message_id=message.id)
        return answer

    async def _active(self, session: AsyncSession, lead_id: int, *,
                      future_of: datetime | None) -> list[Appointment]:
        q = select(Appointment).where(Appointment.lead_id == lead_id,
                                      Appointment.status.in_(ACTIVE)).order_by(Appointment.id)
        if future_of is not None:
            q = q.where(Appointment.starts_at > future_of)
        return list(await session.scalars(q))

    async def _remind(self, session: AsyncSession, timer: Timer) -> None:
        appt = await session.get(Appointment, int(timer.data.get("appointment_id") or 0))
        lead = await session.get(Lead, appt.lead_id) if appt else None
        if appt is None or lead is None or appt.status not in ("scheduled", "confirmed"):
            return
        now = self.s.clock()
        starts = as_utc(appt.starts_at)
        if starts <= now:
            return
        gate_lead = GateLead(opted_out=lead.opted_out, zone=appt.zone,
                             state=lead_state(lead.phone))
        decision = decide(GateInput(Kind.INITIATED), gate_lead, now, self.gate)
        if isinstance(decision, Hold):
            if decision.until < starts - timedelta(minutes=30):
                await self.s.timers.schedule(session, REMIND, decision.until, lead_id=lead.id,
                                             data=dict(timer.data))
            return  # otherwise too late to be useful: skipped, never sent at night
        if not isinstance(decision, Send):
            return
        agent = await session.get(Agent, appt.agent_id) if appt.agent_id else None
        await self._to_lead(session, lead, appt.conversation_id, "appt_reminder", appt, agent)
        audit(session, "appointment.reminded", lead_id=lead.id, at=now, appointment_id=appt.id)

    async def _to_lead(self, session: AsyncSession, lead: Lead, conv_id: int | None,
                       template: str, appt: Appointment, agent: Agent | None) -> None:
        if not lead.last_channel or not lead.last_address or lead.opted_out:
            return
        when = format_when(as_utc(appt.starts_at).astimezone(ZoneInfo(appt.zone)),
                           lead.language)
        name = agent.name.split()[0] if agent and agent.name else \
            self.s.templates.render("handoff_fallback_name", lead.language)
        extra = {}
        if template == "appt_confirmation":
            # The signed .ics link: every channel Pronto texts on shows a link; reminders
            # stay short and carry none.
            extra["ics"] = calendar_url(self.s.settings, appt.id, as_utc(appt.starts_at))
        text = self.s.templates.render(template, lead.language, when=when, agent_name=name,
                                       **extra)
        await self.s.outbox.queue(
            session, channel=lead.last_channel, address=lead.last_address, text=text,
            author="system", lead_id=lead.id, conversation_id=conv_id, language=lead.language)
