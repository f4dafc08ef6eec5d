"""`POST /api/leads`: website and IDX forms, Zapier-style tools.

JSON in, one lead out: `201 {"lead_id", "status"}` for a new delivery, `200` with the same
lead for a repeated (source, external_id). Each source has its own bearer key in `intake:`
(PRONTO_INTAKE_TOKEN is the default key for any source). A rejected request stores nothing
and names the field that is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway import metrics
from gateway.config.intake import IntakeConfig
from gateway.domain.phones import to_e164
from gateway.intake.record import IntakeLead

MAX_BODY = 64 * 1024
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


class IntakeError(Exception):
    """A request the intake refuses; `status` and a message naming the field."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field = status, field

    def response(self) -> web.Response:
        """The JSON error answer."""
        return web.json_response({"error": str(self), "field": self.field}, status=self.status)


def email_ok(value: str) -> bool:
    """A syntactically plausible address (one @, a dotted domain, no spaces)."""
    return bool(_EMAIL.match(value)) and len(value) <= 320


def no_nul(v: str | None) -> str | None:
    """Refuse NUL: PostgreSQL text cannot hold it, and no form field has a reason to carry it."""
    if v is not None and "\x00" in v:
        raise ValueError("contains a NUL character")
    return v


class Listing(BaseModel):
    """The property the lead asked about."""

    model_config = ConfigDict(extra="ignore")
    address: str | None = Field(None, max_length=300)
    mls_id: str | None = Field(None, max_length=64)
    url: str | None = Field(None, max_length=2000)
    price: int | None = Field(None, ge=0, le=10**10)
    _no_nul = field_validator("address", "mls_id", "url")(classmethod(lambda cls, v: no_nul(v)))


class Consent(BaseModel):
    """The consent the lead gave on the form: the exact wording shown, and when."""

    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1, max_length=4000)
    _no_nul = field_validator("text")(classmethod(lambda cls, v: no_nul(v)))
    given_at: datetime | None = None


class LeadPost(BaseModel):
    """The body of `POST /api/leads`."""

    model_config = ConfigDict(extra="ignore")
    source: str = Field(min_length=1, max_length=64)
    external_id: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=320)
    message: str = Field("", max_length=4000)
    listing: Listing | None = None
    language: str | None = None
    page_url: str | None = Field(None, max_length=2000)
    campaign: str | None = Field(None, max_length=128)
    consent: Consent | None = None

    _no_nul = field_validator("source", "external_id", "name", "phone", "email", "message",
                              "page_url", "campaign")(classmethod(lambda cls, v: no_nul(v)))

    @field_validator("language")
    @classmethod
    def _lang(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if v.lower()[:2] not in ("en", "es"):
            raise ValueError("must be 'en', 'es' or null")
        return v.lower()[:2]


def authorised(request: web.Request, config: IntakeConfig, default_key: str, source: str
               ) -> bool:
    """Whether the bearer key is the source's own key or the default key."""
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not given:
        return False
    keys = [config.source(source).key.get_secret_value(), default_key]
    return any(k and hmac.compare_digest(given.encode(), k.encode()) for k in keys)


def _known_key(request: web.Request, config: IntakeConfig, default_key: str) -> bool:
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    keys = [default_key, *(c.key.get_secret_value() for c in config.sources.values())]
    return bool(given) and any(k and hmac.compare_digest(given.encode(), k.encode())
                               for k in keys)


async def parse(request: web.Request, config: IntakeConfig, default_key: str) -> IntakeLead:
    """Authenticate and validate one form post into an `IntakeLead`.

    Raises:
        IntakeError: 401 bad key, 413 too big, 415 not JSON, 422 a field is wrong.
    """
    if not _known_key(request, config, default_key):
        # No key, or one that opens no source: refused before the body is read (the key is
        # checked against the post's own source once the body is parsed).
        raise IntakeError(401, "Authorization", "a valid Bearer key for this source is required")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise IntakeError(413, "body", f"body over {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise IntakeError(413, "body", f"body over {MAX_BODY} bytes")
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        # RecursionError: nested deeper than the parser's stack; no form is.
        raise IntakeError(415, "body", "the body must be a JSON object (UTF-8)") from None
    if not isinstance(data, dict):
        raise IntakeError(422, "body", "the body must be a JSON object")
    source = data.get("source")
    if not isinstance(source, str) or not authorised(request, config, default_key, source):
        raise IntakeError(401, "Authorization", "a valid Bearer key for this source is required")
    try:
        post = LeadPost.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise IntakeError(422, where, f"{where}: {first['msg']}") from None
    return to_intake(post, raw, config)


def to_intake(post: LeadPost, raw: bytes, config: IntakeConfig) -> IntakeLead:
    """Normalise a validated post (E.164 phone, lower-case email, the consent basis)."""
    phone = None
    if post.phone:
        phone = to_e164(post.phone)
        if phone is None:
            raise IntakeError(422, "phone", "phone: not a valid phone number")
    email = None
    if post.email:
        email = post.email.strip().lower()
        if not email_ok(email):
            raise IntakeError(422, "email", "email: not a valid address")
    if phone is None and email is None:
        raise IntakeError(422, "phone", "phone or email: at least one is required")
    consent_text = post.consent.text.strip() if post.consent else ""
    consent_at = post.consent.given_at if post.consent else None
    if consent_at is not None and consent_at.tzinfo is None:
        consent_at = consent_at.replace(tzinfo=UTC)
    # Without an id from the source, the body itself is the delivery's identity: a retried
    # post is the same bytes, a new inquiry is not.
    external = post.external_id or "sha256:" + hashlib.sha256(raw).hexdigest()[:40]
    listing = post.listing.model_dump(exclude_none=True) if post.listing else None
    return IntakeLead(
        kind="form", source=post.source, external_id=external, name=post.name,
        phone=phone, email=email, message=post.message, listing=listing or None,
        language=post.language or config.source(post.source).language,
        campaign=post.campaign, page_url=post.page_url, consent_kind="form",
        consent_text=consent_text, consent_at=consent_at,
    )


def count(result: str) -> None:
    """Count one form delivery by result."""
    metrics.INTAKE.labels(kind="form", result=result).inc()
