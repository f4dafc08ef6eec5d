"""Admin API for data governance: export and erase a lead.

`GET /admin/api/leads/{id}/export` answers everything held about the lead (the same JSON as
`pronto lead export`), audited `lead.exported` with how "admin".
`POST /admin/api/leads/{id}/erase` with the JSON body `{"confirm": true}` erases the lead's
personal data (`gateway.store.erasure`) and its web chat history in Redis, and answers what
was removed. Both are behind the admin token like every `/admin/api` route; the erase needs
the body so that no stray request (a crawler, a replayed link) can erase anyone.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.dashboard.auth import guard
from gateway.governance import NOT_REACHABLE, Governance, LeadNotFound
from gateway.keys import SERVICES

_ID_MAX = 2**31 - 1  # int4 on PostgreSQL: a larger id is no id (400, not a 500)


def add_governance_routes(app: web.Application) -> None:
    """Register the export and erase routes."""
    app.router.add_get("/admin/api/leads/{id:\\d+}/export", guard(export))
    app.router.add_post("/admin/api/leads/{id:\\d+}/erase", guard(erase))


def _governance(request: web.Request) -> Governance:
    services = request.app[SERVICES]
    return Governance(services.store, services.redis, services.clock,
                      media_dir=services.settings.media_dir)


def _lead_id(request: web.Request) -> int:
    value = int(request.match_info["id"])  # the route admits digits only
    if value > _ID_MAX:
        raise web.HTTPBadRequest(text="lead id must be a whole number")
    return value


async def export(request: web.Request) -> web.Response:
    """Everything held about one lead, as JSON (a download when `?download=1`)."""
    lead_id = _lead_id(request)
    try:
        data = await _governance(request).export(lead_id, how="admin", by="admin")
    except LeadNotFound:
        raise web.HTTPNotFound(text="no such lead") from None
    resp = web.json_response(data)
    if request.query.get("download") == "1":
        resp.headers["Content-Disposition"] = f'attachment; filename="lead-{lead_id}.json"'
    return resp


async def erase(request: web.Request) -> web.Response:
    """Erase one lead's personal data; needs `{"confirm": true}`."""
    lead_id = _lead_id(request)
    try:
        body: Any = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("confirm") is not True:
        raise web.HTTPBadRequest(text='erasing cannot be undone: send {"confirm": true}')
    try:
        result = await _governance(request).erase(lead_id, by="admin")
    except LeadNotFound:
        raise web.HTTPNotFound(text="no such lead") from None
    return web.json_response({
        "lead_id": result.lead_id, "already_erased": not result.first,
        "removed": result.counts,
        "crm_refs": [{"endpoint": e, "ref": r} for e, r in result.crm_refs],
        "not_reachable": NOT_REACHABLE,
    })
