"""SQL for data governance: find a lead, export everything held about it, undo a wrong
attachment of an identity (unmerge). Erasure is in `gateway.store.erasure`. No HTTP here.

Every function works in the caller's session and transaction and writes its audit event
there, so the audit says what happened iff it committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import utcnow
from gateway.store.leads import audit
from gateway.store.models import (
    Assignment,
    AuditEvent,
    Base,
    Consent,
    Conversation,
    CrmDelivery,
    Identity,
    IntakeRecord,
    Lead,
    Message,
    Timer,
)

EXPORT_FORMAT = "pronto.lead-export/1"
LOOKUP_KINDS = ("id", "phone", "email")


async def find_lead(session: AsyncSession, kind: str, value: str | int) -> Lead | None:
    """The lead behind an id, a phone (E.164) or an email (any case).

    An identity wins over the lead's own column: a phone given on a web chat lives on the
    lead row and as an identity, but only the identity is unique across leads.

    Args:
        session: The open session.
        kind: "id", "phone" or "email".
        value: The lead id, or the normalised phone or email.
    """
    if kind == "id":
        return await session.get(Lead, int(value))
    if kind not in ("phone", "email"):
        raise ValueError(f"lookup kind must be one of {', '.join(LOOKUP_KINDS)}")
    text = str(value).strip()
    if kind == "email":
        text = text.lower()
    lead_id = await session.scalar(
        select(Identity.lead_id).where(Identity.kind == kind, Identity.address == text)
    )
    if lead_id is not None:
        return await session.get(Lead, lead_id)
    column = Lead.phone if kind == "phone" else func.lower(Lead.email)
    return await session.scalar(select(Lead).where(column == text).order_by(Lead.id).limit(1))


def row_json(obj: Base) -> dict[str, Any]:
    """Every column of a row as JSON-able values (datetimes as ISO 8601)."""
    return {attr.key: _jsonable(getattr(obj, attr.key))
            for attr in inspect(obj).mapper.column_attrs}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# Tables holding rows of one lead, keyed by `lead_id`, in the order an export lists them.
LEAD_TABLES: tuple[tuple[str, type[Base]], ...] = (
    ("identities", Identity),
    ("conversations", Conversation),
    ("messages", Message),
    ("assignments", Assignment),
    ("timers", Timer),
    ("audit_events", AuditEvent),
    ("consents", Consent),
    ("intake_records", IntakeRecord),
    ("crm_deliveries", CrmDelivery),
)


def lead_tables() -> list[tuple[str, type[Base]]]:
    """Every model with a `lead_id` column: the known ones in order, then any added later
    (appointments, feedback, …), so a new table is exported without anyone remembering to."""
    known = {model for _, model in LEAD_TABLES}
    extra = sorted(
        (m.class_ for m in Base.registry.mappers
         if m.class_ not in known and "lead_id" in m.local_table.c),
        key=lambda cls: str(cls.__tablename__),
    )
    return [*LEAD_TABLES, *((str(cls.__tablename__), cls) for cls in extra)]


async def export_lead(
    session: AsyncSession, lead_id: int, *, how: str, by: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any] | None:
    """Everything held about a lead, as JSON-able data; audited as `lead.exported`.

    Args:
        session: The open session (the caller commits: the audit event is written in it).
        lead_id: The lead.
        how: Where the export was asked for: "cli" or "admin".
        by: Who asked (an admin's name, a shell user), when known.
        at: The time of the export (defaults to now).

    Returns:
        {"format", "exported_at", "lead", "identities", "conversations", "messages",
        "assignments", "timers", "audit_events", "consents", "intake_records",
        "crm_deliveries"}, or None when there is no such lead.
    """
    lead = await session.get(Lead, lead_id)
    if lead is None:
        return None
    now = at or utcnow()
    out: dict[str, Any] = {
        "format": EXPORT_FORMAT, "exported_at": now.isoformat(), "lead": row_json(lead),
    }
    for name, model in lead_tables():
        column: Any = model.__table__.c.lead_id
        rows = (await session.execute(
            select(model).where(column == lead_id).order_by(model.__table__.c.id)
        )).scalars().all()
        out[name] = [row_json(r) for r in rows]
    # Counts only: the audit trail never holds what was exported.
    audit(session, "lead.exported", lead_id=lead_id, at=now, how=how, by=by,
          messages=len(out["messages"]))
    return out


@dataclass(frozen=True, slots=True)
class Unmerged:
    """The outcome of an unmerge: the lead that got the identity, and what moved to it."""

    from_lead_id: int
    new_lead_id: int
    identity_id: int
    messages: int


class UnmergeRefused(ValueError):
    """The identity is not the lead's, or is its only one (nothing to split it from)."""


async def unmerge_identity(
    session: AsyncSession, lead_id: int, kind: str, address: str, *, by: str | None = None,
    at: datetime | None = None,
) -> Unmerged:
    """Move one identity of a lead, and the messages to and from that address, to a new lead.

    Undoes a wrong attachment (say an intake form whose email belonged to someone else added
    its phone to that person's lead). The new lead gets a fresh conversation in bot mode with
    the moved messages; the consent ledger, intake records and audit trail stay with the
    original lead, because they record what happened to it. Audited `lead.unmerged` on the
    original lead and `lead.created` (source "unmerge") on the new one, with ids, never the
    address.

    Raises:
        UnmergeRefused: the identity is not this lead's, or it is the lead's only identity.
    """
    now = at or utcnow()
    lead = await session.get(Lead, lead_id)
    identities = list((await session.execute(
        select(Identity).where(Identity.lead_id == lead_id).order_by(Identity.id)
    )).scalars())
    ident = next((i for i in identities if i.kind == kind and i.address == address), None)
    if lead is None or ident is None:
        raise UnmergeRefused(f"lead {lead_id} has no {kind} identity like that")
    if len(identities) == 1:
        raise UnmergeRefused(f"that is lead {lead_id}'s only identity: nothing to unmerge from")
    last = await session.scalar(
        select(Message).where(Message.lead_id == lead_id, Message.address == address)
        .order_by(Message.id.desc()).limit(1)
    )
    new = Lead(
        phone=address if kind == "phone" else None,
        email=address if kind == "email" else None,
        language=lead.language, qualification={}, source="unmerge",
        last_channel=last.channel if last else (kind if kind != "phone" else "sms"),
        last_address=address, queue_key=f"{kind}:{address}",
    )
    session.add(new)
    await session.flush()
    conv = Conversation(lead_id=new.id, status="bot")
    session.add(conv)
    await session.flush()
    ident.lead_id = new.id
    moved = await session.execute(
        update(Message).where(Message.lead_id == lead_id, Message.address == address)
        .values(lead_id=new.id, conversation_id=conv.id)
        .execution_options(synchronize_session=False)
    )
    count = int(moved.rowcount)  # type: ignore[attr-defined]
    rest = [i for i in identities if i is not ident]
    # The old lead's own columns must not keep pointing at the person who left it.
    if lead.phone == address:
        lead.phone = next((i.address for i in rest if i.kind == "phone"), None)
    if lead.email and lead.email.lower() == address.lower():
        lead.email = next((i.address for i in rest if i.kind == "email"), None)
    if lead.last_address == address:
        lead.last_address = rest[0].address
        lead.last_channel = "sms" if rest[0].kind == "phone" else rest[0].kind
        lead.queue_key = f"{rest[0].kind}:{rest[0].address}"
    audit(session, "lead.unmerged", lead_id=lead_id, at=now, new_lead_id=new.id,
          identity_id=ident.id, kind=kind, messages=count, by=by)
    audit(session, "lead.created", lead_id=new.id, at=now, channel=kind, source="unmerge",
          from_lead_id=lead_id)
    audit(session, "conversation.opened", lead_id=new.id, at=now, conversation_id=conv.id)
    return Unmerged(lead_id, new.id, ident.id, count)
