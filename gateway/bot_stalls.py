"""No message waits for the bot without a next step: the stall sweep.

An inbound message is `pending` from the moment it is stored until the bot's answer is
recorded. Normally its own queue event carries it through (and a redelivery resumes it after a
crash), and when Rasa is away a durable `bot_retry` timer drains it. A few windows remain where
a process dies after the message was stored and nothing is left to carry it on: a retry timer
fired but its queue event was never appended, or an event was acknowledged by a worker that
could not finish. The sweep finds leads with a message pending longer than any normal turn and
no pending `bot_retry` timer, and gives each a `bot_retry` timer due now (audited), which
drains the lead in order through its own queue key. A lead resumed once is not resumed again
for `older_than` (its drain may wait behind a backlog). Run by every worker's periodic loop;
several sweepers at once cost at most one extra, empty drain.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from gateway import metrics
from gateway.infra.timers import Timers, has_pending
from gateway.pipeline import BOT_RETRY
from gateway.store.leads import audit
from gateway.store.models import AuditEvent, Message, Timer

log = logging.getLogger(__name__)
RESUMED = "bot.stall_resumed"


async def resume_stalled(
    timers: Timers, *, older_than: timedelta, now: datetime, limit: int = 100
) -> int:
    """Give every lead whose message waits for the bot with no next step a retry due now.

    Args:
        timers: the durable timers (and through them the SQL store).
        older_than: how long a message may be pending before it counts as stalled; longer
            than a Rasa turn can take, so a turn in flight is never counted.
        now: the current time.
        limit: leads resumed per call at most.

    Returns:
        How many leads were given a retry.
    """
    since = now - older_than
    no_retry = ~exists().where(
        Timer.lead_id == Message.lead_id, Timer.kind == BOT_RETRY, Timer.status == "pending"
    )
    not_resumed = ~exists().where(
        AuditEvent.lead_id == Message.lead_id, AuditEvent.type == RESUMED,
        AuditEvent.at >= since,
    )
    async with timers.store.maker() as session:
        leads = list((await session.execute(
            select(Message.lead_id).where(
                Message.bot_status == "pending", Message.direction == "in",
                Message.lead_id.is_not(None), Message.received_at < since, no_retry,
                not_resumed,
            ).group_by(Message.lead_id).limit(limit)
        )).scalars())
    resumed = 0
    for lead_id in leads:
        assert lead_id is not None  # the query keeps leads only
        async with timers.store.transaction() as session:
            if await has_pending(session, lead_id, BOT_RETRY):
                continue  # another sweeper, or the pipeline, gave it one meanwhile
            await timers.schedule(session, BOT_RETRY, now, lead_id=lead_id)
            audit(session, RESUMED, lead_id=lead_id, at=now)
        metrics.STALLS_RESUMED.inc()
        log.warning("lead %s had a message waiting for the bot with no next step: resumed",
                    lead_id)
        resumed += 1
    return resumed
