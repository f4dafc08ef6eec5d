"""The dashboard's SQL: load rows for a time window; the numbers are computed from them in
`gateway.domain.dashboard_metrics`. Plain selects that run the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain.dashboard_metrics import MessageRow, OfferRow
from gateway.domain.utc import as_utc
from gateway.store.models import (
    Agent,
    Assignment,
    AuditEvent,
    Consent,
    Conversation,
    Lead,
    Message,
)

ESCALATION_TYPES = ("escalation.team_lead", "escalation.pool", "escalation.reminder",
                    "escalation.last_resort")




@dataclass(frozen=True, slots=True)
class LeadRow:
    """What the pages show of one lead (never its phone or email)."""

    id: int
    name: str | None
    language: str
    channel: str
    source: str
    created_at: datetime
    opted_out: bool
    score: int | None
    conv_status: str | None = None
    outcome: str | None = None
    agent_id: int | None = None
    last_lead_at: datetime | None = None
    last_agent_at: datetime | None = None


@dataclass
class Dataset:
    """Every row the metric pages need for the leads created in one window."""

    leads: dict[int, LeadRow]
    messages: dict[int, list[MessageRow]] = field(default_factory=dict)
    offers: dict[int, list[OfferRow]] = field(default_factory=dict)
    events: dict[int, dict[str, list[datetime]]] = field(default_factory=dict)
    """Per lead, the times of each audit event type."""

    def all_offers(self) -> list[OfferRow]:
        """Every offer in the window."""
        return [o for rows in self.offers.values() for o in rows]

    def all_messages(self) -> list[MessageRow]:
        """Every message in the window."""
        return [m for rows in self.messages.values() for m in rows]

    def had(self, lead_id: int, prefix: str) -> bool:
        """Whether the lead has an audit event whose type starts with `prefix`."""
        return any(t.startswith(prefix) for t in self.events.get(lead_id, {}))


async def agents(session: AsyncSession) -> dict[int, Agent]:
    """All agents by id (inactive ones too: history names them)."""
    return {a.id: a for a in (await session.execute(select(Agent))).scalars()}


def _lead_row(lead: Lead, conv: Conversation | None, channel: str | None) -> LeadRow:
    return LeadRow(
        id=lead.id, name=lead.name, language=lead.language or "en",
        channel=channel or lead.last_channel or "—",
        source=lead.source or lead.last_channel or "—",
        created_at=as_utc(lead.created_at), opted_out=bool(lead.opted_out), score=lead.score,
        conv_status=conv.status if conv else None, outcome=conv.outcome if conv else None,
        agent_id=conv.agent_id if conv else None,
        last_lead_at=as_utc(conv.last_lead_message_at) if conv else None,
        last_agent_at=as_utc(conv.last_agent_message_at) if conv else None,
    )


async def lead_rows(session: AsyncSession, where: list[Any], limit: int | None = None
                    ) -> dict[int, LeadRow]:
    """Leads matching `where`, newest first, each with its latest conversation."""
    q = select(Lead).where(*where).order_by(Lead.id.desc())
    if limit:
        q = q.limit(limit)
    leads = list((await session.execute(q)).scalars())
    ids = [x.id for x in leads]
    convs: dict[int, Conversation] = {}
    first_channel: dict[int, str] = {}
    for chunk in _chunks(ids):
        for c in (await session.execute(
            select(Conversation).where(Conversation.lead_id.in_(chunk)).order_by(Conversation.id)
        )).scalars():
            convs[c.lead_id] = c  # the latest wins
        first = (select(Message.lead_id, func.min(Message.id).label("mid"))
                 .where(Message.lead_id.in_(chunk), Message.direction == "in")
                 .group_by(Message.lead_id).subquery())
        for lead_id, channel in (await session.execute(
            select(Message.lead_id, Message.channel).join(first, Message.id == first.c.mid)
        )).all():
            first_channel[_id(lead_id)] = channel
    return {x.id: _lead_row(x, convs.get(x.id), first_channel.get(x.id)) for x in leads}


def _id(value: int | None) -> int:
    # Rows fetched with `lead_id IN (…)` always have one; this narrows the type.
    assert value is not None
    return value


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    # Bound the IN lists: SQLite caps bound parameters per statement.
    return [ids[i:i + size] for i in range(0, len(ids), size)]


async def load(session: AsyncSession, since: datetime, until: datetime) -> Dataset:
    """Leads created in [since, until) with their messages, offers and audit event times."""
    return await load_where(session, [Lead.created_at >= since, Lead.created_at < until])


async def load_where(session: AsyncSession, where: list[Any]) -> Dataset:
    """Leads matching `where` with their messages, offers and audit event times."""
    data = Dataset(await lead_rows(session, where))
    ids = list(data.leads)
    accepted_at: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        for lead_id, direction, author, at, agent_id in (await session.execute(
            select(Message.lead_id, Message.direction, Message.author, Message.created_at,
                   Message.agent_id).where(Message.lead_id.in_(chunk)).order_by(Message.id)
        )).all():
            data.messages.setdefault(_id(lead_id), []).append(
                MessageRow(_id(lead_id), direction, author, as_utc(at), agent_id))
        for e in (await session.execute(
            select(AuditEvent.lead_id, AuditEvent.type, AuditEvent.at, AuditEvent.data)
            .where(AuditEvent.lead_id.in_(chunk)).order_by(AuditEvent.id)
        )).all():
            data.events.setdefault(e.lead_id, defaultdict(list))[e.type].append(as_utc(e.at))
            if e.type == "assignment.accepted" and isinstance(e.data, dict):
                aid = e.data.get("assignment_id")
                if isinstance(aid, int):
                    accepted_at.setdefault(aid, as_utc(e.at))
        for a in (await session.execute(
            select(Assignment).where(Assignment.lead_id.in_(chunk)).order_by(Assignment.id)
        )).scalars():
            acc = accepted_at.get(a.id)
            if acc is None and a.status == "accepted" and a.decided_at is not None:
                acc = as_utc(a.decided_at)
            ended = (as_utc(a.decided_at)
                     if a.status in ("released", "reassigned") else None)
            data.offers.setdefault(a.lead_id, []).append(OfferRow(
                a.lead_id, a.agent_id, a.status, as_utc(a.offered_at), acc, ended, a.rule,
                a.attempt))
    return data


async def open_waits(session: AsyncSession) -> list[tuple[LeadRow, str, datetime]]:
    """Leads waiting now: for an agent to accept (pending, pool) or to reply (agent owns it
    and the prospect wrote last). Each with what it waits for and since when."""
    rows = await lead_rows(session, [Lead.id.in_(
        select(Conversation.lead_id).where(Conversation.status.in_(("pending", "pool", "agent")))
    ), Lead.opted_out.is_(False)])
    if not rows:
        return []
    offered: dict[int, datetime] = {}
    for chunk in _chunks(list(rows)):
        for lead_id, first in (await session.execute(
            select(Assignment.lead_id, func.max(Assignment.offered_at))
            .where(Assignment.lead_id.in_(chunk)).group_by(Assignment.lead_id)
        )).all():
            offered[lead_id] = as_utc(first)
    out: list[tuple[LeadRow, str, datetime]] = []
    for r in rows.values():
        if r.conv_status in ("pending", "pool"):
            out.append((r, r.conv_status, offered.get(r.id, r.created_at)))
        elif r.conv_status == "agent" and r.last_lead_at is not None and (
                r.last_agent_at is None or r.last_agent_at < r.last_lead_at):
            out.append((r, "reply", r.last_lead_at))
    return sorted(out, key=lambda x: x[2])


async def escalation_steps(session: AsyncSession, since: datetime, until: datetime
                           ) -> list[AuditEvent]:
    """Escalation and reply-lapse steps in the window, newest first."""
    q = (select(AuditEvent)
         .where(AuditEvent.at >= since, AuditEvent.at < until,
                (AuditEvent.type.like("escalation.%")) | (AuditEvent.type.like("reply_lapse.%"))
                | (AuditEvent.type == "assignment.expired"))
         .order_by(AuditEvent.id.desc()).limit(300))
    return list((await session.execute(q)).scalars())


ID_MAX = 2**31 - 1
"""The largest lead id: an INTEGER column (a larger number names no lead, and PostgreSQL
refuses it as a parameter: the admin fuzz test's 500)."""


async def inbox(session: AsyncSession, *, search: str = "", limit: int = 300
                ) -> list[tuple[LeadRow, bool, bool, datetime | None]]:
    """The newest leads (matching `search`: name, id or phone digits), each with whether it was
    escalated, whether the bot answered, and when the prospect last wrote."""
    where: list[Any] = []
    if search:
        digits = "".join(ch for ch in search if "0" <= ch <= "9")  # "²".isdigit(), not int()
        cond: Any = Lead.name.ilike(f"%{search}%")
        if digits:
            cond = cond | Lead.phone.like(f"%{digits}%")
            if len(digits) <= 10 and int(digits) <= ID_MAX:
                cond = cond | (Lead.id == int(digits))
        where.append(cond)
    rows = await lead_rows(session, where, limit)
    escalated: set[int] = set()
    answered: set[int] = set()
    last_in: dict[int, datetime] = {}
    for chunk in _chunks(list(rows)):
        escalated |= {int(x) for x in (await session.execute(
            select(AuditEvent.lead_id).where(AuditEvent.lead_id.in_(chunk),
                                             AuditEvent.type.in_(ESCALATION_TYPES))
        )).scalars() if x is not None}
        answered |= {int(x) for x in (await session.execute(
            select(Message.lead_id).where(Message.lead_id.in_(chunk), Message.direction == "out")
        )).scalars() if x is not None}
        for lead_id, at in (await session.execute(
            select(Message.lead_id, func.max(Message.created_at))
            .where(Message.lead_id.in_(chunk), Message.direction == "in")
            .group_by(Message.lead_id)
        )).all():
            last_in[_id(lead_id)] = as_utc(at)
    return [(r, r.id in escalated, r.id in answered, last_in.get(r.id)) for r in rows.values()]


async def change_mark(session: AsyncSession) -> tuple[int, int]:
    """The newest message and audit ids: when either moves, the inbox is out of date."""
    m = await session.scalar(select(func.max(Message.id)))
    e = await session.scalar(select(func.max(AuditEvent.id)))
    return int(m or 0), int(e or 0)


@dataclass
class LeadPage:
    """Everything one lead's page shows."""

    lead: Lead
    row: LeadRow
    messages: list[Message]
    events: list[AuditEvent]
    assignments: list[tuple[Assignment, str]]
    consents: list[Consent]


async def lead_page(session: AsyncSession, lead_id: int) -> LeadPage | None:
    """One lead with its messages, audit trail, assignments (agent names) and consents."""
    rows = await lead_rows(session, [Lead.id == lead_id])
    lead = await session.get(Lead, lead_id)
    if lead is None or lead_id not in rows:
        return None
    msgs = list((await session.execute(
        select(Message).where(Message.lead_id == lead_id).order_by(Message.id))).scalars())
    events = list((await session.execute(
        select(AuditEvent).where(AuditEvent.lead_id == lead_id).order_by(AuditEvent.id)
    )).scalars())
    assignments = [(a, name) for a, name in (await session.execute(
        select(Assignment, Agent.name).join(Agent, Agent.id == Assignment.agent_id)
        .where(Assignment.lead_id == lead_id).order_by(Assignment.id))).all()]
    consents = list((await session.execute(
        select(Consent).where(Consent.lead_id == lead_id).order_by(Consent.id))).scalars())
    return LeadPage(lead, rows[lead_id], msgs, events, assignments, consents)
