"""What an agent's message does: accept, pass, hand back, close, list, or relay text to a lead.

Accept is the competing transition against the accept deadline and against other agents
(first to claim): the assignment moves offered → accepted, then the conversation moves
pending/pool → agent only while nobody owns it. Each is a conditional UPDATE, so two agents
accepting at the same moment, or an accept racing the deadline, end in exactly one outcome.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.channels.base import ShowsAgent
from gateway.domain import escalation as esc
from gateway.domain.agent_commands import parse_command
from gateway.domain.utc import as_utc
from gateway.handoff.closing import close_conversation
from gateway.handoff.ports import HandoffPort
from gateway.handoff.whatsapp_window import held_outside_window
from gateway.messages import Inbound
from gateway.store import handoff as hs
from gateway.store.leads import after_commit, audit, on_commit
from gateway.store.models import Agent, Assignment, AuditEvent, Conversation, Lead, Message, Timer

REPLY_CHANNEL = "pronto_handoff_reply_channel"
"""session.info key: (agent id, channel) the current agent command came from."""


async def handle(
    hf: HandoffPort, session: AsyncSession, agent: Agent, inbound: Inbound, message: Message
) -> None:
    """Run one agent message (SMS text, Telegram text, reply or button press)."""
    session.info[REPLY_CHANNEL] = (agent.id, inbound.channel)
    cmd = parse_command(inbound.text)
    if inbound.reply_to and cmd.kind == "reply":
        # A Telegram reply under an alert or a relayed message goes to that message's lead.
        lead_id = await hs.thread_lead(session, agent.id, inbound.address, inbound.reply_to)
        owned = await hs.owned_by_lead(session, agent.id, lead_id) if lead_id else None
        if owned is not None:
            await relay(hf, session, agent, owned[0], cmd.text, message)
            return
    if cmd.kind == "accept":
        await accept(hf, session, agent, cmd.code)
    elif cmd.kind == "pass":
        await pass_offer(hf, session, agent, cmd.code)
    elif cmd.kind == "relay" and cmd.code:
        owned = await hs.owned_by_code(session, agent.id, cmd.code)
        if owned is None:
            await hf.tell_agent(session, agent, "agent_unknown_code", code=cmd.code)
        else:
            await relay(hf, session, agent, owned[0], cmd.text, message)
    elif cmd.kind == "reply":
        owned = (
            await hs.owned_by_lead(session, agent.id, agent.last_lead_id)
            if agent.last_lead_id
            else None
        )
        if owned is None:
            await hf.tell_agent(session, agent, "agent_no_recent")
        else:
            await relay(hf, session, agent, owned[0], cmd.text, message)
    elif cmd.kind == "done" and cmd.code:
        await done(hf, session, agent, cmd.code)
    elif cmd.kind == "close" and cmd.code:
        await close(hf, session, agent, cmd.code, cmd.outcome)
    elif cmd.kind == "appt" and cmd.code:
        if hf.services.appointments is None:
            await hf.tell_agent(session, agent, "agent_help")
        else:
            await hf.services.appointments.set_by_agent(session, agent, cmd.code, cmd.text,
                                                        hf.tell_agent)
    elif cmd.kind == "leads":
        await list_leads(hf, session, agent)
    else:
        await hf.tell_agent(session, agent, "agent_help")


async def accept(hf: HandoffPort, session: AsyncSession, agent: Agent, code: str | None) -> None:
    """Take an offered (or pooled) lead; exactly one agent and one outcome win."""
    now = hf.services.clock()
    a = await hs.offered_to(session, agent.id, code)
    if a is None:
        a = await _pool_claim(hf, session, agent, code)
        if a is None:
            return
    # One lock order everywhere, as a firing timer takes them: the timer rows of every open
    # offer of this conversation (in id order), then the conversation row. Simultaneous
    # accepts (first-to-claim, pool) and a deadline firing at that moment then queue up
    # instead of deadlocking on PostgreSQL. SQLite serialises writers anyway.
    offers = select(Assignment.id).where(
        Assignment.conversation_id == a.conversation_id, Assignment.status == "offered"
    )
    await session.execute(
        select(Timer.id)
        .where(Timer.assignment_id.in_(offers), Timer.status == "pending")
        .order_by(Timer.id)
        .with_for_update()
    )
    await session.execute(
        select(Conversation.id).where(Conversation.id == a.conversation_id).with_for_update()
    )
    await hf.timers.cancel(session, assignment_id=a.id)
    if not await hs.transition(
        session, Assignment, a.id, where={"status": "offered"}, status="accepted", decided_at=now
    ):
        await session.refresh(a)
        template = "agent_taken" if a.status == "taken" else "agent_too_late"
        await hf.tell_agent(session, agent, template, code=a.code)
        return
    if not await hs.transition(
        session, Conversation, a.conversation_id,
        where={"status": ("pending", "pool"), "agent_id": None},
        status="agent", agent_id=agent.id, last_agent_message_at=None,
    ):
        await hs.transition(session, Assignment, a.id, where={"status": "accepted"},
                            status="taken")
        audit(session, "assignment.taken", lead_id=a.lead_id, agent_id=agent.id, at=now,
              assignment_id=a.id, code=a.code)
        await hf.tell_agent(session, agent, "agent_taken", code=a.code)
        return
    conv = await session.get(Conversation, a.conversation_id)
    lead = await session.get(Lead, a.lead_id)
    assert conv is not None and lead is not None
    others = (
        await session.execute(
            select(Assignment).where(
                Assignment.conversation_id == conv.id,
                Assignment.status == "offered",
                Assignment.id != a.id,
            )
        )
    ).scalars().all()
    for other in others:
        await hf.timers.cancel(session, assignment_id=other.id)
        if await hs.transition(session, Assignment, other.id, where={"status": "offered"},
                               status="taken", decided_at=now):
            loser = await session.get(Agent, other.agent_id)
            if loser is not None:
                await hf.tell_agent(session, loser, "agent_taken", code=a.code)
    agent.last_lead_id = lead.id
    offered_at = as_utc(a.offered_at) or now
    audit(session, "assignment.accepted", lead_id=lead.id, agent_id=agent.id, at=now,
          assignment_id=a.id, code=a.code, rule=a.rule, attempt=a.attempt,
          seconds=round((now - offered_at).total_seconds(), 3))
    await hf.tell_agent(session, agent, "agent_accepted", code=a.code)
    await _forward_waiting(hf, session, agent, lead, conv, a.code)
    await hf.send_lead(session, lead, conv, "lead_agent_intro", agent_name=agent.name.split()[0])
    _show_agent(hf, session, lead, agent.name.split()[0])
    last_in = as_utc(conv.last_lead_message_at)
    if last_in is not None and last_in >= offered_at:
        # The prospect wrote while waiting: the reply clock starts now.
        await hf.timers.schedule(
            session, esc.REPLY_LAPSE, now + hf.reply_ladder(now).sla, lead_id=lead.id,
            data={"step": 0, "agent_id": agent.id, "conversation_id": conv.id},
        )


WAITING_FORWARD_MAX = 5


async def _forward_waiting(
    hf: HandoffPort, session: AsyncSession, agent: Agent, lead: Lead, conv: Conversation, code: str
) -> None:
    """Relay what the prospect wrote while the offer waited (the newest few), so the agent
    who accepts starts with the whole request, not just the alert. The audit trail says which
    messages waited (`handoff.lead_waiting`) and which were relayed already."""
    events = (
        await session.execute(
            select(AuditEvent.type, AuditEvent.data).where(
                AuditEvent.lead_id == lead.id,
                AuditEvent.type.in_(("handoff.lead_waiting", "relay.lead_to_agent")),
            )
        )
    ).all()
    waited = {int(d["message_id"]) for t, d in events
              if t == "handoff.lead_waiting" and d.get("message_id")}
    relayed = {int(d["message_id"]) for t, d in events
               if t == "relay.lead_to_agent" and d.get("message_id")}
    ids = sorted(waited - relayed)[-WAITING_FORWARD_MAX:]
    if not ids:
        return
    msgs = (
        await session.execute(
            select(Message).where(Message.id.in_(ids), Message.conversation_id == conv.id)
            .order_by(Message.id)
        )
    ).scalars()
    cfg = hf.config.agent(agent.key)
    lang = cfg.languages[0] if cfg else "en"
    for msg in msgs:
        if not msg.text.strip():
            continue
        text = hf.services.templates.render(
            "agent_relay", lang, code=code, name=lead.name or f"#{lead.id}", text=msg.text
        )
        await hf.notify(session, agent, text, lead_id=lead.id, single=True)
        audit(session, "relay.lead_to_agent", lead_id=lead.id, agent_id=agent.id,
              message_id=msg.id, waited=True)


async def _pool_claim(
    hf: HandoffPort, session: AsyncSession, agent: Agent, code: str | None
) -> Assignment | None:
    """An assignment for a claim on a pooled lead, or None after telling the agent why not."""
    if code is None:
        # "1" after someone else won (or the deadline passed) says so, not "no offer".
        q = select(Assignment).where(Assignment.agent_id == agent.id)
        last = (await session.execute(q.order_by(Assignment.id.desc()).limit(1))).scalar()
        if last is not None and last.status in ("taken", "expired"):
            template = "agent_taken" if last.status == "taken" else "agent_too_late"
            await hf.tell_agent(session, agent, template, code=last.code)
        else:
            await hf.tell_agent(session, agent, "agent_no_offer")
        return None
    latest = await hs.latest_with_code(session, code)
    conv = await session.get(Conversation, latest.conversation_id) if latest else None
    if latest is None or conv is None:
        await hf.tell_agent(session, agent, "agent_unknown_code", code=code)
        return None
    team = (await session.get(Agent, latest.agent_id))
    team_name = team.team if team else None
    if conv.status == "pool" and (team_name is None or agent.team == team_name):
        rnd = await hs.round_assignments(session, conv.id)
        a = Assignment(
            lead_id=conv.lead_id, conversation_id=conv.id, agent_id=agent.id, code=code,
            status="offered", rule="pool_claim", attempt=max((x.attempt for x in rnd), default=0)
            + 1, offered_at=hf.services.clock(),
        )
        session.add(a)
        await session.flush()
        return a
    if conv.status == "agent" and conv.agent_id == agent.id:
        await hf.tell_agent(session, agent, "agent_accepted", code=code)
    elif conv.status == "agent":
        await hf.tell_agent(session, agent, "agent_taken", code=code)
    else:
        await hf.tell_agent(session, agent, "agent_too_late", code=code)
    return None


async def pass_offer(
    hf: HandoffPort, session: AsyncSession, agent: Agent, code: str | None
) -> None:
    """Decline an offer; the ladder moves to the next agent at once."""
    now = hf.services.clock()
    a = await hs.offered_to(session, agent.id, code)
    if a is None:
        if code:
            await hf.tell_agent(session, agent, "agent_too_late", code=code)
        else:
            await hf.tell_agent(session, agent, "agent_no_offer")
        return
    await hf.timers.cancel(session, assignment_id=a.id)
    if not await hs.transition(
        session, Assignment, a.id, where={"status": "offered"}, status="passed", decided_at=now
    ):
        await hf.tell_agent(session, agent, "agent_too_late", code=a.code)
        return
    audit(session, "assignment.passed", lead_id=a.lead_id, agent_id=agent.id, at=now,
          assignment_id=a.id, code=a.code)
    await hf.tell_agent(session, agent, "agent_passed", code=a.code)
    await hf.after_decline(session, a)


async def relay(
    hf: HandoffPort, session: AsyncSession, agent: Agent, conv: Conversation, text: str,
    message: Message,
) -> None:
    """Send the agent's text to the lead from the business number; stop the reply clock."""
    now = hf.services.clock()
    lead = await session.get(Lead, conv.lead_id)
    if lead is None:
        return
    code = await hs.conversation_code(session, conv.id)
    if lead.opted_out or not lead.last_channel or not lead.last_address:
        await hf.tell_agent(session, agent, "agent_lead_opted_out", code=code)
        return
    if await held_outside_window(hf, session, agent, lead, conv, code):
        return  # WhatsApp's window is closed: a template, or the agent told to call
    started = await hs.awaiting_first_human_reply(session, lead)
    await hf.services.outbox.queue(
        session, channel=lead.last_channel, address=lead.last_address, text=text,
        author="agent", lead_id=lead.id, agent_id=agent.id, conversation_id=conv.id,
        language=lead.language,
    )
    if started is not None:  # the first human reply (the dashboard's "first human reply")
        waited = max(0.0, (now - started).total_seconds())
        on_commit(session, lambda: metrics.HUMAN_FIRST_REPLY.observe(waited))
    conv.last_agent_message_at = now
    agent.last_lead_id = lead.id
    await hf.timers.cancel(session, lead_id=lead.id, kinds=(esc.REPLY_LAPSE,))
    audit(session, "relay.agent_to_lead", lead_id=lead.id, agent_id=agent.id, at=now,
          message_id=message.id, code=code)


