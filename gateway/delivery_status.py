"""Delivery status callbacks: applied to the outbound message they are about, and kept when
that message's row does not carry the provider's id yet (DESIGN §1.9: nothing is lost).

A callback can come before the row knows its id: Twilio may report `sent` or `failed` while
the outbox is still writing the send's outcome, and the acknowledgement lane's sends are
recorded only when the pipeline reaches the message (`gateway.ack_lane`), seconds later under
a backlog. Such a callback is kept in Redis, and the workers' housekeeping applies it once the
row is there (`apply_kept`, every few seconds); one still unmatched after `KEEP_SECONDS` is
dropped and counted (the message was never ours, or its row was lost). Statuses only move
forward (`domain.delivery_status`), so the order they are applied in does not matter.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.infra.send_failure import SendFailure
from gateway.messages import StatusUpdate
from gateway.services import Services
from gateway.store.leads import audit, update_status

log = logging.getLogger(__name__)
KEPT = "pronto:early-statuses"
"""Redis hash: one field per (channel names, provider id, status); the value its details."""
LOCK = "pronto:early-statuses:lock"
KEEP_SECONDS = 3600.0
"""How long an unmatched callback waits for its row."""
MAX_KEPT = 20000
"""Callbacks kept at most (a memory bound against a flood of ids that are not ours)."""
_SEP = "\x1f"


async def apply_status(services: Services, session: AsyncSession,
                       channels: frozenset[str], update: StatusUpdate) -> bool:
    """Apply one callback in `session`: the row's status, and a failure's meaning (the outbox's
    `failed`: an opt-out at the carrier, an agent's relay that did not arrive). Returns False
    when no row has the provider id yet (`keep` it)."""
    msg, applied = await update_status(
        session, channels, update.provider_id, update.status, update.error_code)
    if msg is None:
        return False
    if not applied:
        return True  # a stage already passed: nothing new (the same status again is applied)
    failed = update.status in ("failed", "undelivered")
    if failed:
        audit(session, "message.undelivered", lead_id=msg.lead_id, message_id=msg.id,
              code=update.error_code)
    if failed or update.error_code == "21610":
        # By meaning, as a send error is (gateway.send_failures): 21610 is an opt-out.
        await services.outbox.failed(session, SendFailure(
            msg.id, msg.lead_id, update.error_code, opted_out=update.error_code == "21610"))
    return True


async def keep(services: Services, channels: frozenset[str], update: StatusUpdate) -> None:
    """Keep a callback whose row is not there yet, for `apply_kept`."""
    field = _SEP.join((",".join(sorted(channels)), update.provider_id, update.status))
    value = json.dumps({"error_code": update.error_code, "at": services.clock().isoformat()})
    if await services.redis.hlen(KEPT) >= MAX_KEPT:
        log.warning("early status callbacks: %d kept already, one dropped", MAX_KEPT)
        metrics.EARLY_STATUSES.labels(outcome="dropped").inc()
        return
    await services.redis.hset(KEPT, field, value)
    metrics.EARLY_STATUSES.labels(outcome="kept").inc()


async def apply_kept(services: Services, *, lock_seconds: float = 30.0) -> int:
    """Apply the kept callbacks whose rows are there now, oldest first, and drop those past
    `KEEP_SECONDS`; one worker at a time (a Redis lock). Returns how many were applied."""
    redis = services.redis
    try:
        if not await redis.hlen(KEPT):
            return 0  # the usual case: one command every few seconds
        if not await redis.set(LOCK, "1", nx=True, px=int(lock_seconds * 1000)):
            return 0
    except RedisError as exc:
        log.warning("early status callbacks wait for Redis: %s", type(exc).__name__)
        return 0
    try:
        return await _apply_all(services)
    finally:
        await redis.delete(LOCK)


async def _apply_all(services: Services) -> int:
    kept = await services.redis.hgetall(KEPT)
    items = []
    for field, raw in kept.items():
        try:
            names, provider_id, status = str(field).split(_SEP)
            body = json.loads(raw)
            at = datetime.fromisoformat(str(body["at"]))
        except (ValueError, KeyError, TypeError):
            await services.redis.hdel(KEPT, field)  # not ours to read: never applied
            continue
        update = StatusUpdate(channel=names.split(",")[0], provider_id=provider_id,
                              status=status, error_code=body.get("error_code"))
        items.append((at, field, frozenset(names.split(",")), update))
    applied = 0
    for at, field, channels, update in sorted(items, key=lambda item: item[0]):
        async with services.store.transaction() as session:
            found = await apply_status(services, session, channels, update)
        if found:
            applied += 1
            metrics.EARLY_STATUSES.labels(outcome="applied").inc()
        elif (services.clock() - at).total_seconds() > KEEP_SECONDS:
            log.warning("a status callback for a message we never stored was dropped after "
                        "%.0f s", KEEP_SECONDS)
            metrics.EARLY_STATUSES.labels(outcome="expired").inc()
        else:
            continue
        await services.redis.hdel(KEPT, field)
    return applied
