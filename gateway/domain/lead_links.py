"""Signed, expiring links to one lead's page, for the agent's alert.

Pure (stdlib HMAC): the handoff engine signs, the dashboard verifies. The token names the lead
and the expiry, and the signature covers both, so a link opens only its own lead and only until
it expires. No server state: revoking every link means changing the session secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

DEFAULT_TTL = timedelta(days=7)
DEFAULT_PATH = "/admin/leads/{lead_id}"
_PURPOSE = b"pronto-lead-link-v1:"


def _mac(secret: str, lead_id: int, expires: int) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + f"{lead_id}:{expires}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign_lead_link(secret: str, lead_id: int, expires_at: datetime,
                   path: str = DEFAULT_PATH) -> str:
    """The path and query of a read-only link to lead `lead_id`, valid until `expires_at`.

    `path` is the lead page's path template (`handoff.transcript_path`); `e` (expiry, Unix
    seconds) and `s` (signature) are added as its query.

    Raises:
        ValueError: the secret is empty (an unsigned link would open any lead).
    """
    if not secret:
        raise ValueError("a session secret is needed to sign lead links")
    expires = int(expires_at.timestamp())
    return f"{path.format(lead_id=lead_id)}?e={expires}&s={_mac(secret, lead_id, expires)}"


def verify_lead_link(secret: str, lead_id: int, expires: str, signature: str,
                     now: datetime) -> bool:
    """Whether (`lead_id`, `expires`, `signature`) is a link we signed that has not expired."""
    if not secret or not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    if datetime.fromtimestamp(int(expires), UTC) <= now:
        return False
    return hmac.compare_digest(_mac(secret, lead_id, int(expires)).encode(), signature.encode())
