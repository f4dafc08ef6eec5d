"""Admin API for the CRM push: list deliveries (dead letters above all) and re-send them.

`GET /admin/api/crm/deliveries?status=dead` (also `endpoint`, `lead_id`, `after_id`; at most
200, oldest first) and `POST /admin/api/crm/deliveries/{id}/resend`, behind the admin token
like every `/admin/api` route. Re-sending puts the delivery back in the outbox as new: its
attempts start again and its age counts from now; receivers can still dedupe on its id.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.crm.envelope import iso
from gateway.crm_resend import STATUSES, requeue
from gateway.dashboard.auth import guard
from gateway.dashboard.web import int_param
from gateway.keys import SERVICES
from gateway.store.models import CrmDelivery

__all__ = ["STATUSES", "add_crm_admin_routes", "requeue"]


def add_crm_admin_routes(app: web.Application) -> None:
    """Register the CRM delivery routes."""
    app.router.add_get("/admin/api/crm/deliveries", guard(list_deliveries))
    app.router.add_post("/admin/api/crm/deliveries/{id:\\d+}/resend", guard(resend))


def _json(d: CrmDelivery) -> dict[str, Any]:
    return {
        "id": d.id, "endpoint": d.endpoint, "event": d.event, "lead_id": d.lead_id,
        "status": d.status, "attempts": d.attempts, "last_error": d.last_error,
        "occurred_at": iso(d.occurred_at), "created_at": iso(d.created_at),
        "next_attempt_at": iso(d.next_attempt_at), "delivered_at": iso(d.delivered_at),
    }


async def list_deliveries(request: web.Request) -> web.Response:
    """Deliveries filtered by `status`, `endpoint`, `lead_id`, after `after_id` (max 200)."""
    q = select(CrmDelivery).order_by(CrmDelivery.id)
    status = request.query.get("status")
    if status is not None:
        if status not in STATUSES:
            raise web.HTTPBadRequest(text=f"status must be one of {', '.join(STATUSES)}")
        q = q.where(CrmDelivery.status == status)
    if "endpoint" in request.query:
        q = q.where(CrmDelivery.endpoint == request.query["endpoint"])
    if "lead_id" in request.query:
        q = q.where(CrmDelivery.lead_id == int_param(request.query["lead_id"], "lead_id"))
    after_id = int_param(request.query.get("after_id"), "after_id", default=0)
    q = q.where(CrmDelivery.id > after_id).limit(200)
    async with request.app[SERVICES].store.maker() as session:
        rows = (await session.execute(q)).scalars().all()
    return web.json_response([_json(d) for d in rows])


async def resend(request: web.Request) -> web.Response:
    """Queue a dead (or delivered) delivery again; 409 while it is still pending."""
    delivery_id = int_param(request.match_info["id"], "delivery id")
    fresh = await requeue(request.app[SERVICES], delivery_id)
    return web.json_response(_json(fresh), status=202)
