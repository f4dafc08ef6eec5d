"""Closing conversations: by the agent (`DONE <code> won|lost|no-answer`) or after inactivity.

A closed conversation no longer counts against its agent's cap (caps count open conversations),
its offers and ownership end (offered → expired, accepted → released, so a returning lead still
goes back to the agent who had it), its ladder timers are cancelled, and `conversation.closed`
records the outcome. The close is a conditional UPDATE on the conversation row, so a close
racing a new message or another close ends in one outcome. When the lead writes again, a new
conversation opens.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gateway.domain import escalation as esc
from gateway.infra.timers import Timers
from gateway.store.leads import Store, audit
from gateway.store.models import Assignment, Conversation

log = logging.getLogger(__name__)
OPEN = ("bot", "pending", "pool", "agent")
INACTIVE = "inactive"
"""Outcome of a conversation closed for inactivity."""
_LADDER_TIMERS = (esc.ACCEPT_HALF, esc.ACCEPT_DEADLINE, esc.REPLY_LAPSE)


async def close_conversation(
    session: AsyncSession,
    timers: Timers,
    conv: Conversation,
    *,
    outcome: str,
    at: datetime,
    by: str,
    agent_id: int | None = None,
    idle_before: datetime | None = None,
) -> bool:
    """Close an open conversation in `session`'s transaction.

    Args:
        session: the open transaction.
        timers: the timer service (ladder timers of the lead are cancelled).
        conv: the conversation.
        outcome: "won", "lost", "no_answer" or "inactive".
        at: the time of the close.
        by: who closed it ("agent" or "inactivity"), for the audit trail.
        agent_id: the agent who closed it, if one did.
        idle_before: close only if nothing touched the conversation since this time (the
            auto-close guard against a message arriving meanwhile).

    Returns:
        True when this call closed it; False when it was closed already or changed meanwhile.
    """
    conds = [Conversation.id == conv.id, Conversation.status.in_(OPEN)]
    if idle_before is not None:
        conds.append(Conversation.updated_at < idle_before)
    res = await session.execute(
        update(Conversation)
        .where(*conds)
        .values(status="closed", outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    was = conv.status
    # The row is written; keep the loaded object in step without a second UPDATE.
    set_committed_value(conv, "status", "closed")
    set_committed_value(conv, "outcome", outcome)
    rows = (
        await session.execute(
            select(Assignment)
            .where(
                Assignment.conversation_id == conv.id,
                Assignment.status.in_(("offered", "accepted")),
            )
            .order_by(Assignment.id)
        )
    ).scalars()
    for a in rows:
        new = "expired" if a.status == "offered" else "released"
        a.status, a.decided_at = new, at
        audit(session, f"assignment.{new}", lead_id=conv.lead_id, agent_id=a.agent_id, at=at,
              assignment_id=a.id, code=a.code, reason="closed")
    await timers.cancel(session, lead_id=conv.lead_id, kinds=_LADDER_TIMERS)
    audit(session, "conversation.closed", lead_id=conv.lead_id, agent_id=agent_id, at=at,
          conversation_id=conv.id, outcome=outcome, by=by, was=was)
    return True


async def close_idle(
    store: Store, timers: Timers, *, idle: timedelta, now: datetime, limit: int = 200
) -> int:
    """Close open conversations untouched (no message, no state change) for `idle`.

    Args:
        store: the SQL store.
        timers: the timer service.
        idle: the configured inactivity (handoff policy `close.idle_days`).
        now: the current time.
        limit: conversations closed per call at most (the worker calls again later).

    Returns:
        How many conversations were closed.
    """
    cutoff = now - idle
    async with store.maker() as session:
        candidates = list(
            (
                await session.execute(
                    select(Conversation)
                    .where(
                        Conversation.status.in_(OPEN),
                        Conversation.updated_at < cutoff,
                        or_(
                            Conversation.last_lead_message_at.is_(None),
                            Conversation.last_lead_message_at < cutoff,
                        ),
                        or_(
                            Conversation.last_agent_message_at.is_(None),
                            Conversation.last_agent_message_at < cutoff,
                        ),
                    )
                    .order_by(Conversation.id)
                    .limit(limit)
                )
            ).scalars()
        )
    closed = 0
    for conv in candidates:
        async with store.transaction() as session:
            if await close_conversation(
                session, timers, conv, outcome=INACTIVE, at=now, by="inactivity",
                idle_before=cutoff,
            ):
                closed += 1
                log.info("conversation %s of lead %s closed after inactivity", conv.id,
                         conv.lead_id)
    return closed
