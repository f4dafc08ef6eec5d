"""One lead record from any intake (a form post, a lead email, a missed call).

`accept` finds the person's lead (by phone, else email) or creates it, keeps source, listing
and campaign, writes the consent basis to the ledger, and records the delivery under its
(source, external id), so that a repeated delivery finds the first one and touches nobody
twice. The first touch itself runs in the worker (`gateway.intake.first_touch`), in order with
the lead's other messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import utcnow
from gateway.store.intake import (
    add_identity,
    find_record,
    lead_by_identity,
    record_consent,
)
from gateway.store.leads import audit
from gateway.store.models import IntakeRecord, Lead

INTAKE_EVENT = "intake"
"""The queue event that runs a first touch: {"intake_id": N}."""
TOUCH_PENDING = "pending"


@dataclass(frozen=True, slots=True)
class IntakeLead:
    """A lead as an intake delivered it, validated and normalised.

    Attributes:
        kind: "form", "email" or "call".
        source: where it came from ("website", "zillow", "call", …).
        external_id: the source's id for this delivery (form id, Message-ID, CallSid).
        phone: E.164, or None.
        email: lower-case address, or None.
        listing: address, mls_id, url, price (any may be missing).
        language: "en"/"es" when the source said so.
        consent_kind: the ledger kind of the consent basis ("form", "portal", "call").
        consent_text: the exact wording shown (or the configured basis); "" = none.
        consent_at: when it was given.
        message: what the lead wrote, if anything (kept in the record, never logged).
    """

    kind: str
    source: str
    external_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    message: str = ""
    listing: dict[str, Any] | None = None
    language: str | None = None
    campaign: str | None = None
    page_url: str | None = None
    consent_kind: str = "form"
    consent_text: str = ""
    consent_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The outcome of one delivery: the lead, and whether it was new or a repeat."""

    record_id: int
    lead_id: int
    lead_created: bool
    duplicate: bool
    touch: str
    """The first touch's state: "pending" (to run), "sent", "held", "no_consent", …"""
    queue_key: str


async def accept(session: AsyncSession, item: IntakeLead) -> Accepted:
    """Record one intake delivery in `session` (the caller commits).

    A concurrent delivery of the same (source, external id) loses the unique constraint and
    gets the winner's record, so a retry race never makes two leads or two touches.
    """
    existing = await find_record(session, item.source, item.external_id)
    if existing is not None:
        return await _repeat(session, existing)
    try:
        async with session.begin_nested():
            return await _create(session, item)
    except IntegrityError:
        existing = await find_record(session, item.source, item.external_id)
        if existing is None:
            raise
        return await _repeat(session, existing)


async def _repeat(session: AsyncSession, record: IntakeRecord) -> Accepted:
    lead = await session.get(Lead, record.lead_id) if record.lead_id else None
    assert lead is not None
    audit(session, "intake.duplicate", lead_id=lead.id, intake_id=record.id,
          source=record.source)
    return Accepted(record.id, lead.id, False, True, str(record.data.get("touch") or ""),
                    lead.queue_key or "")


async def _create(session: AsyncSession, item: IntakeLead) -> Accepted:
    lead = None
    if item.phone:
        lead = await lead_by_identity(session, "phone", item.phone)
    if lead is None and item.email:
        lead = await lead_by_identity(session, "email", item.email)
    created = lead is None
    if lead is None:
        key = f"phone:{item.phone}" if item.phone else f"email:{item.email}"
        lead = Lead(language=item.language or "en", language_explicit=bool(item.language),
                    last_channel="sms" if item.phone else "email",
                    last_address=item.phone or item.email, queue_key=key,
                    source=item.source, qualification={})
        session.add(lead)
        await session.flush()
        audit(session, "lead.created", lead_id=lead.id, channel=item.kind, source=item.source)
    elif item.language and not lead.language_explicit:
        lead.language = item.language
    _fill(lead, item)
    if item.phone:
        await add_identity(session, lead.id, "phone", item.phone)
    if item.email:
        await add_identity(session, lead.id, "email", item.email)
    if item.consent_text:
        record_consent(session, lead.id, kind=item.consent_kind, wording=item.consent_text,
                       given_at=item.consent_at or utcnow(), channel=item.kind,
                       source=item.source)
    record = IntakeRecord(
        kind=item.kind, source=item.source, external_id=item.external_id, lead_id=lead.id,
        status="accepted",
        data={"touch": TOUCH_PENDING, "message": item.message[:2000],
              "listing": item.listing, "page_url": item.page_url, "campaign": item.campaign,
              **item.extra},
    )
    session.add(record)
    await session.flush()
    audit(session, "intake.received", lead_id=lead.id, intake_id=record.id, kind=item.kind,
          source=item.source, consent=bool(item.consent_text), new_lead=created)
    return Accepted(record.id, lead.id, created, False, TOUCH_PENDING, lead.queue_key or "")


def _fill(lead: Lead, item: IntakeLead) -> None:
    """Keep what the delivery adds; never overwrite what the lead told us with less."""
    if item.name and not lead.name:
        lead.name = item.name[:200]
    if item.email and not lead.email:
        lead.email = item.email
    if item.phone and not lead.phone:
        lead.phone = item.phone
    if item.listing:
        lead.listing = item.listing
    if item.campaign:
        lead.campaign = item.campaign[:128]
    if not lead.source:
        lead.source = item.source
