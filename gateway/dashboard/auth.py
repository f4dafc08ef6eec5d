"""Who may open the dashboard: the admin token as `?token=`, `Authorization: Bearer` or the
cookie the first `?token=` visit sets (the token then leaves the URL)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from yarl import URL

from gateway.keys import SETTINGS

COOKIE = "pronto_admin"
CSRF_FIELD = "csrf"
_CSRF_PURPOSE = b"pronto-dashboard-csrf-v1:"
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


def csrf_token(request: web.Request) -> str:
    """The token a dashboard form carries: an HMAC (session secret) of the admin credential the
    cookie holds, so only a page the dashboard rendered can know it."""
    settings = request.app[SETTINGS]
    mac = hmac.new(settings.session_secret.get_secret_value().encode(),
                   _CSRF_PURPOSE + settings.admin_token.get_secret_value().encode(),
                   hashlib.sha256)
    return mac.hexdigest()[:40]


def _own_origins(request: web.Request) -> set[str]:
    settings = request.app[SETTINGS]
    urls = [str(request.url.origin())] + [
        str(URL(u).origin()) for u in (settings.public_url, settings.dashboard_url) if u]
    return set(urls)


def check_csrf(request: web.Request, form: Mapping[str, object]) -> None:
    """Refuse a state-changing dashboard POST that another site could have made.

    The form's token must match (`csrf_token`); an `Origin` or `Referer` the browser sent must
    be ours. Pages are served with `Referrer-Policy: no-referrer`, so browsers send
    `Origin: null` and no Referer on our own forms: the token is what proves the form is ours.

    Raises:
        web.HTTPForbidden: a missing or wrong token, or a foreign origin.
    """
    given = form.get(CSRF_FIELD)
    expected = csrf_token(request)
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise web.HTTPForbidden(text="form token missing or wrong (reload the page)")
    own = _own_origins(request)
    origin = request.headers.get("Origin", "")
    if origin and origin != "null" and origin not in own:
        raise web.HTTPForbidden(text="cross-origin form refused")
    referer = URL(request.headers.get("Referer", ""))
    if str(referer) and (not referer.is_absolute() or str(referer.origin()) not in own):
        raise web.HTTPForbidden(text="cross-origin form refused")
