"""SQL queries of the handoff engine: agents, assignments, lead codes, loads for routing.

Pure data access; decisions are made in `routing`, `escalation` and `handoff`. Competing state
changes are conditional UPDATEs whose row count picks the single winner.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.handoff import HandoffConfig
from gateway.domain.routing import AgentLoad
from gateway.store.leads import audit
from gateway.store.models import Agent, Assignment, Conversation, Lead, Message


async def sync_agents(session: AsyncSession, config: HandoffConfig) -> dict[str, int]:
    """Upsert agents.yml into the `agents` table by key; agents no longer listed go inactive.

    Returns:
        Agent ids by key, for the agents in the file.
    """
    rows = {a.key: a for a in (await session.execute(select(Agent))).scalars()}
    listed = {cfg.key for cfg in config.team.agents}
    for cfg in config.team.agents:
        row = rows.get(cfg.key)
        if row is None:
            row = rows[cfg.key] = Agent(key=cfg.key)
            session.add(row)
        row.name, row.phone, row.team = cfg.name, cfg.phone, cfg.team
        row.telegram_chat_id, row.active = cfg.telegram_chat_id, cfg.active
    for key, row in rows.items():
        if key not in listed and row.active:
            row.active = False
            audit(session, "agent.deactivated", agent_id=row.id, key=key)
    await session.flush()
    return {k: r.id for k, r in rows.items() if k in listed}


async def active_agents(session: AsyncSession) -> dict[str, Agent]:
    """Active agents by key."""
    q = select(Agent).where(Agent.active.is_(True))
    return {a.key: a for a in (await session.execute(q)).scalars()}


async def agent_loads(session: AsyncSession, agents: dict[str, Agent]) -> dict[str, AgentLoad]:
    """Open leads and last offer time per agent key.

    Only open conversations count against the cap: those the agent owns, plus offers still
    waiting on a conversation that waits for an accept. A conversation closed (DONE with an
    outcome, inactivity, opt-out) or handed back to the assistant frees its place, even if an
    offer row on it was left behind.
    """
    owned = dict(
        (
            await session.execute(
                select(Conversation.agent_id, func.count())
                .where(Conversation.status == "agent")
                .group_by(Conversation.agent_id)
            )
        ).all()
    )
    offered = dict(
        (
            await session.execute(
                select(Assignment.agent_id, func.count())
                .join(Conversation, Conversation.id == Assignment.conversation_id)
                .where(
                    Assignment.status == "offered",
                    Conversation.status.in_(("pending", "pool")),
                )
                .group_by(Assignment.agent_id)
            )
        ).all()
    )
    last = dict(
        (
            await session.execute(
                select(Assignment.agent_id, func.max(Assignment.offered_at)).group_by(
                    Assignment.agent_id
                )
            )
        ).all()
    )
    return {
        key: AgentLoad(owned.get(a.id, 0) + offered.get(a.id, 0), last.get(a.id))
        for key, a in agents.items()
    }


async def round_assignments(session: AsyncSession, conversation_id: int) -> list[Assignment]:
    """The conversation's assignments since it was last handed back (DONE), oldest first."""
    rows = list(
        (
            await session.execute(
                select(Assignment)
                .where(Assignment.conversation_id == conversation_id)
                .order_by(Assignment.id)
            )
        ).scalars()
    )
    cut = max((i for i, a in enumerate(rows) if a.status == "released"), default=-1)
    return rows[cut + 1 :]


