"""The broker's metric pages: overview (`/admin/`) and the response standard."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.dashboard import charts, queries
from gateway.dashboard.i18n import pick_language, translator
from gateway.dashboard.web import (
    days_param,
    handoff,
    local_midnight,
    maker,
    now,
    render,
    slas,
)
from gateway.domain import dashboard_metrics as dm


def timings(data: queries.Dataset) -> dict[int, dm.LeadTiming]:
    """Each lead's clocks (start, first bot reply, first human reply, accept)."""
    return {
        lead_id: dm.lead_timing(lead_id, row.created_at, data.messages.get(lead_id, []),
                                data.offers.get(lead_id, []))
        for lead_id, row in data.leads.items()
    }


def periods(request: web.Request, at: datetime) -> list[tuple[str, datetime]]:
    """(label key, since) for today, the last 7 days and the last 30 days."""
    return [("today", local_midnight(request, at)), ("last_7", at - timedelta(days=7)),
            ("last_30", at - timedelta(days=30))]


async def overview(request: web.Request) -> web.Response:
    """Leads in, speed to lead (bot vs human), accept times, per day; who waits now."""
    at = now(request)
    hours = handoff(request).business
    span = days_param(request)
    async with maker(request)() as session:
        data = await queries.load(session, at - timedelta(days=30), at + timedelta(seconds=1))
        waits = await queries.open_waits(session)
        agents = await queries.agents(session)
    times = timings(data)
    cols: list[dict[str, Any]] = []
    for key, since in periods(request, at):
        leads = [r for r in data.leads.values() if r.created_at >= since]
        cols.append({
            "key": key, "total": len(leads),
            "channel": Counter(r.channel for r in leads),
            "source": Counter(r.source for r in leads),
            "language": Counter(r.language for r in leads),
            "stats": dm.response_stats((times[r.id] for r in leads), hours),
        })
    last = hours.local(at).date()
    days = dm.day_range(last, span)
    t = translator(pick_language(request))
    labels = (t("business"), t("after_hours"))
    since_chart = local_midnight(request, at) - timedelta(days=span - 1)
    chart_times = [times[r.id] for r in data.leads.values() if r.created_at >= since_chart]
    # The bot answers in seconds, people in minutes: each chart in the unit it is read in.
    svg = {m: charts.per_day(f"{t(m)} — p90 ({'s' if m == 'bot_reply' else 'min'})",
                             dm.daily_stats(chart_times, hours, m, days), labels,
                             unit=1.0 if m == "bot_reply" else 60.0)
           for m in dm.METRICS}
    per_lang: dict[str, list[int]] = {}
    for r in data.leads.values():
        day = hours.local(r.created_at).date()
        if day in days:
            per_lang.setdefault(r.language.upper(), [0] * len(days))[days.index(day)] += 1
    svg["leads"] = charts.leads_per_day(t("leads_in"), days, dict(sorted(per_lang.items())))
    keys = sorted({k for c in cols for k in c["channel"]}), sorted(
        {k for c in cols for k in c["source"]}), sorted({k for c in cols for k in c["language"]})
    return render(request, "overview.html", {
        "cols": cols, "channels": keys[0], "sources": keys[1], "languages": keys[2],
        "metrics": dm.METRICS, "buckets": dm.BUCKETS, "svg": svg, "span": span,
        "waits": [(r, kind, since, (at - since).total_seconds(),
                   agents[r.agent_id].name if r.agent_id in agents else "")
                  for r, kind, since in waits[:50]],
        "waiting_total": len(waits),
    }, active="overview")


def _team_total(standing: dict[int, dm.AgentStanding]) -> dm.AgentStanding:
    total = dm.AgentStanding(agent_id=0)
    for s in standing.values():
        total.offers += s.offers
        total.accepted += s.accepted
        total.accepted_in_sla += s.accepted_in_sla
        total.accept_breaches += s.accept_breaches
        total.replies_due += s.replies_due
        total.replied_in_sla += s.replied_in_sla
        total.reply_breaches += s.reply_breaches
        total.accept_latencies += s.accept_latencies
        total.expired += s.expired
        total.passed += s.passed
    return total


async def standing_data(request: web.Request, span: int
                        ) -> tuple[queries.Dataset, dict[int, dm.AgentStanding], dict[int, Any]]:
    """The window's rows, each agent's standing and the agents by id."""
    at = now(request)
    accept_sla, reply_sla = slas(request)
    async with maker(request)() as session:
        data = await queries.load(session, at - timedelta(days=span), at + timedelta(seconds=1))
        agents = await queries.agents(session)
    standing = dm.standards(data.all_offers(), data.all_messages(), handoff(request).business,
                            accept_sla, reply_sla, at)
    return data, standing, agents


async def standard(request: web.Request) -> web.Response:
    """Per agent and team: accepted within the SLA, replied within the reply SLA; breaches with
    links; escalation steps; the longest waits for a human."""
    at = now(request)
    span = days_param(request)
    accept_sla, reply_sla = slas(request)
    data, standing, agents = await standing_data(request, span)
    async with maker(request)() as session:
        steps = await queries.escalation_steps(session, at - timedelta(days=span), at)
    breaches: list[tuple[int, str, str]] = []
    for agent_id, s in standing.items():
        name = agents[agent_id].name if agent_id in agents else f"#{agent_id}"
        breaches += [(lead_id, name, "accept_breach") for lead_id in s.accept_breaches]
        breaches += [(lead_id, name, "reply_breach") for lead_id in s.reply_breaches]
    breaches.sort(key=lambda b: -b[0])
    limit = 1000 if request.query.get("all") == "1" else 25  # the ledger in full on request
    longest: list[tuple[queries.LeadRow, float, bool]] = []
    for lead_id, tm in timings(data).items():
        if tm.offered_at is None:
            continue  # never handed to a human: the bot's page, not this ledger
        waited = tm.human_reply
        longest.append((data.leads[lead_id], waited if waited is not None
                        else (at - tm.start).total_seconds(), waited is None))
    longest.sort(key=lambda x: -x[1])
    rows = sorted(standing.values(), key=lambda s: agents[s.agent_id].name
                  if s.agent_id in agents else "")
    return render(request, "standard.html", {
        "rows": [(agents.get(s.agent_id), s) for s in rows if s.offers or s.replies_due],
        "team": _team_total(standing), "breaches": breaches[:limit],
        "breach_total": len(breaches), "steps": steps, "agents": agents,
        "longest": longest[:15], "span": span, "limit": limit, "accept_sla": accept_sla,
        "reply_sla": reply_sla, "leads": data.leads,
    }, active="standard")
