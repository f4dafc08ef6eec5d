"""The admin JSON API (`/admin/api/…`), behind `PRONTO_ADMIN_TOKEN`; the dashboard's pages
are in `gateway.dashboard` and registered from here."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.dashboard import add_dashboard_routes
from gateway.dashboard.auth import COOKIE, guard, has_admin_bearer
from gateway.dashboard.web import int_param
from gateway.keys import SERVICES
from gateway.store.models import Agent, Assignment, AuditEvent, Conversation, Lead, Message

__all__ = ["COOKIE", "add_admin_routes", "has_admin_bearer", "int_param"]
_guard = guard


def add_admin_routes(app: web.Application) -> None:
    """Register the dashboard and API routes."""
    app.router.add_get("/admin", _guard(_to_dashboard))
    add_dashboard_routes(app)
    app.router.add_get("/admin/api/messages", _guard(api_messages))
    app.router.add_get("/admin/api/leads/{id:\\d+}", _guard(api_lead))


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


def _maker(request: web.Request) -> Any:
    return request.app[SERVICES].store.maker


def _msg_json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "lead_id": m.lead_id, "direction": m.direction, "author": m.author,
        "channel": m.channel, "address": m.address, "text": m.text, "status": m.status,
        "language": m.language, "provider_id": m.provider_id, "error_code": m.error_code,
        "low_confidence": m.low_confidence, "intent": m.intent,
        "created_at": m.created_at.isoformat() if m.created_at else None,
    }


async def api_messages(request: web.Request) -> web.Response:
    """Messages filtered by `address`, `lead_id`, `direction`, after `after_id` (max 200)."""
    q = select(Message).order_by(Message.id)
    if "address" in request.query:
        q = q.where(Message.address == request.query["address"])
    if "lead_id" in request.query:
        q = q.where(Message.lead_id == int_param(request.query["lead_id"], "lead_id"))
    if "direction" in request.query:
        if request.query["direction"] not in ("in", "out"):
            raise web.HTTPBadRequest(text="direction must be in or out")
        q = q.where(Message.direction == request.query["direction"])
    after_id = int_param(request.query.get("after_id"), "after_id", default=0)
    q = q.where(Message.id > after_id).limit(200)
    async with _maker(request)() as session:
        rows = (await session.execute(q)).scalars().all()
    return web.json_response([_msg_json(m) for m in rows])


async def _lead_bundle(request: web.Request) -> dict[str, Any]:
    lead_id = int_param(request.match_info["id"], "lead id")
    async with _maker(request)() as session:
        lead = await session.get(Lead, lead_id)
        if lead is None:
            raise web.HTTPNotFound(text="no such lead")
        msgs = (
            await session.execute(select(Message).where(Message.lead_id == lead_id)
                                  .order_by(Message.id))
        ).scalars().all()
        events = (
            await session.execute(select(AuditEvent).where(AuditEvent.lead_id == lead_id)
                                  .order_by(AuditEvent.id))
        ).scalars().all()
        conv = (
            await session.execute(select(Conversation).where(Conversation.lead_id == lead_id)
                                  .order_by(Conversation.id.desc()))
        ).scalars().first()
        assignments = (
            await session.execute(
                select(Assignment, Agent.name).join(Agent, Agent.id == Assignment.agent_id)
                .where(Assignment.lead_id == lead_id).order_by(Assignment.id))
        ).all()
    return {
        "lead": {
            "id": lead.id, "name": lead.name, "language": lead.language,
            "opted_out": lead.opted_out, "score": lead.score,
            "qualification": lead.qualification, "channel": lead.last_channel,
            "created_at": lead.created_at.isoformat(),
        },
        "conversation": {"status": conv.status, "agent_id": conv.agent_id} if conv else None,
        "assignments": [
            {"agent": name, "status": a.status, "rule": a.rule, "code": a.code,
             "offered_at": a.offered_at.isoformat(),
             "decided_at": a.decided_at.isoformat() if a.decided_at else None}
            for a, name in assignments
        ],
        "messages": [_msg_json(m) for m in msgs],
        "audit": [
            {"type": e.type, "at": e.at.isoformat(), "agent_id": e.agent_id, "data": e.data}
            for e in events
        ],
    }


async def api_lead(request: web.Request) -> web.Response:
    """One lead with its transcript, assignments and audit trail."""
    return web.json_response(await _lead_bundle(request))