async def conversation_code(session: AsyncSession, conversation_id: int) -> str:
    """The short code agents use for this conversation: reused, or a new unused one."""
    q = (
        select(Assignment.code)
        .where(Assignment.conversation_id == conversation_id)
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    existing = (await session.execute(q)).scalar()
    if existing:
        return existing
    for digits in (4, 4, 4, 4, 4, 5, 5, 5, 6, 6):
        code = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
        clash = await session.execute(
            select(Assignment.id)
            .where(Assignment.code == code, Assignment.status.in_(("offered", "accepted")))
            .limit(1)
        )
        if clash.first() is None:
            return code
    return f"{conversation_id}"


async def offered_to(session: AsyncSession, agent_id: int, code: str | None) -> Assignment | None:
    """The agent's waiting offer with this code, or their latest waiting offer."""
    q = select(Assignment).where(Assignment.agent_id == agent_id, Assignment.status == "offered")
    if code:
        q = q.where(Assignment.code == code)
    return (await session.execute(q.order_by(Assignment.id.desc()).limit(1))).scalars().first()


async def latest_with_code(session: AsyncSession, code: str) -> Assignment | None:
    """The newest assignment carrying a code (any agent)."""
    q = select(Assignment).where(Assignment.code == code).order_by(Assignment.id.desc()).limit(1)
    return (await session.execute(q)).scalars().first()


async def owned_by_code(
    session: AsyncSession, agent_id: int, code: str
) -> tuple[Conversation, Assignment] | None:
    """The agent's owned conversation with this code, and the accepted assignment."""
    return await _owned(session, agent_id, Assignment.code == code)


async def owned_by_lead(
    session: AsyncSession, agent_id: int, lead_id: int
) -> tuple[Conversation, Assignment] | None:
    """The agent's owned conversation of this lead, and the accepted assignment."""
    return await _owned(session, agent_id, Conversation.lead_id == lead_id)


async def _owned(
    session: AsyncSession, agent_id: int, which: Any
) -> tuple[Conversation, Assignment] | None:
    q = (
        select(Conversation, Assignment)
        .join(Assignment, Assignment.conversation_id == Conversation.id)
        .where(
            which,
            Assignment.agent_id == agent_id,
            Assignment.status == "accepted",
            Conversation.status == "agent",
            Conversation.agent_id == agent_id,
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None


async def owned_list(session: AsyncSession, agent_id: int) -> list[tuple[str, Lead]]:
    """(code, lead) of every conversation the agent owns, newest first."""
    q = (
        select(Assignment.code, Lead)
        .join(Conversation, Assignment.conversation_id == Conversation.id)
        .join(Lead, Lead.id == Conversation.lead_id)
        .where(
            Assignment.agent_id == agent_id,
            Assignment.status == "accepted",
            Conversation.status == "agent",
            Conversation.agent_id == agent_id,
        )
        .order_by(Assignment.id.desc())
    )
    return [(c, lead) for c, lead in (await session.execute(q)).all()]


async def previous_owner(session: AsyncSession, lead_id: int) -> int | None:
    """The agent who last owned this lead (accepted, or handed back with DONE)."""
    q = (
        select(Assignment.agent_id)
        .where(Assignment.lead_id == lead_id, Assignment.status.in_(("accepted", "released")))
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    return (await session.execute(q)).scalar()


async def thread_lead(
    session: AsyncSession, agent_id: int, chat: str, message_id: str
) -> int | None:
    """The lead an agent's Telegram reply refers to: the lead of the message replied to
    (`message_id` in the agent's `chat`; stored as "<chat>:<id>", or bare before 2026-12)."""
    q = select(Message.lead_id).where(
        Message.provider_id.in_((f"{chat}:{message_id}", message_id)),
        Message.agent_id == agent_id, Message.direction == "out",
    ).order_by(Message.id.desc())
    return (await session.execute(q.limit(1))).scalar()


async def transition(
    session: AsyncSession, model: Any, row_id: int, *, where: dict[str, Any], **values: Any
) -> bool:
    """Conditional UPDATE of one row; True when this caller made the change (the winner)."""
    conds = [model.id == row_id]
    for col, expected in where.items():
        attr = getattr(model, col)
        if isinstance(expected, tuple):
            conds.append(attr.in_(expected))
        elif expected is None:
            conds.append(attr.is_(None))
        else:
            conds.append(attr == expected)
    res = await session.execute(update(model).where(*conds).values(**values))
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]



async def awaiting_first_human_reply(session: AsyncSession, lead: Lead) -> datetime | None:
    """When the lead's clock started (its first message, else when it was recorded), if no
    agent has written to it yet; None once one has. Call before queueing the agent's text."""
    replied = await session.scalar(select(Message.id).where(
        Message.lead_id == lead.id, Message.direction == "out", Message.author == "agent"
    ).limit(1))
    if replied is not None:
        return None
    first = await session.scalar(select(func.min(Message.created_at)).where(
        Message.lead_id == lead.id, Message.direction == "in")) or lead.created_at
    return first if first.tzinfo else first.replace(tzinfo=UTC)  # SQLite: naive UTC
