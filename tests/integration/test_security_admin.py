"""Who may read what: every private route refuses without credentials, /metrics needs the
admin token, the token moves from the URL into a cookie (Secure on https) keeping the rest of
the query, and bad admin API input is a 400, not a 500. Real gateway, real Redis and SQL."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

TOKEN = "admin-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
# Public by design: provider webhooks (verified by signature), health probes, the web chat,
# and an appointment's .ics file, public by signature (`?e=…&s=…`, tested for 403 without it
# in tests/integration/test_appointment_ics.py).
PUBLIC_PREFIXES = ("/webhooks/", "/chat/", "/appointments/")
# /intake/demo is a sample form page (no data, no key); /api/leads has its own key per source
# (tests/integration/test_intake_forms.py) but is walked here too: it must refuse unkeyed.
PUBLIC_PATHS = {"/healthz", "/readyz", "/intake/demo"}


def _routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, concrete path) of every non-public route; placeholders get a plausible value."""
    found = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        path = re.sub(r"\{[^}]+\}", "1", resource.canonical)
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            continue
        found.append((route.method, path))
    return sorted(set(found))


async def test_every_private_route_refuses_without_credentials(make_stack: Any) -> None:
    async with make_stack() as stack:
        routes = _routes(stack.app)
        paths = {p for _, p in routes}
        assert {"/metrics", "/admin", "/admin/", "/admin/api/messages"} <= paths  # not vacuous
        assert {"/admin/standard", "/admin/agents", "/admin/funnel", "/admin/leads",
                "/admin/leads/events", "/admin/leads/1", "/admin/nlu", "/admin/delivery",
                "/admin/export/leads.csv", "/admin/export/audit.csv", "/admin/followup",
                "/admin/crm", "/admin/crm/1/resend"} <= paths  # the dashboard
        refused = {}
        for method, path in routes:
            async with stack.http.request(method, f"{stack.base}{path}",
                                          allow_redirects=False) as resp:
                await resp.read()
                refused[(method, path)] = resp.status
        assert all(s in (401, 403) for s in refused.values()), {
            k: v for k, v in refused.items() if v not in (401, 403)}
        # and a wrong token is no credential either
        for method, path in routes:
            async with stack.http.request(method, f"{stack.base}{path}", allow_redirects=False,
                                          headers={"Authorization": "Bearer nope"}) as resp:
                assert resp.status in (401, 403), (method, path, resp.status)


async def test_metrics_need_the_admin_bearer_token(make_stack: Any) -> None:
    async with make_stack() as stack:
        async with stack.http.get(f"{stack.base}/metrics") as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        async with stack.http.get(f"{stack.base}/metrics", headers=BEARER) as resp:
            assert resp.status == 200
            assert "pronto_inbound_total" in await resp.text()


async def test_metrics_can_be_made_public(make_stack: Any) -> None:
    async with make_stack(metrics_public=True) as stack:
        async with stack.http.get(f"{stack.base}/metrics") as resp:
            assert resp.status == 200
        async with stack.http.get(f"{stack.base}/admin/api/messages") as resp:
            assert resp.status == 401  # only the metrics are opened


async def test_token_in_the_url_becomes_a_secure_cookie_and_the_query_is_kept(
    make_stack: Any,
) -> None:
    async with make_stack() as stack:  # the public URL is https
        url = f"{stack.base}/admin/api/messages?token={TOKEN}&lead_id=7&direction=in"
        async with stack.http.get(url, allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/admin/api/messages?lead_id=7&direction=in"
            cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with stack.http.get(f"{stack.base}/admin/?token={TOKEN}",
                                  allow_redirects=False) as resp:
            assert resp.headers["Location"] == "/admin/"


async def test_cookie_is_not_secure_on_plain_http(make_stack: Any) -> None:
    async with make_stack(public_url="http://127.0.0.1:9") as stack:
        async with stack.http.get(f"{stack.base}/admin/?token={TOKEN}",
                                  allow_redirects=False) as resp:
            assert resp.status == 302
            assert "Secure" not in resp.headers["Set-Cookie"]


BAD_QUERIES = [
    "lead_id=abc", "lead_id=1.5", "lead_id=-1", "lead_id=", "lead_id=99999999999999999999",
    "lead_id=%D9%A1", "after_id=x", "after_id=99999999999999999999", "direction=sideways",
]
TOO_LARGE = ["/admin/api/leads/99999999999999999999", "/admin/leads/99999999999999999999"]


async def test_bad_admin_api_input_is_a_400_not_a_500(make_stack: Any) -> None:
    async with make_stack() as stack:
        for query in BAD_QUERIES:
            async with stack.http.get(f"{stack.base}/admin/api/messages?{query}",
                                      headers=BEARER) as resp:
                assert resp.status == 400, (query, resp.status, await resp.text())
        for path in TOO_LARGE:
            async with stack.http.get(f"{stack.base}{path}", headers=BEARER) as resp:
                assert resp.status == 400, (path, resp.status)
        async with stack.http.get(f"{stack.base}/admin/api/messages?lead_id=1&after_id=0",
                                  headers=BEARER) as resp:
            assert resp.status == 200 and await resp.json() == []
        async with stack.http.get(f"{stack.base}/admin/api/leads/1", headers=BEARER) as resp:
            assert resp.status == 404
