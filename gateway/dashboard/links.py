"""The agent's signed, expiring link to one lead's page (`/admin/leads/{id}?e=…&s=…`).

Signing is pure and lives in `gateway.domain.lead_links` (the handoff engine signs without
importing the dashboard); this module checks a request against it with the session secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from gateway.config.settings import Settings
from gateway.domain.lead_links import DEFAULT_PATH, DEFAULT_TTL, sign_lead_link, verify_lead_link
from gateway.keys import SERVICES, SETTINGS

__all__ = ["DEFAULT_PATH", "DEFAULT_TTL", "lead_link_url", "sign_lead_link", "verify_lead_link",
           "verify_request"]


def lead_link_url(settings: Settings, lead_id: int, now: datetime,
                  ttl: timedelta = DEFAULT_TTL, path: str = DEFAULT_PATH) -> str:
    """The absolute signed link (dashboard URL, else public URL) valid for `ttl` from `now`."""
    base = (settings.dashboard_url or settings.public_url).rstrip("/")
    secret = settings.session_secret.get_secret_value()
    return base + sign_lead_link(secret, lead_id, now + ttl, path)


def verify_request(request: web.Request, lead_id: int) -> bool:
    """Whether the request's `e` and `s` are a valid, unexpired signature for `lead_id`."""
    secret = request.app[SETTINGS].session_secret.get_secret_value()
    return verify_lead_link(secret, lead_id, request.query.get("e", ""),
                            request.query.get("s", ""), request.app[SERVICES].clock())
