"""Feedback: after an agent closes a lead (DONE won|lost), one CSAT question (1-5) a configured
delay later, in the lead's language; for won deals also the NPS question (0-10) later. Answers
are read from free text ("5", "cinco", "10!", "muy bien", "terrible"), kept per agent for the
dashboard, and a low score alerts the team lead with the transcript link."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.handoff import HandoffConfig
from gateway.domain.feedback_scores import parse_score
from gateway.domain.lead_links import DEFAULT_TTL, sign_lead_link
from gateway.domain.outbound_gate import GateInput, GateLead, GateRules, Hold, Kind, Send, decide
from gateway.domain.quiet_hours import lead_state, lead_zone
from gateway.services import Services
from gateway.store.leads import audit
from gateway.store.models import Agent, Feedback, Lead, Message, Timer

ASK_CSAT = "feedback_csat"
ASK_NPS = "feedback_nps"
ANSWER_WINDOW = timedelta(days=7)
"""A score is read from the lead's messages for this long after the question."""


class FeedbackAsk:
    """Asks, reads and reports feedback."""

    def __init__(self, services: Services, gate: GateRules, handoff: HandoffConfig, *,
                 csat_after: timedelta = timedelta(days=1),
                 nps_after: timedelta = timedelta(days=14), low_csat: int = 2,
                 low_nps: int = 6) -> None:
        self.s, self.gate, self.handoff = services, gate, handoff
        self.csat_after, self.nps_after = csat_after, nps_after
        self.low = {"csat": low_csat, "nps": low_nps}
        services.timers.register(ASK_CSAT, self._ask)
        services.timers.register(ASK_NPS, self._ask)

    async def closed(self, session: AsyncSession, lead: Lead, agent_id: int | None,
                     conversation_id: int, outcome: str) -> None:
        """A lead was closed by its agent: schedule the questions for that outcome."""
        if outcome not in ("won", "lost"):
            return
        data = {"agent_id": agent_id, "conversation_id": conversation_id}
        now = self.s.clock()
        await self.s.timers.schedule(session, ASK_CSAT, now + self.csat_after,
                                     lead_id=lead.id, data={**data, "kind": "csat"})
        if outcome == "won":
            await self.s.timers.schedule(session, ASK_NPS, now + self.nps_after,
                                         lead_id=lead.id, data={**data, "kind": "nps"})

    async def _ask(self, session: AsyncSession, timer: Timer) -> None:
        lead = await session.get(Lead, timer.lead_id) if timer.lead_id else None
        if lead is None or lead.opted_out or not lead.last_channel or not lead.last_address:
            return
        now = self.s.clock()
        zone = lead_zone(lead.phone, lead.timezone, self.handoff.policy.business_hours.timezone)
        decision = decide(GateInput(Kind.INITIATED),
                          GateLead(opted_out=False, zone=zone, state=lead_state(lead.phone)),
                          now, self.gate)
        if isinstance(decision, Hold):
            await self.s.timers.schedule(session, timer.kind, decision.until, lead_id=lead.id,
                                         data=dict(timer.data))
            return
        if not isinstance(decision, Send):
            return
        kind = str(timer.data.get("kind") or "csat")
        agent_id = timer.data.get("agent_id")
        agent = await session.get(Agent, int(agent_id)) if agent_id else None
        name = agent.name.split()[0] if agent and agent.name else \
            self.s.templates.render("handoff_fallback_name", lead.language)
        text = self.s.templates.render(f"feedback_{kind}", lead.language, agent_name=name)
        session.add(Feedback(lead_id=lead.id, agent_id=agent.id if agent else None,
                             conversation_id=timer.data.get("conversation_id"), kind=kind,
                             asked_at=now))
        await self.s.outbox.queue(session, channel=lead.last_channel,
                                  address=lead.last_address, text=text, author="system",
                                  lead_id=lead.id, language=lead.language)
        audit(session, "feedback.asked", lead_id=lead.id, agent_id=agent.id if agent else None,
              at=now, kind=kind)

    async def on_lead_reply(self, session: AsyncSession, lead: Lead, message: Message) -> bool:
        """Read a score from the lead's message when a question is open; True when it was
        one (recorded, thanked, and not sent on to the assistant)."""
        now = self.s.clock()
        if all(parse_score(message.text, kind, lead.language) is None for kind in ("nps", "csat")):
            return False  # no score in it: no question to look up (most messages, no query)
        open_q = await session.scalar(
            select(Feedback).where(Feedback.lead_id == lead.id, Feedback.score.is_(None),
                                   Feedback.asked_at > now - ANSWER_WINDOW)
            .order_by(Feedback.id.desc()).limit(1))
        if open_q is None:
            return False
        score = parse_score(message.text, "nps" if open_q.kind == "nps" else "csat",
                            lead.language)
        if score is None:
            return False
        open_q.score, open_q.answered_at = score, now
        audit(session, "feedback.received", lead_id=lead.id, agent_id=open_q.agent_id, at=now,
              kind=open_q.kind, score=score)
        await self.s.outbox.queue(
            session, channel=message.channel, address=message.address,
            text=self.s.templates.render("feedback_thanks", lead.language), author="system",
            lead_id=lead.id, conversation_id=message.conversation_id, language=lead.language)
        if score <= self.low[open_q.kind]:
            await self._alert_low(session, lead, open_q)
        return True

    async def _alert_low(self, session: AsyncSession, lead: Lead, fb: Feedback) -> None:
        """A low score: the agent's team lead gets it with the transcript link."""
        agent = await session.get(Agent, fb.agent_id) if fb.agent_id else None
        lead_cfg = self.handoff.team_lead(agent.team if agent else None)
        boss = await session.scalar(select(Agent).where(Agent.key == lead_cfg.key)) \
            if lead_cfg else None
        if boss is None or not boss.phone:
            return
        s = self.s.settings
        base = (s.dashboard_url or s.public_url).rstrip("/")
        template = self.handoff.policy.transcript_path
        secret = s.session_secret.get_secret_value()
        link = base + (sign_lead_link(secret, lead.id, self.s.clock() + DEFAULT_TTL, template)
                       if secret else template.format(lead_id=lead.id))
        text = self.s.templates.render(
            "agent_low_feedback", boss_language(self.handoff, boss), kind=fb.kind.upper(),
            score=str(fb.score), agent=agent.name if agent else "?",
            lead=lead.name or f"#{lead.id}", link=link)
        await self.s.outbox.queue(session, channel="sms", address=boss.phone, text=text,
                                  author="system", agent_id=boss.id, lead_id=None)
        audit(session, "feedback.low_alerted", lead_id=lead.id, agent_id=boss.id,
              kind=fb.kind, score=fb.score)


def boss_language(config: HandoffConfig, agent: Agent) -> str:
    """An agent's alert language: the first they speak."""
    cfg = config.agent(agent.key)
    return cfg.languages[0] if cfg and cfg.languages else "en"
