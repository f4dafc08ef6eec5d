"""The event as the CRM receives it, built at delivery time.

Event facts (ids, time, audit details) were recorded with the event; the lead's own fields
(name, phone, email, qualification, score, listing) are read when it is delivered, so a CRM
catching up after an outage gets the lead as it is now, and an erased lead is not resent.
Message bodies are read from the messages table only for endpoints with `include_text`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.models import Agent, CrmDelivery, Lead, Message

TranscriptUrl = Callable[[int], str]


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes; they are UTC)."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def lead_json(lead: Lead, transcript_url: TranscriptUrl) -> dict[str, Any]:
    """The lead's fields the CRM needs."""
    return {
        "id": lead.id, "name": lead.name, "phone": lead.phone, "email": lead.email,
        "language": lead.language, "source": lead.source, "campaign": lead.campaign,
        "channel": lead.last_channel, "qualification": lead.qualification or {},
        "score": lead.score, "listing": lead.listing, "opted_out": lead.opted_out,
        "created_at": iso(lead.created_at), "transcript_url": transcript_url(lead.id),
    }


async def build_envelopes(
    session: AsyncSession,
    rows: Iterable[CrmDelivery],
    *,
    transcript_url: TranscriptUrl,
    with_text: Callable[[str], bool],
) -> dict[int, dict[str, Any]]:
    """The envelope of each delivery, by delivery id (three queries, whatever the count).

    Args:
        session: a read session.
        rows: the deliveries about to be sent.
        transcript_url: the dashboard link of a lead's transcript.
        with_text: whether an endpoint (by name) gets message texts.
    """
    rows = list(rows)
    lead_ids = {r.lead_id for r in rows if r.lead_id is not None}
    agent_ids = {int(r.data["agent_id"]) for r in rows if r.data.get("agent_id")}
    text_ids = {int(r.data["message_id"]) for r in rows
                if r.source == "message" and with_text(r.endpoint)}
    leads = await _by_id(session, Lead, lead_ids)
    agents = await _by_id(session, Agent, agent_ids)
    messages = await _by_id(session, Message, text_ids)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        data = dict(r.data)
        agent = agents.get(int(data.pop("agent_id", None) or 0))
        if r.source == "message":
            msg = messages.get(int(data["message_id"]))
            if msg is not None and with_text(r.endpoint):
                data["text"] = msg.text
        lead = leads.get(r.lead_id or 0)
        out[r.id] = {
            "id": f"{r.source}-{r.source_id}",
            "type": r.event,
            "occurred_at": iso(r.occurred_at),
            "lead": lead_json(lead, transcript_url) if lead is not None else None,
            "agent": {"id": agent.id, "key": agent.key, "name": agent.name} if agent else None,
            "data": data,
        }
    return out


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    found = (await session.execute(select(model).where(model.id.in_(ids)))).scalars()
    return {row.id: row for row in found}
