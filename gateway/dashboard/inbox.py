"""The inbox (`/admin/leads`, live over server-sent events) and one lead's page, which the
agent's signed link (`/admin/leads/{id}?e=…&s=…`) opens read-only without the admin token."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from gateway.dashboard import queries
from gateway.dashboard.auth import guard
from gateway.dashboard.links import verify_request
from gateway.dashboard.web import int_param, maker, now, render
from gateway.domain import dashboard_metrics as dm
from gateway.domain.lead_summary import budget, open_answers
from gateway.domain.utc import as_utc

log = logging.getLogger(__name__)
STATUSES = ("new", "qualifying", "waiting", "with_agent", "escalated", "closed", "opted_out")
SSE_POLL_SECONDS = 2.0


async def inbox(request: web.Request) -> web.Response:
    """Every lead with status, language, channel, source, owner and time since the prospect
    last wrote; filtered by `status`, `language`, `channel`, `source`; searched by `q`."""
    at = now(request)
    q = request.query.get("q", "").strip()[:100]
    async with maker(request)() as session:
        rows = await queries.inbox(session, search=q)
        agents = await queries.agents(session)
    items: list[dict[str, Any]] = []
    for r, escalated, answered, last_in in rows:
        status = dm.lead_status(r.conv_status, r.opted_out, escalated, answered)
        items.append({"r": r, "status": status, "last_in": last_in,
                      "since": (at - last_in).total_seconds() if last_in else None,
                      "owner": agents[r.agent_id].name if r.agent_id in agents else ""})
    choices = {
        "language": sorted({i["r"].language for i in items}),
        "channel": sorted({i["r"].channel for i in items}),
        "source": sorted({i["r"].source for i in items}),
    }
    wanted = {k: request.query.get(k, "") for k in ("status", "language", "channel", "source")}
    for key, value in wanted.items():
        if value:
            items = [i for i in items if (i["status"] if key == "status"
                                          else getattr(i["r"], key)) == value]
    template = "inbox_rows.html" if request.query.get("partial") == "1" else "inbox.html"
    return render(request, template, {
        "items": items, "statuses": STATUSES, "choices": choices, "wanted": wanted, "q": q,
    }, active="inbox")


async def inbox_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: "changed" whenever a message or audit event was stored."""
    async with sse_response(request) as resp:
        async with maker(request)() as session:
            mark = await queries.change_mark(session)
        while resp.is_connected():
            await asyncio.sleep(SSE_POLL_SECONDS)
            async with maker(request)() as session:
                current = await queries.change_mark(session)
            if current != mark:
                mark = current
                await resp.send(f"{current[0]}-{current[1]}", event="changed")
    return resp


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the lead's timeline: a message or a system event."""

    at: datetime
    who: str
    kind: str
    text: str
    detail: str


def timeline(page: queries.LeadPage) -> list[Entry]:
    """Messages (prospect, bot, agent, system) and audit events, across channels, in time
    order. Audit data never holds bodies; ids and codes are shown as they are."""
    out = [Entry(as_utc(m.created_at), m.author, "msg", m.text,
                 f"{m.channel} · {m.status or ''}".strip(" ·")) for m in page.messages]
    for e in page.events:
        data = ", ".join(f"{k}={v}" for k, v in sorted((e.data or {}).items())
                         if v is not None and k != "message_id")
        out.append(Entry(as_utc(e.at), "system", "event", e.type, data))
    return sorted(out, key=lambda x: (x.at, x.kind != "msg"))


def qualification(q: dict[str, Any]) -> list[tuple[str, str]]:
    """The bot's qualification as labelled rows, with the prospect's own words beside a parsed
    value and every answer the bot could not parse."""
    def words(key: str) -> str:
        return f" (“{q[key]}”)" if q.get(key) else ""

    rows = [
        ("goal", str(q.get("intent") or "—")),
        ("area", str(q.get("location") or "—")),
        ("bedrooms", str(q["bedrooms"]) if q.get("bedrooms") is not None else "—"),
        ("budget", (budget(q) or "—") + words("budget_text")),
        ("timeline", (f"{q['timeline_days']} days" if q.get("timeline_days") is not None
                      else "—") + words("timeline_text")),
        ("financing", str(q.get("financing") or "—")),
    ]
    return rows + [("not_understood", part) for part in open_answers(q)]


async def _page(request: web.Request, lead_id: int, *, public: bool) -> web.Response:
    async with maker(request)() as session:
        page = await queries.lead_page(session, lead_id)
    if page is None:
        raise web.HTTPNotFound(text="no such lead")
    row = page.row
    escalated = any(e.type in queries.ESCALATION_TYPES for e in page.events)
    answered = any(m.direction == "out" for m in page.messages)
    return render(request, "lead.html", {
        "page": page, "row": row, "lead": page.lead,
        "status": dm.lead_status(row.conv_status, row.opted_out, escalated, answered),
        "timeline": timeline(page), "qualification": qualification(page.lead.qualification or {}),
        "steps": [e for e in page.events if e.type.startswith(
            ("assignment.", "escalation.", "reply_lapse.", "handoff."))],
    }, active="inbox", public=public)


async def lead(request: web.Request) -> web.StreamResponse:
    """`/admin/leads/{id}`: one lead's timeline, qualification, assignments and consent.

    With a valid signature for this lead (`?e=…&s=…`, the agent's alert link) the page opens
    read-only, without the admin token; anything else goes through the admin guard.
    """
    raw = request.match_info["id"]
    if "s" in request.query and len(raw) <= 18 and verify_request(request, int(raw)):
        log.info("agent link opened for lead %s", raw)
        return await _page(request, int(raw), public=True)
    return await _admin_lead(request)


@guard
async def _admin_lead(request: web.Request) -> web.StreamResponse:
    return await _page(request, int_param(request.match_info["id"], "lead id"), public=False)