async def release(
    hf: HandoffPort, session: AsyncSession, agent: Agent, conv: Conversation, lead: Lead, *,
    status: str, assignment: Assignment | None = None,
) -> None:
    """End the agent's ownership: assignment → `status`, reply-lapse timers cancelled.

    `assignment` is the accepted one when the caller already moved the conversation on (it
    is then no longer found as owned).
    """
    now = hf.services.clock()
    if assignment is None:
        owned = await hs.owned_by_lead(session, agent.id, lead.id)
        assignment = owned[1] if owned is not None else None
    if assignment is not None:
        await hs.transition(session, Assignment, assignment.id, where={"status": "accepted"},
                            status=status, decided_at=now)
    await hf.timers.cancel(session, lead_id=lead.id, kinds=(esc.REPLY_LAPSE,))
    audit(session, f"assignment.{status}", lead_id=lead.id, agent_id=agent.id, at=now,
          conversation_id=conv.id)
    _show_agent(hf, session, lead, None)


def _show_agent(hf: HandoffPort, session: AsyncSession, lead: Lead, name: str | None) -> None:
    """Channels that show who is answering (the web chat header) learn it after commit."""
    adapter = hf.services.channels.get(lead.last_channel or "")
    if not isinstance(adapter, ShowsAgent) or not lead.last_address:
        return
    address, shows = lead.last_address, adapter

    async def show() -> None:
        await shows.set_agent(address, name)

    after_commit(session, show)


