"""Follow-up on the dashboard (`/admin/followup`): the silent-lead sequences running now (their
pending timers, by step), recent follow-up events, upcoming appointments and feedback answers.
CSAT and NPS per agent are on the Agents page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.dashboard import queries
from gateway.dashboard.web import maker, now, render
from gateway.domain.utc import as_utc
from gateway.followup.silent import REENGAGE, SILENT
from gateway.store.models import Agent, Appointment, AuditEvent, Feedback, Lead, Timer

EVENT_TYPES = ("followup.sent", "followup.held", "followup.stopped", "followup.refused",
               "followup.skipped")
EVENT_DAYS = 7
APPOINTMENTS_PAST = timedelta(hours=2)
"""An appointment that started a moment ago is still worth seeing (did it happen?)."""
LIMIT = 200


def _step(timer: Timer) -> int:
    """0, 1, … for a sequence step; -1 for the cold-lead check-in (shown last)."""
    if timer.kind == REENGAGE:
        return -1
    raw = (timer.data or {}).get("step")
    return int(raw) if isinstance(raw, int) else 0


def event_row(e: AuditEvent) -> dict[str, Any]:
    """What the events table shows of one follow-up audit event (the hold's end parsed, so it
    is shown on the office's clock like every other time)."""
    data = e.data or {}
    until = None
    if isinstance(data.get("until"), str):
        try:
            until = datetime.fromisoformat(data["until"])
        except ValueError:
            until = None
    step = data.get("step")
    return {"at": e.at, "lead_id": e.lead_id, "kind": e.type.removeprefix("followup."),
            "step": step if isinstance(step, int) else None,
            "reason": data.get("reason") or data.get("template") or "", "until": until}


async def followup(request: web.Request) -> web.Response:
    """Sequences by step (lead, language, due), follow-up events, appointments, feedback."""
    at = now(request)
    async with maker(request)() as session:
        timers = list((await session.execute(
            select(Timer, Lead.name, Lead.language).join(Lead, Lead.id == Timer.lead_id)
            .where(Timer.status == "pending", Timer.kind.in_((SILENT, REENGAGE)))
            .order_by(Timer.due_at).limit(1000))).all())
        events = list((await session.execute(
            select(AuditEvent).where(AuditEvent.type.in_(EVENT_TYPES),
                                     AuditEvent.at >= at - timedelta(days=EVENT_DAYS))
            .order_by(AuditEvent.id.desc()).limit(LIMIT))).scalars())
        appts = list((await session.execute(
            select(Appointment, Lead.name).join(Lead, Lead.id == Appointment.lead_id)
            .where(Appointment.starts_at >= at - APPOINTMENTS_PAST)
            .order_by(Appointment.starts_at).limit(LIMIT))).all())
        answers = list((await session.execute(
            select(Feedback, Lead.name).join(Lead, Lead.id == Feedback.lead_id)
            .order_by(Feedback.asked_at.desc(), Feedback.id.desc()).limit(LIMIT))).all())
        agents: dict[int, Agent] = await queries.agents(session)
    steps: dict[int, list[dict[str, Any]]] = {}
    for timer, name, language in timers:
        steps.setdefault(_step(timer), []).append({
            "lead_id": timer.lead_id, "name": name, "language": language or "en",
            "due": as_utc(timer.due_at),
            "late": as_utc(timer.due_at) < at})
    ordered = sorted(steps.items(), key=lambda kv: (kv[0] < 0, kv[0]))

    def agent_name(agent_id: int | None) -> str:
        return agents[agent_id].name if agent_id in agents else "—"

    return render(request, "followup.html", {
        "steps": ordered, "running": len(timers), "events": [event_row(e) for e in events],
        "appointments": [(a, name, agent_name(a.agent_id)) for a, name in appts],
        "answers": [(f, name, agent_name(f.agent_id)) for f, name in answers],
    }, active="followup")
