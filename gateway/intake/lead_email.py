"""Lead-notification emails become one lead value, or the reason they are not one (pure).

Zillow Premier Agent, Realtor.com, Homes.com, IDX website plugins and any sender using the
lead-metadata convention ("Name:", "Phone:", "Email:", "Message:", "Property:", or the Spanish
"Nombre:", "Teléfono:", "Correo:", "Mensaje:", "Propiedad:") mail new leads to the team, directly
or forwarded by an agent. `parse_lead_email` turns the raw message into a `ParsedLeadEmail` the
intake stores and touches first, or an `UnparsedEmail` saying why it is no lead. Bytes in, a
value out: no I/O here, and no input makes it raise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from gateway.intake.email_formats import fields as f
from gateway.intake.email_formats.forwards import Original, is_reply, unwrap
from gateway.intake.email_formats.mime import Envelope, bodies, envelope, read_message
from gateway.intake.email_formats.portals import (
    LEAD_METADATA,
    EmailFormat,
    LeadEmailSource,
    detect,
    is_lead_address,
    listing_url,
    name_from_sentences,
)

__all__ = ["LeadEmailSource", "ParsedLeadEmail", "UnparsedEmail", "parse_lead_email"]

_LEAD_FIELDS = ("name", "first_name", "last_name", "phone", "email", "message")


@dataclass(frozen=True, slots=True)
class ParsedLeadEmail:
    """A lead read from a notification email.

    Attributes:
        source: "zillow", "realtor.com", "homes.com", "idx" or "lead-metadata".
        external_id: The Message-ID without angle brackets, else the sha256 hex digest of the
            raw bytes: the dedupe key when the same email is delivered twice.
        name: The lead's name, if given.
        phone: The lead's phone in E.164, None when absent or invalid.
        email: The lead's email address (never the portal's own or a no-reply box).
        message: What the lead wrote, if anything.
        listing: Any of "address", "mls_id", "url" (str) and "price" (int dollars).
        language: "es" when the email says the lead prefers Spanish, else None. The body's own
            language is left to the language detector.
        received_at: The Date header in aware UTC, None when missing or unreadable.
        subject: The email's subject as received.
    """

    source: LeadEmailSource
    external_id: str
    name: str | None
    phone: str | None
    email: str | None
    message: str | None
    listing: dict[str, str | int]
    language: str | None
    received_at: datetime | None
    subject: str


@dataclass(frozen=True, slots=True)
class UnparsedEmail:
    """An email that carries no lead Pronto can contact.

    Attributes:
        external_id: As for `ParsedLeadEmail`.
        subject: The subject ("" when missing).
        sender: The From address ("" when missing).
        reason: A short human-readable reason, for the dashboard and the audit log.
    """

    external_id: str
    subject: str
    sender: str
    reason: str


def parse_lead_email(raw: bytes) -> ParsedLeadEmail | UnparsedEmail:
    """Read a lead-notification email.

    Args:
        raw: The message as received (RFC 5322 bytes, as SMTP or a webhook delivers it).

    Returns:
        A `ParsedLeadEmail` when the email names a lead with a phone or an email address,
        otherwise an `UnparsedEmail` with the reason.
    """
    try:
        return _parse(raw)
    except Exception as exc:
        # The readers below are lenient by design; this is the last guard, so that one
        # malformed email can never stop the SMTP listener or the webhook that feeds it.
        return UnparsedEmail(
            external_id=_digest(raw),
            subject="",
            sender="",
            reason=f"unreadable email ({type(exc).__name__})",
        )


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class _Reading:
    """One attempt at reading a lead from one version of the body."""

    fmt: EmailFormat
    fields: dict[str, str]
    original: Original
    phone: str | None
    email: str | None


def _parse(raw: bytes) -> ParsedLeadEmail | UnparsedEmail:
    msg = read_message(raw)
    env = envelope(msg)
    external_id = env.message_id or _digest(raw)
    versions = _versions(msg, env)
    if not versions:
        return UnparsedEmail(external_id, env.subject, env.sender, "empty body")
    readings = [_read(original, env) for original in versions]
    reading = next((r for r in readings if r.phone or r.email), None)
    if reading is None:
        return UnparsedEmail(external_id, env.subject, env.sender, _reason(readings[0], env))
    fields, text, fmt = reading.fields, reading.original.text, reading.fmt
    listing = f.listing_from(fields, text)
    url = listing_url(fmt, text)
    if url and "url" not in listing:
        listing["url"] = url
    return ParsedLeadEmail(
        source=fmt.source,
        external_id=external_id,
        name=_name(fields, fmt, reading.original, env),
        phone=reading.phone,
        email=reading.email,
        message=_message(fields),
        listing=listing,
        language="es" if f.prefers_spanish(fields, text) else None,
        received_at=env.date,
        subject=env.subject,
    )


def _versions(msg: Message, env: Envelope) -> list[Original]:
    """The texts a lead may be read from, best first.

    An original attached as message/rfc822 comes before the outer text (usually an agent's
    "FYI"); text/plain before the HTML rendering, which is read only when plain text yields no
    lead (some portals put a "view in your browser" stub in the plain part).
    """
    found = bodies(msg)
    versions: list[Original] = []
    for inner in found.attached:
        inner_env = envelope(inner)
        inner_found = bodies(inner)
        for texts in (inner_found.plain, inner_found.html):
            text = "\n\n".join(texts).strip()
            if text:
                nested = unwrap(text, inner_env.subject)
                versions.append(
                    Original(
                        text=nested.text,
                        sender=nested.sender or inner_env.sender,
                        subject=nested.subject or inner_env.subject,
                        forwarded=True,
                    )
                )
    for texts in (found.plain, found.html):
        text = "\n\n".join(texts).strip()
        if text:
            original = unwrap(text, env.subject)
            if original.text.strip():
                versions.append(original)
    return versions


def _read(original: Original, env: Envelope) -> _Reading:
    # A reply is no portal notification, whatever its subject says ("Re: your Zillow lead").
    subjects = [s for s in (original.subject, env.subject) if s and not is_reply(s)]
    fmt = detect([original.sender, env.sender], subjects, original.text)
    fields = f.extract_fields(original.text)
    senders = [s for s in (original.sender, env.sender) if s]
    phone = f.find_phone(fields["phone"]) if "phone" in fields else None
    email = f.find_email(fields["email"]) if "email" in fields else None
    if email is not None and not is_lead_address(email, fmt, senders):
        email = None
    # Portals often set Reply-To to the lead so the agent can answer from the mail client; on
    # a forward the outer Reply-To is the agent's own, so it is not used there.
    if email is None and fmt is not LEAD_METADATA and not original.forwarded:
        reply_to = env.reply_to
        if reply_to and reply_to not in senders and is_lead_address(reply_to, fmt, senders):
            email = reply_to
    if fmt is LEAD_METADATA and not _enough_metadata(fields, env):
        phone = email = None
    return _Reading(fmt, fields, original, phone, email)


def _enough_metadata(fields: dict[str, str], env: Envelope) -> bool:
    """The convention needs two lead fields, and a name in bulk mail.

    Without a portal vouching for the email, one stray "Email: info@…" in a footer is no lead,
    and a newsletter's footer may well carry a phone and an email of the brokerage.
    """
    present = {name for name in _LEAD_FIELDS if fields.get(name)}
    if len(present) < 2:
        return False
    return not env.bulk or bool(present & {"name", "first_name", "last_name"})


def _reason(reading: _Reading, env: Envelope) -> str:
    fields = reading.fields
    if reading.fmt is not LEAD_METADATA:
        return f"{reading.fmt.source} email without the lead's phone or email"
    present = {name for name in _LEAD_FIELDS if fields.get(name)}
    if env.bulk and not present & {"name", "first_name", "last_name"}:
        return "bulk mail (newsletter or list) without a named lead"
    if not present:
        return "no lead fields (Name:, Phone:, Email:) found"
    if present & {"phone", "email"}:
        if not _enough_metadata(fields, env):
            return "too few lead fields to trust (a phone or email alone)"
        return "the lead's phone or email is not valid"
    return "lead fields without the lead's phone or email"


def _name(
    fields: dict[str, str], fmt: EmailFormat, original: Original, env: Envelope
) -> str | None:
    if "name" in fields:
        name = f.clean_name(fields["name"])
        if name:
            return name
    parts = [f.clean_name(fields[k]) for k in ("first_name", "last_name") if k in fields]
    joined = " ".join(p for p in parts if p)
    if joined:
        return joined
    if fmt is LEAD_METADATA:
        return None
    subjects = [s for s in (original.subject, env.subject) if s]
    return name_from_sentences(subjects, original.text)


def _message(fields: dict[str, str]) -> str | None:
    text = f.strip_links(fields.get("message", ""))
    return text or None