async def done(hf: HandoffPort, session: AsyncSession, agent: Agent, code: str) -> None:
    """DONE <code>: hand the conversation back to the bot; the agent stays the owner of record."""
    owned = await hs.owned_by_code(session, agent.id, code)
    if owned is None:
        await hf.tell_agent(session, agent, "agent_unknown_code", code=code)
        return
    conv, accepted = owned
    lead = await session.get(Lead, conv.lead_id)
    if lead is None:
        return
    if await hs.transition(session, Conversation, conv.id,
                           where={"status": "agent", "agent_id": agent.id},
                           status="bot", agent_id=None):
        await release(hf, session, agent, conv, lead, status="released", assignment=accepted)
    await hf.tell_agent(session, agent, "agent_done", code=code)


async def close(
    hf: HandoffPort, session: AsyncSession, agent: Agent, code: str, outcome: str | None
) -> None:
    """DONE <code> won|lost|no-answer: close the conversation with its outcome.

    The agent who owns it may close it, and so may its owner of record after handing it back
    to the assistant (plain DONE). Closing frees the agent's cap.
    """
    if outcome is None:
        await hf.tell_agent(session, agent, "agent_close_usage", code=code)
        return
    owned = await hs.owned_by_code(session, agent.id, code)
    conv = owned[0] if owned else None
    if conv is None:
        latest = await hs.latest_with_code(session, code)
        if latest is not None and latest.agent_id == agent.id and latest.status == "released":
            conv = await session.get(Conversation, latest.conversation_id)
    lead = await session.get(Lead, conv.lead_id) if conv is not None else None
    if conv is None or lead is None or not await close_conversation(
        session, hf.timers, conv, outcome=outcome, at=hf.services.clock(), by="agent",
        agent_id=agent.id,
    ):
        await hf.tell_agent(session, agent, "agent_unknown_code", code=code)
        return
    if owned:
        _show_agent(hf, session, lead, None)
    followup = hf.services.followup
    if followup is not None and outcome in ("lost", "no_answer"):
        await followup.went_cold(session, lead)  # one check-in, months later
    if hf.services.feedback is not None:
        await hf.services.feedback.closed(session, lead, agent.id, conv.id, outcome)
    await hf.tell_agent(session, agent, f"agent_closed_{outcome}", code=code)


async def list_leads(hf: HandoffPort, session: AsyncSession, agent: Agent) -> None:
    """LEADS: the agent's open leads and waiting offers."""
    lines = [f"{code} · {lead.name or f'#{lead.id}'}" for code, lead in
             await hs.owned_list(session, agent.id)]
    offers = (
        await session.execute(
            select(Assignment.code).where(
                Assignment.agent_id == agent.id, Assignment.status == "offered"
            )
        )
    ).scalars().all()
    waiting = "(offer: ACCEPT)" if hf.agent_language(agent) == "en" else "(oferta: ACEPTAR)"
    lines += [f"{c} {waiting}" for c in offers]
    if not lines:
        await hf.tell_agent(session, agent, "agent_no_leads")
    else:
        await hf.tell_agent(session, agent, "agent_leads", lines="\n".join(lines))
