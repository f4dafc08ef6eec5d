"""SQL for intake: one lead per person across forms, emails and calls, the consent ledger and
the intake records. Pure data access."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.models import Consent, Identity, IntakeRecord, Lead


async def find_record(session: AsyncSession, source: str, external_id: str) -> IntakeRecord | None:
    """The intake record of an earlier delivery of the same lead from the same source."""
    return await session.scalar(
        select(IntakeRecord).where(
            IntakeRecord.source == source, IntakeRecord.external_id == external_id
        )
    )


async def lead_by_identity(session: AsyncSession, kind: str, address: str) -> Lead | None:
    """The lead reached at `address` ("phone": E.164, "email": lower-case address)."""
    lead_id = await session.scalar(
        select(Identity.lead_id).where(Identity.kind == kind, Identity.address == address)
    )
    return None if lead_id is None else await session.get(Lead, lead_id)


async def add_identity(session: AsyncSession, lead_id: int, kind: str, address: str) -> None:
    """Attach an identity to a lead unless some lead already has it."""
    exists = await session.scalar(
        select(Identity.id).where(Identity.kind == kind, Identity.address == address)
    )
    if exists is None:
        session.add(Identity(lead_id=lead_id, kind=kind, address=address))


async def has_consent(session: AsyncSession, lead_id: int) -> bool:
    """Whether any consent basis is on record for the lead."""
    found = await session.scalar(select(Consent.id).where(Consent.lead_id == lead_id).limit(1))
    return found is not None


def record_consent(
    session: AsyncSession,
    lead_id: int,
    *,
    kind: str,
    wording: str,
    given_at: datetime,
    channel: str | None = None,
    source: str | None = None,
) -> None:
    """Add one entry to the consent ledger (kept as given: the exact wording shown)."""
    session.add(
        Consent(lead_id=lead_id, kind=kind, channel=channel, source=source,
                wording=wording, given_at=given_at)
    )
