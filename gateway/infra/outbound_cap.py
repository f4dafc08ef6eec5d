"""The per-lead hourly cap of the outbound gate (`gateway.domain.outbound_gate`, `rate_cap` in
config/compliance.yml), asked by the outbox for every message to a lead, in the one path all
senders share: a runaway loop cannot text one person a thousand times. Over the cap the row is
stored "refused" (never sent, never swept), audited `message.rate_capped`, counted in
`pronto_rate_capped_total`, and the first refusal of a lead in an hour is logged at WARNING."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.domain.outbound_gate import GateInput, GateLead, GateRules, Kind, Refuse, decide
from gateway.store.leads import audit
from gateway.store.models import AuditEvent, Message

log = logging.getLogger("gateway.infra.outbound")  # the outbox's logger, as before the move
REFUSED = "refused"
"""Status of a message the gate refused: stored for the record, never sent."""
_SENT_LAST_HOUR = "pronto_sent_last_hour"
"""`session.info` key: per lead, its messages of the last hour as counted (`HourlyCap.over`)."""
_HOUR = timedelta(hours=1)


class HourlyCap:
    """Counts a lead's messages of the last hour in SQL and asks the gate for one more."""

    def __init__(self, rules: GateRules) -> None:
        self.rules = rules

    async def over(self, session: AsyncSession, lead_id: int, now: datetime) -> bool:
        """Whether the gate refuses one more message to the lead: its messages of the last hour
        (refused and held ones were not sent) counted in SQL, so every process sees them.

        Counted once a transaction: a bot turn queues several texts, and the ones queued
        since the count are added to it (`counted`), one query fewer a text."""
        counts: dict[int, int] = session.info.setdefault(_SENT_LAST_HOUR, {})
        if lead_id not in counts:
            counts[lead_id] = int(await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.lead_id == lead_id,
                    Message.direction == "out",
                    Message.created_at >= now - _HOUR,
                    Message.status.notin_((REFUSED, "held")),
                )
            ) or 0)
        # Only the cap is asked here: opt-out and quiet hours are decided by the callers that
        # know the message's kind, and a reply (Kind.REPLY) is never held.
        lead = GateLead(opted_out=False, zone="UTC", sent_last_hour=counts[lead_id])
        return isinstance(decide(GateInput(Kind.REPLY), lead, now, self.rules), Refuse)

    @staticmethod
    def counted(session: AsyncSession, lead_id: int) -> None:
        """One more message queued to the lead in this transaction (see `over`)."""
        counts: dict[int, int] = session.info.get(_SENT_LAST_HOUR, {})
        if lead_id in counts:
            counts[lead_id] += 1

    async def refuse(
        self, session: AsyncSession, msg: Message, lead_id: int, now: datetime
    ) -> None:
        """Audit a capped message; alert (WARNING) on the lead's first one in an hour."""
        earlier = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.lead_id == lead_id,
                AuditEvent.at >= now - _HOUR,
                AuditEvent.type == "message.rate_capped",
            )
        )
        cap = self.rules.max_per_lead_per_hour
        audit(session, "message.rate_capped", lead_id=lead_id, message_id=msg.id,
              author=msg.author, channel=msg.channel, cap=cap, alert=not earlier, at=now)
        metrics.RATE_CAPPED.labels(channel=msg.channel).inc()
        if not earlier:
            log.warning(
                "lead %s reached the outbound cap of %d messages per hour: further messages "
                "are refused (a runaway loop?)", lead_id, cap,
            )
