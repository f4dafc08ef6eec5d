"""SQL for erasing a lead's personal data (the "right to be forgotten"). No HTTP here.

What goes: the lead's name, phone, email, addresses, qualification, listing, score and zone;
its identities (so the same phone writing again is a new lead); every message text of its
conversation, and the address a message went to or came from (an alert to an agent keeps
the agent's address); the agent's own words relayed to the lead; what intake deliveries held
(the form's message, the raw email, a voicemail link), including an unparsed email that
names the lead's phone or email; the words quoted in audit events and CRM deliveries.

What stays, and why:
- the lead row as a tombstone (`erased_at`), so ids in the audit trail, the dashboard's counts
  and the CRM's references still resolve to "an erased lead";
- the consent ledger's kind, channel, source, times and wording: it proves a basis for each
  contact existed (the wording is the brokerage's text; a personal value quoted in it is
  blanked);
- the audit trail's types, times and ids (its personal values blanked), plus a tombstone
  event `lead.erased` with counts only;
- assignments, conversations' status and outcome, provider message ids, segment counts:
  operational facts about the team, not about the person.

Sends still queued or held for the lead are cancelled, pending timers too, open conversations
closed (outcome "erased") and open offers withdrawn, pending CRM deliveries given up (they
would push empty fields). What SQL cannot reach (Rasa's tracker
store keyed by the lead id, a web chat's Redis history, copies already in a CRM) is the
caller's to handle or to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import utcnow
from gateway.store.governance import LEAD_TABLES, lead_tables
from gateway.store.leads import audit
from gateway.store.models import (
    Assignment,
    AuditEvent,
    Consent,
    Conversation,
    CrmDelivery,
    Identity,
    IntakeRecord,
    Lead,
    Message,
    Timer,
)

ERASED = "[erased]"
PERSONAL_KEYS = frozenset({
    "words", "text", "body", "message", "name", "phone", "email", "address", "to", "from",
    "recording_url", "page_url", "listing", "summary", "transcript",
})
"""Keys of audit, timer and CRM data whose text values are personal whatever they hold."""
MIN_TEXT = 8
"""A message text shorter than this ("Hi", "yes") is not searched for inside other values:
it would blank unrelated words and identifies nobody."""


@dataclass(slots=True)
class Erased:
    """What an erasure removed (counts), and what SQL cannot reach.

    Attributes:
        lead_id: The erased lead (its row stays as a tombstone).
        first: False when the lead had been erased before (the run scrubbed what came since).
        counts: Rows touched per kind.
        identities: The (kind, address) pairs deleted, for the caller to clean elsewhere
            (a web chat session's Redis history); never logged.
        crm_refs: (endpoint, the CRM's id of the person) to erase there too.
        media: SHA-256 names of the attachment files the lead sent, for the caller to delete
            once the erasure commits (files are not in SQL).
    """

    lead_id: int
    first: bool
    counts: dict[str, int] = field(default_factory=dict)
    identities: list[tuple[str, str]] = field(default_factory=list)
    crm_refs: list[tuple[str, str]] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


class _Scrubber:
    """Blanks personal values inside JSON data and free text."""

    def __init__(self, needles: set[str], texts: set[str]) -> None:
        self.needles = sorted((n for n in needles if n and len(n) >= 3), key=len, reverse=True)
        self.texts = {t for t in texts if t}

    def text(self, value: str) -> str:
        if value in self.texts:
            return ERASED
        out = value
        for needle in self.needles:
            out = _replace_ci(out, needle, ERASED)
        return out

    def data(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v, key) for v in value]
        if isinstance(value, str):
            return "" if key in PERSONAL_KEYS else self.text(value)
        return value


def _replace_ci(text: str, needle: str, repl: str) -> str:
    # Whole words only: a lead called "Ana" must not blank "Banana" in someone's wording.
    pattern = re.escape(needle)
    if needle[0].isalnum():
        pattern = r"(?<!\w)" + pattern
    if needle[-1].isalnum():
        pattern += r"(?!\w)"
    return re.sub(pattern, repl, text, flags=re.IGNORECASE)


def _digits(phone: str) -> str:
    # The national number as a portal email writes it once punctuation is dropped.
    d = "".join(c for c in phone if c.isdigit())
    return d[-10:] if len(d) >= 10 else ""


async def erase_lead(
    session: AsyncSession, lead_id: int, *, by: str, at: datetime | None = None
) -> Erased | None:
    """Erase a lead's personal data in the caller's transaction; None when there is no lead.

    Idempotent: a second run finds nothing more to remove (or only what arrived in between)
    and writes no second tombstone unless it removed something.

    Args:
        session: The open session (the caller commits).
        lead_id: The lead.
        by: Who erased it: "cli", "admin" or a name (kept in the tombstone event).
        at: The time of erasure (defaults to now).
    """
    now = at or utcnow()
    lead = await session.scalar(select(Lead).where(Lead.id == lead_id).with_for_update())
    if lead is None:
        return None
    result = Erased(lead_id, first=lead.erased_at is None)
    counts = result.counts
    idents = list((await session.execute(
        select(Identity).where(Identity.lead_id == lead_id))).scalars())
    msgs = list((await session.execute(
        select(Message).where(Message.lead_id == lead_id))).scalars())
    events = list((await session.execute(
        select(AuditEvent).where(AuditEvent.lead_id == lead_id))).scalars())
    records = list((await session.execute(
        select(IntakeRecord).where(IntakeRecord.lead_id == lead_id))).scalars())

    phones = {a for a in (lead.phone, *(i.address for i in idents if i.kind == "phone")) if a}
    emails = {a.lower() for a in (lead.email, *(i.address for i in idents if i.kind == "email"))
              if a}
    addresses = {i.address for i in idents} | phones | emails
    if lead.last_address:
        addresses.add(lead.last_address)
    texts = {m.text for m in msgs if m.text}
    texts |= {str(r.data.get("message")) for r in records if r.data.get("message")}
    needles = set(addresses) | {_digits(p) for p in phones} | {
        t for t in texts if len(t) >= MIN_TEXT}
    if lead.name:
        needles.add(lead.name)
    # What the bot collected (a name, an email typed in the chat) is searched for too.
    needles |= {v for k, v in (lead.qualification or {}).items()
                if k in ("name", "email", "phone") and isinstance(v, str)}
    scrub = _Scrubber(needles, texts)

    # The agent's own message that was relayed to the lead holds the same words: the relay's
    # audit event names it.
    relayed = {int(e.data["message_id"]) for e in events
               if e.type == "relay.agent_to_lead" and isinstance(e.data.get("message_id"), int)}
    if relayed:
        res = await session.execute(
            update(Message).where(Message.id.in_(relayed), Message.lead_id.is_(None),
                                  Message.text != "")
            .values(text="").execution_options(synchronize_session=False))
        counts["agent_messages"] = int(res.rowcount)  # type: ignore[attr-defined]

    counts["messages"] = 0
    hashes = {str(e["sha256"]) for m in msgs for e in (m.media or [])
              if isinstance(e, dict) and e.get("sha256")}
    counts["attachments"] = sum(len(m.media or []) for m in msgs)
    result.media = sorted(hashes)
    for m in msgs:
        m.media = None  # type, size and hash say what was sent: personal too
        to_agent = m.author == "system" and m.agent_id is not None
        if m.text or (m.address and not to_agent):
            counts["messages"] += 1
        m.text = ""
        if not to_agent:
            m.address = ""
        if m.direction == "out" and m.status in ("queued", "held"):
            m.status, m.claimed_by, m.claimed_until, m.send_after = "cancelled", None, None, None
        if m.bot_status == "pending":
            m.bot_status = "skipped"

    counts["conversations_closed"] = await _close(session, lead_id, now)

    counts["identities"] = len(idents)
    result.identities = [(i.kind, i.address) for i in idents]
    await session.execute(delete(Identity).where(Identity.lead_id == lead_id))

    personal = (lead.name, lead.phone, lead.email, lead.last_address, lead.listing,
                lead.qualification or None, lead.score, lead.timezone)
    counts["lead_fields"] = sum(v is not None for v in personal)
    lead.name = lead.phone = lead.email = lead.last_address = lead.queue_key = None
    lead.listing, lead.qualification, lead.score, lead.timezone = None, {}, None, None
    lead.erased_at = lead.erased_at or now

    counts["intake_records"] = 0
    for r in records:
        kept = {"touch": r.data.get("touch"), "erased": True}
        if r.data != kept or r.raw is not None:
            counts["intake_records"] += 1
        r.data, r.raw = kept, None
    counts["unparsed_emails"] = await _unparsed(session, phones, emails)

    counts["consents"] = 0
    for c in (await session.execute(select(Consent).where(Consent.lead_id == lead_id))).scalars():
        wording = scrub.text(c.wording)
        if wording != c.wording:
            c.wording, counts["consents"] = wording, counts["consents"] + 1

    counts["audit_events"] = _scrub_rows(events, scrub)
    timers = list((await session.execute(
        select(Timer).where(Timer.lead_id == lead_id))).scalars())
    counts["timers"] = _scrub_rows(timers, scrub)
    for t in timers:
        if t.status == "pending":  # a fire that still finds it in Redis skips it (SQL wins)
            t.status = "cancelled"
    deliveries = list((await session.execute(
        select(CrmDelivery).where(CrmDelivery.lead_id == lead_id))).scalars())
    counts["crm_deliveries"] = _scrub_rows(deliveries, scrub)
    for d in deliveries:
        if d.status == "pending":
            d.status, d.last_error, d.claimed_by, d.claimed_until = (
                "dead", "lead erased", None, None)
        if d.external_ref:
            result.crm_refs.append((d.endpoint, d.external_ref))
    result.crm_refs = sorted(set(result.crm_refs))

    counts["other_rows"] = await _scrub_other_tables(session, lead_id, scrub)

    await session.flush()
    if result.first or any(counts.values()):
        # The tombstone: who and when, with counts only.
        audit(session, "lead.erased", lead_id=lead_id, at=now, by=by, repeat=not result.first,
              **counts)
    return result


async def _close(session: AsyncSession, lead_id: int, now: datetime) -> int:
    """Close the lead's open conversations and withdraw its offers: nobody waits on, owns or
    can accept an erased lead (its timers are cancelled, so an open wait would have no next
    step). No `conversation.closed` event: the CRM is not told of a close that never was."""
    res = await session.execute(
        update(Conversation).where(Conversation.lead_id == lead_id,
                                   Conversation.status != "closed")
        .values(status="closed", outcome="erased").execution_options(synchronize_session=False))
    for before, after in (("offered", "expired"), ("accepted", "released")):
        await session.execute(
            update(Assignment).where(Assignment.lead_id == lead_id, Assignment.status == before)
            .values(status=after, decided_at=now).execution_options(synchronize_session=False))
    return int(res.rowcount)  # type: ignore[attr-defined]


async def _scrub_other_tables(session: AsyncSession, lead_id: int, scrub: _Scrubber) -> int:
    """A safety net for tables added after this module (appointments, feedback, …): every text
    and JSON column of their rows of this lead loses the lead's personal values."""
    handled = {model for _, model in LEAD_TABLES}
    changed = 0
    for _, model in lead_tables():
        if model in handled:
            continue
        table: Any = model.__table__
        cols = [c.key for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not cols:
            continue
        for row in (await session.execute(
                select(model).where(table.c.lead_id == lead_id))).scalars():
            for key in cols:
                old = getattr(row, key)
                new = scrub.text(old) if isinstance(old, str) else scrub.data(old)
                if new != old:
                    setattr(row, key, new)
                    changed += 1
    return changed


def _scrub_rows(rows: list[Any], scrub: _Scrubber) -> int:
    """Scrub the `data` JSON of each row; returns how many changed."""
    changed = 0
    for row in rows:
        new = scrub.data(row.data or {})
        if new != (row.data or {}):
            row.data, changed = new, changed + 1
    return changed


async def _unparsed(session: AsyncSession, phones: set[str], emails: set[str]) -> int:
    """Blank unparsed lead emails (kept for an admin, linked to no lead) that name the lead."""
    digits = {d for d in (_digits(p) for p in phones) if d}
    if not (phones or emails):
        return 0
    rows = list((await session.execute(
        select(IntakeRecord).where(IntakeRecord.lead_id.is_(None),
                                   IntakeRecord.raw.is_not(None))
    )).scalars())
    hit = 0
    for r in rows:
        raw = r.raw or ""
        flat = "".join(c for c in raw if c.isdigit())
        if (any(e in raw.lower() for e in emails) or any(p in raw for p in phones)
                or any(d in flat for d in digits)):
            r.raw, r.data, hit = None, {"erased": True}, hit + 1
    return hit

