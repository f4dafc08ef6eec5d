"""Re-sending a CRM delivery: the one implementation behind the admin API
(`POST /admin/api/crm/deliveries/{id}/resend`) and the dashboard's Re-send button. Kept apart
from both so neither imports the other (the dashboard is registered by the admin module)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update

from gateway.services import Services
from gateway.store.models import CrmDelivery

STATUSES = ("pending", "delivered", "dead")


async def requeue(services: Services, delivery_id: int) -> CrmDelivery:
    """Put one delivery back in the outbox as new and wake the local dispatcher.

    The one re-send used by the admin API and the dashboard's Re-send button.

    Returns:
        The delivery as it is now (pending, or already delivered if the dispatcher was quick).

    Raises:
        web.HTTPNotFound: no such delivery.
        web.HTTPConflict: it is still pending (re-sending would only reset its backoff).
    """
    now = services.clock()
    async with services.store.transaction() as session:
        row = await session.get(CrmDelivery, delivery_id)
        if row is None:
            raise web.HTTPNotFound(text="no such delivery")
        if row.status == "pending":
            raise web.HTTPConflict(text="delivery is still pending")
        await session.execute(
            update(CrmDelivery).where(CrmDelivery.id == delivery_id).values(
                status="pending", attempts=0, next_attempt_at=None, claimed_by=None,
                claimed_until=None, last_error=None, delivered_at=None, created_at=now,
            ).execution_options(synchronize_session=False)
        )
    running = services.extras.get("crm")
    if running is not None:
        running.dispatcher.wake()
    async with services.store.maker() as session:
        fresh = await session.get(CrmDelivery, delivery_id)
    assert fresh is not None
    return fresh
