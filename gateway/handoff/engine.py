"""The handoff engine (I/O orchestration): route a qualified lead, alert agents, run the ladders.

Decisions come from the pure modules (`routing`, `escalation`, `agent_commands`); this module
reads SQL, applies those decisions with conditional UPDATEs (so racing workers end in exactly
one outcome), queues messages through the outbox (sent after commit) and schedules timers.
Agent commands live in `gateway.handoff.agent`, the ladders' timer handlers in
`gateway.handoff.timers`.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.handoff import AgentConfig, HandoffConfig, load_handoff_config
from gateway.domain import escalation as esc
from gateway.domain.lead_summary import summarize
from gateway.domain.routing import route
from gateway.handoff import agent as handoff_agent
from gateway.handoff import timers as handoff_timers
from gateway.handoff.agent import REPLY_CHANNEL
from gateway.infra.timers import Timers, has_pending
from gateway.media_intake import with_attachments
from gateway.messages import Button, Inbound
from gateway.store import handoff as hs
from gateway.store.handoff import sync_agents
from gateway.store.leads import audit
from gateway.store.models import Agent, Assignment, Conversation, Lead, Message

if TYPE_CHECKING:
    from gateway.services import Services

__all__ = ["Handoff", "load_handoff_config", "sync_agents"]
log = logging.getLogger(__name__)
_QUALIFICATION_KEYS = (
    "intent", "location", "budget_min", "budget_max", "timeline_days", "timeline_text",
    "financing", "bedrooms", "name", "language", "score", "budget_text", "unparsed",
    "no_preference",
)


class Handoff:
    """`HandoffService` implementation: routing, alerts, accept/pass, relays and escalation."""

    def __init__(self, services: Services, config: HandoffConfig) -> None:
        self.services = services
        self.config = config
        self.timers: Timers = services.timers

    # --- pipeline entry points -------------------------------------------------------------

    def register_timers(self, timers: Timers) -> None:
        """Register the ladder timer kinds on `timers` (the worker's instance)."""
        self.timers = timers
        for kind, handler in (
            (esc.ACCEPT_HALF, handoff_timers.on_accept_half),
            (esc.ACCEPT_DEADLINE, handoff_timers.on_accept_deadline),
            (esc.REPLY_LAPSE, handoff_timers.on_reply_lapse),
            (esc.UNCLAIMED, handoff_timers.on_unclaimed),
        ):
            timers.register(kind, functools.partial(handler, self))

    async def begin(
        self,
        session: AsyncSession,
        *,
        lead: Lead,
        conversation: Conversation,
        reason: str,
        payload: dict[str, Any],
    ) -> str:
        """Record the qualification, route the lead, alert the agent(s), start the timers.

        Returns:
            The name to show the lead: the owning agent's first name for a returning lead,
            the offered agent's first name when one agent was alerted, otherwise the neutral
            "an agent" in the lead's language.
        """
        now = self.services.clock()
        data = payload.get("lead") or {}
        merged = dict(lead.qualification or {})
        merged.update({k: data[k] for k in _QUALIFICATION_KEYS if data.get(k) is not None})
        lead.qualification = merged
        if data.get("score") is not None:
            lead.score = int(data["score"])
        if data.get("name"):
            lead.name = str(data["name"])[:200]
        fallback = self.services.templates.render("handoff_fallback_name", lead.language)
        conversation.handoff_reason = reason
        audit(session, "handoff.begin", lead_id=lead.id, at=now, reason=reason,
              conversation_id=conversation.id, score=lead.score)
        if conversation.status in ("pending", "pool", "agent"):
            return fallback  # already handed off; a repeated payload changes nothing
        conversation.status = "pending"
        conversation.agent_id = None
        agents = await hs.active_agents(session)
        owner_id = await hs.previous_owner(session, lead.id)
        owner = next((a for a in agents.values() if a.id == owner_id), None)
        if owner is not None:
            await self.offer(session, lead, conversation, [owner], rule="owner", attempt=1)
            return owner.name.split()[0]
        chosen = await self.next_round(session, lead, conversation, attempt=1)
        # One agent offered (single mode): the prospect is told who will follow up; with
        # several alerted at once nobody is named until one accepts.
        return chosen[0].name.split()[0] if len(chosen) == 1 else fallback

    async def on_lead_message(
        self, session: AsyncSession, *, lead: Lead, conversation: Conversation, message: Message
    ) -> None:
        """The lead wrote while a human owns (or is being offered) the conversation."""
        now = self.services.clock()
        conversation.last_lead_message_at = now
        if conversation.status != "agent" or conversation.agent_id is None:
            audit(session, "handoff.lead_waiting", lead_id=lead.id, at=now,
                  status=conversation.status, message_id=message.id)
            await self._waiting_note(session, lead, conversation)
            return
        agent = await session.get(Agent, conversation.agent_id)
        if agent is None:
            return
        code = await hs.conversation_code(session, conversation.id)
        cfg = self.config.agent(agent.key)
        lang = cfg.languages[0] if cfg else "en"
        text = self.services.templates.render(
            "agent_relay", lang, code=code, name=lead.name or f"#{lead.id}",
            text=with_attachments(self.services.templates, lang, message.text, message.media))
        await self.notify(session, agent, text, lead_id=lead.id, single=True)
        audit(session, "relay.lead_to_agent", lead_id=lead.id, agent_id=agent.id, at=now,
              message_id=message.id)
        if not await has_pending(session, lead.id, esc.REPLY_LAPSE):
            ladder = self.reply_ladder(now)
            await self.timers.schedule(
                session, esc.REPLY_LAPSE, now + ladder.sla, lead_id=lead.id,
                data={"step": 0, "agent_id": agent.id, "conversation_id": conversation.id},
            )

    async def _waiting_note(self, session: AsyncSession, lead: Lead, conv: Conversation) -> None:
        """Tell a prospect who writes before any agent answers that their agent will see it."""
        sent = int(await self.services.redis.incr(f"pronto:waiting-notes:{lead.id}"))
        await self.services.redis.expire(f"pronto:waiting-notes:{lead.id}", 7 * 24 * 3600)
        await self.send_lead(session, lead, conv, f"lead_waiting_{(sent - 1) % 3}")

    async def on_agent_message(
        self, session: AsyncSession, *, agent: Agent, inbound: Inbound, message: Message
    ) -> None:
        """A registered agent wrote or pressed a button: run the command or relay the text."""
        await handoff_agent.handle(self, session, agent, inbound, message)

    # --- routing and offers ----------------------------------------------------------------

    async def next_round(
        self, session: AsyncSession, lead: Lead, conversation: Conversation, *, attempt: int
    ) -> list[Agent]:
        """Offer the lead to the next eligible agent(s), or escalate when the ladder says so.

        Returns the agents offered the lead (none when it escalated instead).
        """
        now = self.services.clock()
        agents = await hs.active_agents(session)
        tried = await hs.round_assignments(session, conversation.id)
        exclude = frozenset(a.key for a in agents.values() if a.id in {t.agent_id for t in tried})
        policy = self.config.policy
        fanout = policy.claim_fanout if policy.mode == "first_to_claim" else 1
        decision = route(
            self.config.profiles, await hs.agent_loads(session, agents),
            self.config.facts(lead.language, lead.qualification, lead.source, lead.listing),
            now, exclude=exclude, fanout=fanout,
        )
        business = self.business(now)
        # Attempt 2 is the first reassignment, so before offering attempt N, N - 2 are done.
        steps = esc.on_accept_deadline(
            max(attempt - 2, 0), self.accept_ladder(now), has_candidate=bool(decision.agents),
            business=business,
        )
        if esc.REASSIGN in steps or (attempt == 1 and decision.agents):
            rule = decision.rule if fanout == 1 else f"first_to_claim:{decision.rule}"
            chosen = [agents[k] for k in decision.agents]
            await self.offer(session, lead, conversation, chosen, rule=rule, attempt=attempt)
            return chosen
        await self.unclaimed(session, lead, conversation, steps, attempt=attempt, tried=tried)
        return []

    async def offer(
        self,
        session: AsyncSession,
        lead: Lead,
        conversation: Conversation,
        agents: list[Agent],
        *,
        rule: str,
        attempt: int,
        timers: bool = True,
    ) -> str:
        """Create offered assignments, alert each agent, start the accept timers; the code."""
        now = self.services.clock()
        code = await hs.conversation_code(session, conversation.id)
        ladder = self.accept_ladder(now)
        for agent in agents:
            a = Assignment(
                lead_id=lead.id, conversation_id=conversation.id, agent_id=agent.id, code=code,
                status="offered", rule=rule, attempt=attempt, offered_at=now,
            )
            session.add(a)
            await session.flush()
            audit(session, "assignment.offered", lead_id=lead.id, agent_id=agent.id, at=now,
                  assignment_id=a.id, code=code, rule=rule, attempt=attempt)
            await self.alert(session, agent, lead, code, "agent_alert")
            if timers:
                for kind, due in esc.accept_timers(now, ladder):
                    await self.timers.schedule(
                        session, kind, due, lead_id=lead.id, assignment_id=a.id
                    )
        log.info("lead %s offered to %d agent(s) by %s (attempt %d)", lead.id, len(agents),
                 rule, attempt)
        return code

    async def unclaimed(
        self,
        session: AsyncSession,
        lead: Lead,
        conversation: Conversation,
        steps: tuple[str, ...],
        *,
        attempt: int,
        tried: list[Assignment],
    ) -> None:
        """Nobody (more) to offer: alert the team lead, open the pool, tell the prospect."""
        now = self.services.clock()
        code = await hs.conversation_code(session, conversation.id)
        team = await self._team(session, tried)
        lead_cfg = self.config.team_lead(team)
        agents = await hs.active_agents(session)
        team_lead = agents.get(lead_cfg.key) if lead_cfg else None
        already = {t.agent_id for t in tried}
        if esc.TEAM_LEAD in steps and team_lead is not None and team_lead.id not in already:
            session.add(Assignment(
                lead_id=lead.id, conversation_id=conversation.id, agent_id=team_lead.id,
                code=code, status="offered", rule="team_lead", attempt=attempt, offered_at=now,
            ))
            audit(session, "escalation.team_lead", lead_id=lead.id, agent_id=team_lead.id,
                  at=now, code=code, attempts=len(tried))
            await self.alert(session, team_lead, lead, code, "team_lead_unclaimed",
                             attempts=len(tried))
        if esc.POOL in steps and await hs.transition(
            session, Conversation, conversation.id, where={"status": "pending"}, status="pool"
        ):
            conversation.status = "pool"
            audit(session, "escalation.pool", lead_id=lead.id, at=now, code=code, team=team)
            for agent in agents.values():
                cfg = self.config.agent(agent.key)
                if cfg and cfg.team == team and agent is not team_lead and cfg.receives_leads:
                    await self.alert(session, agent, lead, code, "pool_alert", buttons=False)
        if esc.TELL_PROSPECT in steps:
            opening = self.config.business.next_opening(now)
            if opening is not None and not lead.opted_out:
                when = esc.describe_opening(opening, now, lead.language)
                await self.send_lead(session, lead, conversation, "lead_callback_time", when=when)
                audit(session, "escalation.prospect_told", lead_id=lead.id, at=now,
                      expect_at=opening.isoformat())
        # The end of the ladder has a deadline too (DESIGN §1.9): nobody may wait unseen.
        p = self.config.policy.accept
        await self.timers.schedule(
            session, esc.UNCLAIMED,
            now + timedelta(minutes=p.remind_minutes.pick(self.business(now))),
            lead_id=lead.id, data={"n": 1, "conversation_id": conversation.id, "team": team},
        )
        log.info("lead %s unclaimed: %s", lead.id, ",".join(steps))

    async def after_decline(self, session: AsyncSession, a: Assignment) -> None:
        """After an offer expired or was passed: next round unless others are still offered."""
        conv = await session.get(Conversation, a.conversation_id)
        lead = await session.get(Lead, a.lead_id)
        if conv is None or lead is None or conv.status != "pending":
            return
        rnd = await hs.round_assignments(session, conv.id)
        if any(x.status == "offered" for x in rnd):
            return  # first-to-claim: other agents may still accept
        await self.next_round(session, lead, conv, attempt=max(x.attempt for x in rnd) + 1)

    # --- messaging helpers ------------------------------------------------------------------

    async def alert(
        self, session: AsyncSession, agent: Agent, lead: Lead, code: str, template: str,
        *, buttons: bool = True, **extra: Any,
    ) -> None:
        """Send a lead alert (summary, transcript link, Accept/Pass buttons on Telegram)."""
        lang = self.agent_language(agent)
        summary = summarize(
            lead.qualification or {}, name=lead.name, lead_language=lead.language,
            channel=lead.last_channel, score=lead.score, language=lang,
        )
        text = self.services.templates.render(
            template, lang, code=code, summary=summary, link=self.link(lead.id), **extra
        )
        labels = ("Aceptar", "Pasar") if lang == "es" else ("Accept", "Pass")
        btns = (Button(labels[0], f"accept:{code}"), Button(labels[1], f"pass:{code}"))
        await self.notify(session, agent, text, lead_id=lead.id,
                          buttons=btns if buttons else (Button(labels[0], f"accept:{code}"),))

    async def tell_agent(self, session: AsyncSession, to: Agent, template: str,
                         **values: Any) -> None:
        """Send an agent a template in their language, on one channel."""
        text = self.services.templates.render(template, self.agent_language(to), **values)
        await self.notify(session, to, text, single=True)

    async def notify(
        self, session: AsyncSession, agent: Agent, text: str, *, lead_id: int | None = None,
        buttons: tuple[Button, ...] = (), single: bool = False,
    ) -> None:
        """Queue a message to an agent on their channels (Telegram first when `single`)."""
        cfg = self.config.agent(agent.key)
        wanted = list(cfg.notify) if cfg else ["sms"]
        can_tg = bool(agent.telegram_chat_id) and "telegram" in self.services.channels
        targets = [
            c for c in wanted if (c == "sms" and agent.phone) or (c == "telegram" and can_tg)
        ]
        if not targets and agent.phone:
            targets = ["sms"]
        if single and len(targets) > 1:
            # An answer to a command goes back where the agent wrote; otherwise Telegram
            # (threads let the agent reply under the message).
            agent_id, via = session.info.get(REPLY_CHANNEL, (None, None))
            if agent_id == agent.id and via in targets:
                targets = [via]
            else:
                targets = ["telegram"] if "telegram" in targets else targets[:1]
        for ch in targets:
            await self.services.outbox.queue(
                session, channel=ch,
                address=agent.telegram_chat_id if ch == "telegram" else agent.phone,  # type: ignore[arg-type]
                text=text, author="system", agent_id=agent.id, lead_id=lead_id,
                language=self.agent_language(agent),
                buttons=buttons if ch == "telegram" else (),
            )

    async def send_lead(self, session: AsyncSession, lead: Lead, conv: Conversation,
                        template: str, **values: Any) -> None:
        """Send the lead a template in its language (never to an opted-out lead)."""
        if lead.opted_out or not lead.last_channel or not lead.last_address:
            return
        text = self.services.templates.render(
            template, lead.language, brokerage=self.services.settings.brokerage, **values
        )
        await self.services.outbox.queue(
            session, channel=lead.last_channel, address=lead.last_address, text=text,
            author="system", lead_id=lead.id, conversation_id=conv.id, language=lead.language,
        )

    # --- small helpers ----------------------------------------------------------------------

    def agent_language(self, agent: Agent) -> str:
        """The language of an agent's alerts: the first language they speak."""
        cfg: AgentConfig | None = self.config.agent(agent.key)
        return cfg.languages[0] if cfg else "en"

    def link(self, lead_id: int) -> str:
        """The transcript link for agent alerts: signed for this lead and expiring (7 days),
        so the agent reads it on the phone without the admin token. Unsigned (admin login
        needed) only when no session secret is set."""
        from gateway.domain.lead_links import DEFAULT_TTL, sign_lead_link

        s = self.services.settings
        base = (s.dashboard_url or s.public_url).rstrip("/")
        path, secret = self.config.policy.transcript_path, s.session_secret.get_secret_value()
        if not secret:
            return base + path.format(lead_id=lead_id)
        return base + sign_lead_link(secret, lead_id, self.services.clock() + DEFAULT_TTL, path)

    def business(self, now: datetime) -> bool:
        """Whether the office is in business hours at `now`."""
        return self.config.business.contains(now)

    def accept_ladder(self, now: datetime) -> esc.AcceptLadder:
        """The accept ladder in force at `now`."""
        p = self.config.policy.accept
        return esc.AcceptLadder(
            timedelta(minutes=p.deadline_minutes.pick(self.business(now))),
            p.realert_at_half, p.max_reassignments, p.pool,
        )

    def reply_ladder(self, now: datetime) -> esc.ReplyLadder:
        """The reply-lapse ladder in force at `now`."""
        p, b = self.config.policy.reply_lapse, self.business(now)
        return esc.ReplyLadder(
            timedelta(minutes=p.sla_minutes.pick(b)),
            timedelta(minutes=p.escalate_after_minutes.pick(b)),
            p.reassign, timedelta(minutes=p.reassign_after_minutes.pick(b)),
        )

    async def _team(self, session: AsyncSession, tried: list[Assignment]) -> str | None:
        for a in reversed(tried):
            agent = await session.get(Agent, a.agent_id)
            if agent is not None and agent.team:
                return agent.team
        return next(iter(self.config.team.teams), None)
