"""Webhook signatures: `Pronto-Signature: t=<unix>,v1=<hex>` (the scheme Stripe uses).

v1 is HMAC-SHA256 with the endpoint's secret over `f"{t}.{body}"`. Signing the timestamp with
the body lets a receiver refuse replays: a captured request is only good for `tolerance`
seconds, and changing `t` breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Pronto-Signature"
DEFAULT_TOLERANCE = 300


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}.{body}"` under `secret`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Pronto-Signature` value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Whether `header` is a valid `Pronto-Signature` of `body` under `secret`.

    For receivers. Checks the raw body exactly as received (parse the JSON only after this).

    Args:
        secret: the endpoint's signing secret.
        header: the `Pronto-Signature` header value (None or malformed: False).
        body: the raw request body.
        tolerance: seconds a signature stays valid either side of `now` (replay window);
            0 turns the age check off.
        now: the current Unix time (default: the clock).

    Returns:
        True when the timestamp is fresh and one `v1` signature matches (several `v1` entries
        are allowed, for rotating secrets).
    """
    if not header or not secret:
        return False
    raw = body.encode() if isinstance(body, str) else body
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, raw)
    # compare_digest on every candidate: no early exit that would time which one matched.
    return any([hmac.compare_digest(expected, c) for c in candidates])
