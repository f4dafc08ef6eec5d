"""The appointment's calendar file: `GET /appointments/{id}.ics?e=…&s=…`, public by signature.

The confirmation text carries the link (`calendar_url`), so the prospect adds the showing to
their calendar on any channel that shows a link. Without a valid, unexpired signature for that
appointment the route answers 403; the file names only the time, the brokerage and the agent's
first name.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web
from yarl import URL

from gateway.config.settings import Settings
from gateway.domain.calendar_links import (
    VALID_AFTER_START,
    CalendarEvent,
    render_ics,
    sign_calendar_link,
    verify_calendar_link,
)
from gateway.keys import SERVICES, SETTINGS
from gateway.store.models import Agent, Appointment, Lead

log = logging.getLogger(__name__)


def add_calendar_routes(app: web.Application) -> None:
    """Register the public, signed .ics route."""
    app.router.add_get("/appointments/{id:\\d+}.ics", appointment_ics)


def calendar_url(settings: Settings, appointment_id: int, starts_at: datetime) -> str:
    """The absolute signed link (public URL: the prospect opens it), valid until a day after
    the appointment starts."""
    secret = settings.session_secret.get_secret_value()
    return settings.public_url.rstrip("/") + sign_calendar_link(
        secret, appointment_id, starts_at + VALID_AFTER_START)


async def appointment_ics(request: web.Request) -> web.Response:
    """One appointment as `text/calendar`; 403 for a bad or expired link, 404 when gone."""
    raw = request.match_info["id"]
    settings, services = request.app[SETTINGS], request.app[SERVICES]
    now = services.clock()
    if len(raw) > 18 or not verify_calendar_link(
            settings.session_secret.get_secret_value(), int(raw), request.query.get("e", ""),
            request.query.get("s", ""), now):
        raise web.HTTPForbidden(text="this calendar link is not valid or has expired")
    async with services.store.maker() as session:
        appt = await session.get(Appointment, int(raw))
        lead = await session.get(Lead, appt.lead_id) if appt else None
        agent = await session.get(Agent, appt.agent_id) if appt and appt.agent_id else None
    if appt is None or lead is None:
        raise web.HTTPNotFound(text="no such appointment")
    language = lead.language or "en"
    first = agent.name.split()[0] if agent and agent.name else \
        services.templates.render("handoff_fallback_name", language)
    body = render_ics(CalendarEvent(
        appointment_id=appt.id, starts_at=appt.starts_at, status=appt.status,
        agent_first_name=first, brokerage=settings.brokerage, language=language,
        host=URL(settings.public_url).host or "pronto"), now)
    log.info("calendar file served for appointment %s", appt.id)
    resp = web.Response(text=body, content_type="text/calendar", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="appointment-{appt.id}.ics"'
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp
