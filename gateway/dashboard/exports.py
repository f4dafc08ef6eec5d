"""CSV exports: `/admin/export/leads.csv` and `/admin/export/audit.csv`, `?from=&to=&source=`.

Dates are the office's calendar days (business-hours time zone), `to` inclusive. Neither file
holds phone numbers, emails or message bodies: the lead export is for reporting, and a
person's own data is exported with `pronto lead export`.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from gateway.dashboard import queries
from gateway.dashboard.web import handoff, maker, render
from gateway.domain import dashboard_metrics as dm
from gateway.domain.utc import as_utc
from gateway.store.models import AuditEvent, Lead

LEAD_COLUMNS = ("id", "created_at", "name", "language", "channel", "source", "campaign",
                "status", "outcome", "owner", "score", "opted_out", "first_bot_reply_s",
                "first_human_reply_s", "accept_s")
AUDIT_COLUMNS = ("id", "at", "lead_id", "agent_id", "type", "data")


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a date like 2026-11-30") from None


def window(request: web.Request) -> tuple[list[Any], str]:
    """SQL conditions on `Lead` for `from`, `to` and `source`, and a file-name suffix."""
    tz = ZoneInfo(handoff(request).business.tz)
    start, end = _day(request.query.get("from", ""), "from"), _day(request.query.get("to", ""),
                                                                    "to")
    where: list[Any] = []
    if start:
        where.append(Lead.created_at >= datetime.combine(start, time(), tz))
    if end:
        where.append(Lead.created_at < datetime.combine(end + timedelta(days=1), time(), tz))
    source = request.query.get("source", "")[:64]
    if source:
        where.append(Lead.source == source)
    suffix = "-".join(x for x in (str(start or ""), str(end or ""), source) if x)
    return where, suffix


def _csv(name: str, header: tuple[str, ...], rows: list[list[Any]], suffix: str) -> web.Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    filename = f"{name}-{suffix}.csv" if suffix else f"{name}.csv"
    return web.Response(text=buf.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})


def _secs(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}"


async def leads_csv(request: web.Request) -> web.Response:
    """One row per lead: source, status, owner and its three response clocks."""
    where, suffix = window(request)
    async with maker(request)() as session:
        full = await queries.load_where(session, where)
        rows = full.leads
        agents = await queries.agents(session)
        campaigns = dict((await session.execute(
            select(Lead.id, Lead.campaign).where(*where))).all())
    out = []
    for r in sorted(rows.values(), key=lambda x: x.id):
        tm = dm.lead_timing(r.id, r.created_at, full.messages.get(r.id, []),
                            full.offers.get(r.id, []))
        status = dm.lead_status(r.conv_status, r.opted_out, full.had(r.id, "escalation."),
                                any(m.direction == "out" for m in full.messages.get(r.id, [])))
        out.append([r.id, r.created_at.isoformat(), r.name or "", r.language, r.channel,
                    r.source, campaigns.get(r.id) or "", status, r.outcome or "",
                    agents[r.agent_id].name if r.agent_id in agents else "",
                    "" if r.score is None else r.score, int(r.opted_out),
                    _secs(tm.bot_reply), _secs(tm.human_reply), _secs(tm.accept)])
    return _csv("leads", LEAD_COLUMNS, out, suffix)


async def audit_csv(request: web.Request) -> web.Response:
    """Every audit event of the leads created in the window (`source` filters by lead)."""
    where, suffix = window(request)
    async with maker(request)() as session:
        events = (await session.execute(
            select(AuditEvent).join(Lead, Lead.id == AuditEvent.lead_id).where(*where)
            .order_by(AuditEvent.id))).scalars()
        rows = [[e.id, as_utc(e.at).isoformat(), e.lead_id or "", e.agent_id or "",
                 e.type, json.dumps(e.data or {}, sort_keys=True, ensure_ascii=False)]
                for e in events]
    return _csv("audit", AUDIT_COLUMNS, rows, suffix)


async def exports_page(request: web.Request) -> web.Response:
    """The export forms."""
    async with maker(request)() as session:
        sources = sorted(s for s in (await session.execute(
            select(Lead.source).distinct())).scalars() if s)
    return render(request, "exports.html", {"sources": sources}, active="exports")
