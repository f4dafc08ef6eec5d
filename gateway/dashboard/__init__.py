"""The broker's dashboard: server-rendered pages (aiohttp-jinja2), pygal charts, CSV exports
and the agent's signed link. `add_dashboard_routes` registers everything behind the admin
token; a lead's page also opens with the agent's signed link."""

from __future__ import annotations

from aiohttp import web

from gateway.dashboard import crm_page, exports, followup_page, inbox, media, ops, pages, team
from gateway.dashboard.auth import guard
from gateway.dashboard.web import setup_templates


def add_dashboard_routes(app: web.Application) -> None:
    """Register the dashboard's pages, exports and live inbox on `app`."""
    setup_templates(app)
    r = app.router
    r.add_get("/admin/", guard(pages.overview))
    r.add_get("/admin/standard", guard(pages.standard))
    r.add_get("/admin/agents", guard(team.agents))
    r.add_get("/admin/funnel", guard(team.funnel))
    r.add_get("/admin/leads", guard(inbox.inbox))
    r.add_get("/admin/leads/events", guard(inbox.inbox_events))
    r.add_get("/admin/leads/{id:\\d+}", inbox.lead)  # guarded inside: admin or signed link
    r.add_get("/admin/leads/{id:\\d+}/media/{message:\\d+}/{index:\\d+}", media.attachment)  # same
    r.add_get("/admin/nlu", guard(ops.nlu))
    r.add_get("/admin/delivery", guard(ops.delivery))
    r.add_get("/admin/followup", guard(followup_page.followup))
    r.add_get("/admin/crm", guard(crm_page.crm))
    r.add_post("/admin/crm/{id:\\d+}/resend", guard(crm_page.crm_resend))  # + form token
    r.add_get("/admin/exports", guard(exports.exports_page))
    r.add_get("/admin/export/leads.csv", guard(exports.leads_csv))
    r.add_get("/admin/export/audit.csv", guard(exports.audit_csv))
