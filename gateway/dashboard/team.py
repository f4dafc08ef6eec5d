"""Agent scorecards (`/admin/agents`) and the funnel (`/admin/funnel`)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from gateway.dashboard import queries
from gateway.dashboard.pages import standing_data
from gateway.dashboard.web import days_param, handoff, maker, now, render
from gateway.domain import dashboard_metrics as dm
from gateway.store.models import Assignment, Conversation, Feedback


async def agents(request: web.Request) -> web.Response:
    """Per agent: accept p50/p90, share never accepted, reassignments away, open leads
    against the cap, outcomes, CSAT (when feedback exists)."""
    span = days_param(request)
    data, standing, by_id = await standing_data(request, span)
    async with maker(request)() as session:
        open_by = dict((await session.execute(
            select(Conversation.agent_id, func.count()).where(Conversation.status == "agent")
            .group_by(Conversation.agent_id))).all())
        offered_by = dict((await session.execute(
            select(Assignment.agent_id, func.count()).where(Assignment.status == "offered")
            .group_by(Assignment.agent_id))).all())
        # CSAT and NPS answers per agent (gateway/followup/feedback.py), all time.
        scores: dict[tuple[int, str], tuple[float, int]] = {
            (int(a), str(k)): (float(avg), int(n)) for a, k, avg, n in (await session.execute(
                select(Feedback.agent_id, Feedback.kind, func.avg(Feedback.score),
                       func.count()).where(Feedback.score.is_not(None),
                                           Feedback.agent_id.is_not(None))
                .group_by(Feedback.agent_id, Feedback.kind))).all()}
    outcomes: dict[int, Counter[str]] = {}
    for r in data.leads.values():
        if r.conv_status == "closed" and r.agent_id is not None and r.outcome:
            outcomes.setdefault(r.agent_id, Counter())[r.outcome] += 1
    away: Counter[int] = Counter(o.agent_id for o in data.all_offers()
                                 if o.status in ("expired", "reassigned"))
    cfg = handoff(request)
    cards = []
    for agent in sorted(by_id.values(), key=lambda a: a.name):
        s = standing.get(agent.id, dm.AgentStanding(agent.id))
        conf = cfg.agent(agent.key)
        never = s.offers - s.accepted
        cards.append({
            "agent": agent, "s": s, "p50": dm.percentile(s.accept_latencies, 50),
            "p90": dm.percentile(s.accept_latencies, 90),
            "never": never / s.offers if s.offers else None, "away": away[agent.id],
            "open": int(open_by.get(agent.id, 0)) + int(offered_by.get(agent.id, 0)),
            "cap": conf.max_open_leads if conf else None,
            "won": outcomes.get(agent.id, Counter())["won"],
            "lost": outcomes.get(agent.id, Counter())["lost"],
            "csat": scores.get((agent.id, "csat")), "nps": scores.get((agent.id, "nps")),
        })
    return render(request, "agents.html", {"cards": cards, "span": span}, active="agents")


def stages(data: queries.Dataset) -> dict[str, set[int]]:
    """Lead ids that reached each funnel stage (from audit events and outcomes)."""
    had = {t: {lid for lid, ev in data.events.items() if t in ev} for t in (
        "handoff.requested", "assignment.offered", "assignment.accepted", "appointment.set")}
    return {
        "inbound": set(data.leads),
        "qualified": had["handoff.requested"],
        "handed_off": had["assignment.offered"],
        "accepted": had["assignment.accepted"],
        "appointment": had["appointment.set"],
        "won": {r.id for r in data.leads.values() if r.outcome == "won"},
    }


async def funnel(request: web.Request) -> web.Response:
    """Inbound → qualified → handed off → accepted → appointment → won, per source and
    language."""
    span = days_param(request, default=30)
    at = now(request)
    async with maker(request)() as session:
        data = await queries.load(session, at - timedelta(days=span), at + timedelta(seconds=1))
    reached = stages(data)
    by_source = dm.funnel(reached, {r.id: r.source for r in data.leads.values()})
    by_lang = dm.funnel(reached, {r.id: r.language for r in data.leads.values()})
    return render(request, "funnel.html", {
        "stages": dm.FUNNEL, "tables": [("by_source", by_source), ("by_language", by_lang)],
        "span": span,
    }, active="funnel")
