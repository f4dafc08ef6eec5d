"""Who may open the dashboard: the admin token as `?token=`, `Authorization: Bearer` or the
cookie the first `?token=` visit sets (the token then leaves the URL)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.keys import SETTINGS

COOKIE = "pronto_admin"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_admin_token(request: web.Request, given: str) -> bool:
    """Whether `given` is the configured admin token (constant-time; never when unset)."""
    expected = request.app[SETTINGS].admin_token.get_secret_value()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer(request: web.Request) -> str:
    """The request's `Authorization: Bearer …` value, or ""."""
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


def has_admin_bearer(request: web.Request) -> bool:
    """Whether the request carries the admin token as `Authorization: Bearer …` (scrapers)."""
    return is_admin_token(request, bearer(request))


def guard(handler: Handler) -> Handler:
    """Wrap a handler so it answers 401 without the admin token."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        given = request.query.get("token") or bearer(request) or request.cookies.get(COOKIE, "")
        if not is_admin_token(request, given):
            raise web.HTTPUnauthorized(text="admin token required (?token=, Bearer or cookie)")
        if "token" in request.query:
            # Move the credential out of the URL (history, referrers) into a strict cookie;
            # the rest of the query (a lead filter, a page) is kept.
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            resp = web.HTTPFound(request.rel_url.with_query(rest or None))
            secure = request.secure or request.app[SETTINGS].public_url.startswith("https://")
            resp.set_cookie(COOKIE, given, httponly=True, samesite="Strict", path="/admin",
                            secure=secure)
            raise resp
        return await handler(request)

    return guarded
