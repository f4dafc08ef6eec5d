"""Timer handlers of the escalation ladders; each runs inside the timer's firing transaction.

A handler first re-checks state with a conditional UPDATE (offered → expired) or a guard
(the agent still owns the lead and has not answered), so a timer that lost a race to an accept
or a reply does nothing. The ladder's decisions come from `gateway.domain.escalation`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain import escalation as esc
from gateway.domain.utc import as_utc
from gateway.handoff.agent import release
from gateway.handoff.ports import HandoffPort
from gateway.store import handoff as hs
from gateway.store.leads import audit
from gateway.store.models import Agent, Assignment, Conversation, Lead, Timer


async def on_accept_half(hf: HandoffPort, session: AsyncSession, timer: Timer) -> None:
    a = await session.get(Assignment, timer.assignment_id)
    if a is None or a.status != "offered":
        return
    agent, lead = await session.get(Agent, a.agent_id), await session.get(Lead, a.lead_id)
    if agent is None or lead is None:
        return
    audit(session, "escalation.realert", lead_id=lead.id, agent_id=agent.id,
          at=hf.services.clock(), assignment_id=a.id)
    await hf.alert(session, agent, lead, a.code, "agent_realert")

async def on_accept_deadline(hf: HandoffPort, session: AsyncSession, timer: Timer) -> None:
    now = hf.services.clock()
    a = await session.get(Assignment, timer.assignment_id)
    if a is None or not await hs.transition(
        session, Assignment, a.id, where={"status": "offered"}, status="expired",
        decided_at=now,
    ):
        return  # accepted or passed first: the accept won the race
    await hf.timers.cancel(session, assignment_id=a.id)
    audit(session, "assignment.expired", lead_id=a.lead_id, agent_id=a.agent_id, at=now,
          assignment_id=a.id, code=a.code)
    agent = await session.get(Agent, a.agent_id)
    if agent is not None:
        await hf.tell_agent(session, agent, "agent_reassigned_away", code=a.code)
    await hf.after_decline(session, a)


async def on_reply_lapse(hf: HandoffPort, session: AsyncSession, timer: Timer) -> None:
    now = hf.services.clock()
    data = dict(timer.data or {})
    conv = await session.get(Conversation, data.get("conversation_id"))
    agent = await session.get(Agent, data.get("agent_id"))
    lead = await session.get(Lead, timer.lead_id)
    if conv is None or agent is None or lead is None:
        return
    if conv.status != "agent" or conv.agent_id != agent.id:
        return
    last_in = as_utc(conv.last_lead_message_at)
    last_out = as_utc(conv.last_agent_message_at)
    if last_in is None or (last_out is not None and last_out >= last_in):
        return  # answered meanwhile
    step = esc.reply_lapse_step(int(data.get("step", 0)), hf.reply_ladder(now))
    code = await hs.conversation_code(session, conv.id)
    minutes = int((now - last_in).total_seconds() // 60)
    audit(session, f"reply_lapse.{step.action}", lead_id=lead.id, agent_id=agent.id, at=now,
          code=code, minutes=minutes)
    if step.action == esc.NUDGE:
        await hf.tell_agent(session, agent, "agent_nudge", code=code,
                              name=lead.name or f"#{lead.id}", minutes=minutes)
    elif step.action == esc.TEAM_LEAD:
        cfg = hf.config.agent(agent.key)
        lead_cfg = hf.config.team_lead(cfg.team if cfg else None)
        tl = (await hs.active_agents(session)).get(lead_cfg.key) if lead_cfg else None
        if tl is not None and tl.id != agent.id:
            await hf.tell_agent(session, tl, "team_lead_reply_lapse", code=code,
                                  agent=agent.name, minutes=minutes, link=hf.link(lead.id))
    elif step.action == esc.REASSIGN:
        await release(hf, session, agent, conv, lead, status="reassigned")
        await hf.tell_agent(session, agent, "agent_reassigned_away", code=code)
        conv.status, conv.agent_id = "pending", None
        rnd = await hs.round_assignments(session, conv.id)
        await hf.next_round(session, lead, conv, attempt=max(x.attempt for x in rnd) + 1)
        return
    if step.next_step is not None and step.next_in is not None:
        await hf.timers.schedule(
            session, esc.REPLY_LAPSE, now + step.next_in, lead_id=lead.id,
            data={**data, "step": step.next_step},
        )



async def on_unclaimed(hf: HandoffPort, session: AsyncSession, timer: Timer) -> None:
    """Still nobody: remind the team lead (or, after the reminders, the last resort)."""
    now = hf.services.clock()
    data = dict(timer.data or {})
    conv = await session.get(Conversation, data.get("conversation_id"))
    lead = await session.get(Lead, timer.lead_id)
    if conv is None or lead is None or conv.status not in ("pending", "pool"):
        return  # accepted, closed or opted out meanwhile
    n = int(data.get("n") or 1)
    p = hf.config.policy.accept
    team = data.get("team")
    lead_cfg = hf.config.team_lead(team)
    key = lead_cfg.key if lead_cfg else None
    step = "escalation.reminder"
    if n > p.reminders_before_last_resort and p.last_resort:
        key, step = p.last_resort, "escalation.last_resort"
    agents = await hs.active_agents(session)
    target = agents.get(key) if key else None
    code = await hs.conversation_code(session, conv.id)
    audit(session, step, lead_id=lead.id, agent_id=target.id if target else None, at=now,
          code=code, reminder=n)
    if target is not None:
        # The alert says "reply ACCEPT": the one reminded must hold an offer to accept.
        open_offer = await session.scalar(select(Assignment.id).where(
            Assignment.conversation_id == conv.id, Assignment.agent_id == target.id,
            Assignment.status == "offered"))
        if open_offer is None:
            session.add(Assignment(
                lead_id=lead.id, conversation_id=conv.id, agent_id=target.id, code=code,
                status="offered", rule=step.removeprefix("escalation."), attempt=n,
                offered_at=now,
            ))
        await hf.alert(session, target, lead, code, "team_lead_unclaimed", attempts=n)
    business = hf.config.business.contains(now)
    await hf.timers.schedule(
        session, esc.UNCLAIMED, now + timedelta(minutes=p.remind_minutes.pick(business)),
        lead_id=lead.id, data={**data, "n": n + 1},
    )
