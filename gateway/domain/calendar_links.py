"""Signed, expiring links to one appointment as an iCalendar file, and the file itself.

Pure (stdlib only): the follow-up signs the link it puts in the confirmation, the public route
verifies it. The purpose prefix differs from the lead link's, so neither opens the other. The
event says only when, with which agent (first name) and brokerage: no phone, email or address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PATH = "/appointments/{appointment_id}.ics"
VALID_AFTER_START = timedelta(days=1)
"""The link keeps working until a day after the appointment starts, then expires."""
DURATION = timedelta(hours=1)
_PURPOSE = b"pronto-appointment-ics-v1:"
_SUMMARY = {"en": "{brokerage}: appointment with {agent}", "es": "{brokerage}: cita con {agent}"}
_STATUS = {"confirmed": "CONFIRMED", "cancelled": "CANCELLED"}  # else TENTATIVE


def _mac(secret: str, appointment_id: int, expires: int) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + f"{appointment_id}:{expires}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign_calendar_link(secret: str, appointment_id: int, expires_at: datetime) -> str:
    """The path and query (`?e=…&s=…`) of the .ics link for one appointment.

    Raises:
        ValueError: the secret is empty (an unsigned link would open any appointment).
    """
    if not secret:
        raise ValueError("a session secret is needed to sign calendar links")
    expires = int(expires_at.timestamp())
    path = PATH.format(appointment_id=appointment_id)
    return f"{path}?e={expires}&s={_mac(secret, appointment_id, expires)}"


def verify_calendar_link(secret: str, appointment_id: int, expires: str, signature: str,
                         now: datetime) -> bool:
    """Whether (`appointment_id`, `expires`, `signature`) is a link we signed, not expired."""
    if not secret or not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    if datetime.fromtimestamp(int(expires), UTC) <= now:
        return False
    return hmac.compare_digest(_mac(secret, appointment_id, int(expires)).encode(),
                               signature.encode())


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What the .ics file says about one appointment."""

    appointment_id: int
    starts_at: datetime
    status: str
    agent_first_name: str
    brokerage: str
    language: str
    host: str
    """The gateway's host name: makes the UID globally unique."""


def _escape(text: str) -> str:
    # RFC 5545 §3.3.11: backslash, semicolon and comma are escaped; no line breaks in values.
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _fold(line: str) -> str:
    # RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space.
    out: list[str] = []
    current = b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += b
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(d: datetime) -> str:
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_ics(event: CalendarEvent, now: datetime) -> str:
    """A one-event VCALENDAR (METHOD:PUBLISH), CRLF line endings, times in UTC."""
    summary = _SUMMARY.get(event.language, _SUMMARY["en"]).format(
        brokerage=event.brokerage, agent=event.agent_first_name)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pronto//Appointments//EN",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:appointment-{event.appointment_id}@{event.host}",
        f"DTSTAMP:{_utc(now)}", f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.starts_at + DURATION)}",
        f"SUMMARY:{_escape(summary)}",
        f"STATUS:{_STATUS.get(event.status, 'TENTATIVE')}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
