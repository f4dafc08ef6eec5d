"""What the outbox sweeper needs beside the outbox: which rows are unowned, a stored row back
as an `Outbound`, and whether the provider already has a message a dead process left behind.

Kept apart from `gateway.infra.outbound` so the outbox reads as queue → deliver → record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.channels.base import Channel, Reconciles
from gateway.errors import ChannelError
from gateway.messages import Button, Outbound, SendResult
from gateway.store.leads import Store
from gateway.store.models import Lead, Message

log = logging.getLogger(__name__)
LATER = "later"
"""`provider_has` outcome: the provider could not be asked; the row is left to a later sweep."""


def unowned(now: datetime) -> Any:
    """Queued, never sent, and nobody's lease in force. `claimed_until` is cleared once a send
    is recorded, so its index leads straight to the few sends in flight."""
    return and_(
        Message.claimed_until < now,
        Message.direction == "out",
        Message.status == "queued",
        Message.provider_id.is_(None),
    )


def outbound_of(msg: Message) -> Outbound:
    """A stored outbound row as the message to send again (buttons and template kept)."""
    return Outbound(
        channel=msg.channel, address=msg.address, text=msg.text,
        buttons=tuple(Button(str(b[0]), str(b[1])) for b in msg.buttons or ()),
        message_id=msg.id, content_sid=msg.content_sid or "",
        content_variables=json.dumps(msg.content_variables or {}) if msg.content_sid else "",
    )


async def leads_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Lead]:
    """The leads of the claimed rows, by id."""
    if not ids:
        return {}
    rows = (await session.execute(select(Lead).where(Lead.id.in_(ids)))).scalars()
    return {lead.id: lead for lead in rows}


async def provider_has(
    store: Store, adapter: Channel | None, out: Outbound, since: datetime,
    clock: Callable[[], datetime],
) -> SendResult | Literal["later"] | None:
    """The provider's record of `out` if its sender died after the send and before the record.

    None: the provider does not have it (or cannot tell: resend). `LATER`: the provider could
    not be asked; the row's lease is made to lapse at once so a later sweep tries again, rather
    than risk a duplicate. A record whose id another row holds already is that row's (the same
    text sent twice), never this one's.
    """
    if not isinstance(adapter, Reconciles):
        return None
    try:
        candidates = await adapter.find_sent(out, since)
    except (TimeoutError, ChannelError, OSError) as exc:
        log.warning("could not ask the provider about message %s (%s): retried later",
                    out.message_id, type(exc).__name__)
        async with store.transaction() as session:
            await session.execute(update(Message).where(Message.id == out.message_id)
                                  .values(claimed_until=clock()))
        return LATER
    if not candidates:
        return None
    async with store.maker() as session:
        taken = set((await session.execute(select(Message.provider_id).where(
            Message.provider_id.in_([c.provider_id for c in candidates])))).scalars())
    return next((c for c in candidates if c.provider_id not in taken), None)
