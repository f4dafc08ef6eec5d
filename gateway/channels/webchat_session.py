"""Web chat sessions and admission: signed session tokens, the origin check, contact input.

Pure helpers for `gateway.channels.webchat` (no I/O).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from gateway.config.settings import Settings
from gateway.errors import ConfigError

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
"""Session ids and client message ids: URL-safe, 8 to 64 characters."""
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


class SessionTokens:
    """Issue and check signed session tokens: `<session id>.<HMAC-SHA256 of it>`."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("web chat needs PRONTO_SESSION_SECRET")
        self._key = hashlib.sha256(b"pronto-webchat-session:" + secret.encode()).digest()

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self._key, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> tuple[str, str]:
        """A new random session id and its token."""
        session_id = secrets.token_urlsafe(18)
        return session_id, self.sign(session_id)

    def sign(self, session_id: str) -> str:
        """The token for `session_id`."""
        return f"{session_id}.{self._mac(session_id)}"

    def verify(self, token: object) -> str | None:
        """The session id of a genuine token, else None (constant-time comparison)."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        session_id, mac = token.split(".")
        # compare_digest refuses non-ASCII str (TypeError); no genuine MAC has any.
        if not SESSION_ID.match(session_id) or not mac.isascii():
            return None
        return session_id if hmac.compare_digest(mac, self._mac(session_id)) else None


def allowed_origins(settings: Settings) -> frozenset[str]:
    """Configured site origins plus the gateway's own public origin, normalised."""
    found = {_origin(o) for o in settings.webchat.origins}
    found.add(_origin(settings.public_url))
    return frozenset(o for o in found if o)


def _origin(url: str) -> str:
    if url.strip() == "*":
        return "*"
    try:
        parts = urlsplit(url.strip().lower())
    except ValueError:  # "http://[": a broken IPv6 literal; such an origin matches nothing
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def origin_ok(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """Is a WebSocket from page `origin` allowed? Same-origin pages (the demo) always are."""
    if not origin:
        return False
    normal = _origin(origin)
    if not normal:
        return False
    if "*" in allowed or normal in allowed:
        return True
    return bool(host) and urlsplit(normal).netloc == (host or "").lower()


def clean_contact(phone: object, email: object) -> dict[str, str] | None:
    """Validate a contact form: at least one of a plausible phone or email."""
    p = phone.strip() if isinstance(phone, str) else ""
    e = email.strip() if isinstance(email, str) else ""
    digits = re.sub(r"\D", "", p)
    if p and (not re.fullmatch(r"[0-9+().\s-]{7,25}", p) or not 7 <= len(digits) <= 15):
        return None
    if e and (len(e) > 254 or not _EMAIL.match(e)):
        return None
    if not p and not e:
        return None
    return {"phone": p, "email": e}
