"""The CRM push on the dashboard (`/admin/crm`): deliveries by endpoint and status, the dead
letters, and a Re-send button that calls the admin API's own re-send (`crm_admin.requeue`)."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import func, select

from gateway.crm_resend import STATUSES, requeue
from gateway.dashboard.auth import check_csrf, csrf_token
from gateway.dashboard.web import int_param, maker, render
from gateway.keys import SERVICES
from gateway.store.models import CrmDelivery

log = logging.getLogger(__name__)
DEAD_SHOWN = 200


async def crm(request: web.Request) -> web.Response:
    """Counts per endpoint and status; the newest dead letters with their last error."""
    async with maker(request)() as session:
        counts = (await session.execute(
            select(CrmDelivery.endpoint, CrmDelivery.status, func.count())
            .group_by(CrmDelivery.endpoint, CrmDelivery.status))).all()
        dead = list((await session.execute(
            select(CrmDelivery).where(CrmDelivery.status == "dead")
            .order_by(CrmDelivery.id.desc()).limit(DEAD_SHOWN))).scalars())
    table: dict[str, dict[str, int]] = {}
    for endpoint, status, n in counts:
        table.setdefault(endpoint, dict.fromkeys(STATUSES, 0))[status] = int(n)
    notice = None
    for key in ("resent", "still_pending"):
        if (v := request.query.get(key, "")).isascii() and v.isdigit():
            notice = (key, request.query[key])
    return render(request, "crm.html", {
        "table": sorted(table.items()), "statuses": STATUSES, "dead": dead,
        "csrf": csrf_token(request), "notice": notice,
    }, active="crm")


async def crm_resend(request: web.Request) -> web.StreamResponse:
    """`POST /admin/crm/{id}/resend` (the page's form): re-send, then back to the page."""
    delivery_id = int_param(request.match_info["id"], "delivery id")
    check_csrf(request, await request.post())
    try:
        await requeue(request.app[SERVICES], delivery_id)
    except web.HTTPConflict:
        raise web.HTTPSeeOther(f"/admin/crm?still_pending={delivery_id}") from None
    log.info("crm delivery %s re-sent from the dashboard", delivery_id)
    raise web.HTTPSeeOther(f"/admin/crm?resent={delivery_id}")
