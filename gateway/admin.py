"""The admin dashboard and its JSON API (`/admin/…`), behind `PRONTO_ADMIN_TOKEN`."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.domain.lead_summary import budget, open_answers
from gateway.keys import SERVICES, SETTINGS
from gateway.store.models import Agent, Assignment, AuditEvent, Conversation, Lead, Message

COOKIE = "pronto_admin"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ID = re.compile(r"\d{1,19}", re.ASCII)
_ID_MAX = 2**63 - 1  # the largest id SQL integer columns hold


def add_admin_routes(app: web.Application) -> None:
    """Register the dashboard and API routes."""
    app.router.add_get("/admin", _guard(_to_dashboard))
    app.router.add_get("/admin/", _guard(dashboard))
    app.router.add_get("/admin/leads/{id:\\d+}", _guard(lead_page))
    app.router.add_get("/admin/api/messages", _guard(api_messages))
    app.router.add_get("/admin/api/leads/{id:\\d+}", _guard(api_lead))


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


def _is_admin_token(request: web.Request, given: str) -> bool:
    expected = request.app[SETTINGS].admin_token.get_secret_value()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _bearer(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


def has_admin_bearer(request: web.Request) -> bool:
    """Whether the request carries the admin token as `Authorization: Bearer …` (scrapers)."""
    return _is_admin_token(request, _bearer(request))


def _guard(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        given = request.query.get("token") or _bearer(request) or request.cookies.get(COOKIE, "")
        if not _is_admin_token(request, given):
            raise web.HTTPUnauthorized(text="admin token required (?token=, Bearer or cookie)")
        if "token" in request.query:
            # Move the credential out of the URL (history, referrers) into a strict cookie;
            # the rest of the query (a lead filter, a page) is kept.
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            resp = web.HTTPFound(request.rel_url.with_query(rest or None))
            secure = request.secure or request.app[SETTINGS].public_url.startswith("https://")
            resp.set_cookie(COOKIE, given, httponly=True, samesite="Strict", path="/admin",
                            secure=secure)
            raise resp
        return await handler(request)

    return guarded


def int_param(value: str | None, name: str, default: int | None = None) -> int:
    """A whole-number query or path parameter (an id), or 400 Bad Request.

    Raises:
        web.HTTPBadRequest: the value is missing (and there is no default), not a plain
            non-negative number, or too large for an SQL id.
    """
    if value is None:
        if default is None:
            raise web.HTTPBadRequest(text=f"{name} is required")
        return default
    if not _ID.fullmatch(value) or int(value) > _ID_MAX:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number")
    return int(value)


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


_STYLE = """<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2em}td,th{border-bottom:1px solid #ddd;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.in{color:#0a5}.out{color:#05a}.muted{color:#888}h2{margin-top:1.5em}</style>"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td class=muted>none yet</td></tr>'}</table>"


def _page(title: str, body: str) -> web.Response:
    html = f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>{_STYLE}{body}"
    return web.Response(text=html, content_type="text/html")


async def dashboard(request: web.Request) -> web.Response:
    """Leads, the outbox (including dry-run sends), low-confidence messages, recent audit."""
    async with _maker(request)() as session:
        leads = (await session.execute(select(Lead).order_by(Lead.id.desc()).limit(50))).scalars()
        outbox = (await session.execute(
            select(Message).where(Message.direction == "out").order_by(Message.id.desc())
            .limit(50))).scalars()
        low = (await session.execute(
            select(Message).where(Message.low_confidence.is_(True))
            .order_by(Message.id.desc()).limit(50))).scalars()
        events = (await session.execute(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(50))).scalars()
        counts = dict((await session.execute(
            select(Conversation.status, func.count()).group_by(Conversation.status))).all())
    lead_rows = [
        [f"<a href='/admin/leads/{x.id}'>{x.id}</a>", escape(x.name or ""), x.language,
         escape(x.last_channel or ""), str(x.score or ""), "opted out" if x.opted_out else "",
         x.created_at.strftime("%Y-%m-%d %H:%M")]
        for x in leads
    ]
    out_rows = [
        [str(m.id), f"<a href='/admin/leads/{m.lead_id}'>{m.lead_id}</a>" if m.lead_id else "",
         m.channel, m.author, escape(m.status or ""), escape(m.text[:160])]
        for m in outbox
    ]
    low_rows = [[str(m.lead_id), escape(m.text[:160]), escape(m.intent or ""),
                 f"{m.confidence:.2f}" if m.confidence is not None else ""] for m in low]
    ev_rows = [[e.at.strftime("%H:%M:%S"), str(e.lead_id or ""), escape(e.type),
                escape(str(e.data)[:120])] for e in events]
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no conversations"
    body = (
        f"<h1>Pronto</h1><p>Conversations — {escape(summary)}</p>"
        "<h2>Leads</h2>" + _table(["id", "name", "lang", "channel", "score", "", "created"],
                                  lead_rows)
        + "<h2>Outbox</h2><p class=muted>Every message sent; status dry_run means no provider "
        "credentials are set and nothing left the machine.</p>"
        + _table(["id", "lead", "channel", "author", "status", "text"], out_rows)
        + "<h2>Not understood</h2>" + _table(["lead", "text", "best intent", "confidence"],
                                              low_rows)
        + "<h2>Audit</h2>" + _table(["at", "lead", "event", "data"], ev_rows)
    )
    return _page("Pronto dashboard", body)


def _qualification_rows(q: dict[str, Any]) -> list[list[str]]:
    """The bot's qualification as labelled rows (what the agent's alert says, spelled out)."""
    rows = [
        ["goal", escape(str(q.get("intent") or "—"))],
        ["area", escape(str(q.get("location") or "—"))],
        ["bedrooms", escape(str(q.get("bedrooms") if q.get("bedrooms") is not None else "—"))],
        ["budget", escape(budget(q) or "—")
         + (f" <span class=muted>({escape(str(q['budget_text']))})</span>"
            if q.get("budget_text") else "")],
        ["timeline", escape(f"{q['timeline_days']} days" if q.get("timeline_days") is not None
                            else "—")
         + (f" <span class=muted>({escape(str(q['timeline_text']))})</span>"
            if q.get("timeline_text") else "")],
        ["financing", escape(str(q.get("financing") or "—"))],
        ["score", escape(str(q.get("score") if q.get("score") is not None else "—"))],
    ]
    rows += [["not understood", escape(part)] for part in open_answers(q)]
    return rows


async def lead_page(request: web.Request) -> web.Response:
    """One lead's transcript and audit trail."""
    b = await _lead_bundle(request)
    lead = b["lead"]
    msgs = [[m["created_at"][11:19], f"<span class={m['direction']}>{m['author']}</span>",
             m["channel"], escape(m["text"]), escape(m["status"] or "")] for m in b["messages"]]
    asg = [[a["agent"], a["status"], a["rule"], a["offered_at"][11:19],
            (a["decided_at"] or "")[11:19]] for a in b["assignments"]]
    ev = [[e["at"][11:19], escape(e["type"]), escape(str(e["data"]))] for e in b["audit"]]
    body = (
        f"<p><a href='/admin/'>← dashboard</a></p><h1>Lead {lead['id']}: "
        f"{escape(lead['name'] or 'unnamed')}</h1><p>Language {lead['language']}, score "
        f"{lead['score']}</p><h2>Qualification</h2>"
        + _table(["field", "value"], _qualification_rows(lead["qualification"] or {}))
        + "<h2>Transcript</h2>" + _table(["time", "who", "channel", "text", "status"], msgs)
        + "<h2>Assignments</h2>" + _table(["agent", "status", "rule", "offered", "decided"], asg)
        + "<h2>Audit</h2>" + _table(["at", "event", "data"], ev)
    )
    return _page(f"Lead {lead['id']}", body)
