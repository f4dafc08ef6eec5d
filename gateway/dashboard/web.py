"""Template set-up, the shared page context and the dashboard's route table."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from gateway.config.handoff import HandoffConfig, load_handoff_config
from gateway.dashboard.i18n import pick_language, remember, translator
from gateway.domain.dashboard_metrics import Sla, human_duration
from gateway.keys import SERVICES, SETTINGS

HANDOFF = web.AppKey("dashboard_handoff", HandoffConfig)
NAV = (("overview", "/admin/"), ("standard", "/admin/standard"), ("inbox", "/admin/leads"),
       ("agents", "/admin/agents"), ("funnel", "/admin/funnel"), ("nlu", "/admin/nlu"),
       ("followup", "/admin/followup"), ("delivery", "/admin/delivery"), ("crm", "/admin/crm"),
       ("exports", "/admin/exports"))
_ID = re.compile(r"\d{1,19}", re.ASCII)
_ID_MAX = 2**31 - 1  # the largest id the SQL integer columns hold (int4 on PostgreSQL)


def setup_templates(app: web.Application) -> None:
    """Jinja2 over the package's templates (autoescaped), and the handoff config on start."""
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("gateway.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["dur"] = human_duration
    env.filters["pct"] = pct
    env.filters["hm"] = clock_filter("UTC")

    async def load_config(app: web.Application) -> None:
        # SLAs and business hours come from the same validated config the engine uses.
        app[HANDOFF] = load_handoff_config(app[SETTINGS])
        # A broker reads times on the office's clock, the one business hours are judged by.
        env.filters["hm"] = clock_filter(app[HANDOFF].business.tz)

    app.on_startup.append(load_config)


def clock_filter(zone: str) -> Callable[[datetime | None], str]:
    """The `hm` template filter: a stored time (UTC; naive from SQLite) on `zone`'s clock."""
    tz = ZoneInfo(zone)

    def hm(d: datetime | None) -> str:
        if not d:
            return "—"
        return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(tz).strftime(
            "%a %d %b %H:%M")

    return hm


def zone(request: web.Request) -> str:
    """The office's time zone (`handoff.business_hours.timezone`): every page's clock."""
    return handoff(request).business.tz


def pct(share: float | None) -> str:
    """0.875 → "88 %"; None → "—"."""
    return "—" if share is None else f"{share * 100:.0f} %"


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


def handoff(request: web.Request) -> HandoffConfig:
    """The validated handoff configuration (business hours, SLAs, team)."""
    return request.app[HANDOFF]


def slas(request: web.Request) -> tuple[Sla, Sla]:
    """(accept SLA, reply SLA) from `handoff.accept.deadline_minutes` and
    `handoff.reply_lapse.sla_minutes`."""
    p = handoff(request).policy
    a, r = p.accept.deadline_minutes, p.reply_lapse.sla_minutes
    return Sla(a.business, a.after_hours), Sla(r.business, r.after_hours)


def now(request: web.Request) -> datetime:
    """The services' clock (tests inject a fixed one)."""
    return request.app[SERVICES].clock()


def maker(request: web.Request) -> Any:
    """The SQL session factory."""
    return request.app[SERVICES].store.maker


def days_param(request: web.Request, default: int = 7) -> int:
    """`?days=` limited to 1, 7 or 30."""
    value = request.query.get("days", "")
    return int(value) if value in ("1", "7", "30") else default


def local_midnight(request: web.Request, at: datetime) -> datetime:
    """The start of `at`'s day in the office's time zone."""
    local = handoff(request).business.local(at)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def render(request: web.Request, template: str, context: Mapping[str, Any], *,
           active: str = "", public: bool = False) -> web.Response:
    """Render a page with the shared context: translator, nav, language switch."""
    lang = pick_language(request)
    query = {k: v for k, v in request.query.items() if k != "lang"}
    base = {
        "t": translator(lang), "lang": lang, "nav": [] if public else NAV, "active": active,
        "public": public, "path": request.path, "query": query,
        "generated": now(request), "timedelta": timedelta, "zone": zone(request),
    }
    resp = aiohttp_jinja2.render_template(template, request, {**base, **context})
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    remember(request, resp)
    return resp
