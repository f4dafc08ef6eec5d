"""The .ics link's signature (its own purpose, expiry) and the calendar text (RFC 5545:
CRLF, folding at 75 octets, escaping, UTC times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.calendar_links import (
    CalendarEvent,
    render_ics,
    sign_calendar_link,
    verify_calendar_link,
)
from gateway.domain.lead_links import sign_lead_link

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _parts(link: str) -> tuple[str, str]:
    query = dict(p.split("=", 1) for p in link.split("?", 1)[1].split("&"))
    return query["e"], query["s"]


def test_a_link_opens_its_appointment_until_it_expires() -> None:
    link = sign_calendar_link("k", 7, NOW + timedelta(days=1))
    assert link.startswith("/appointments/7.ics?e=")
    e, s = _parts(link)
    assert verify_calendar_link("k", 7, e, s, NOW)
    assert not verify_calendar_link("k", 8, e, s, NOW)
    assert not verify_calendar_link("other", 7, e, s, NOW)
    assert not verify_calendar_link("k", 7, e, s, NOW + timedelta(days=1))
    assert not verify_calendar_link("k", 7, "x", s, NOW)
    lead_e, lead_s = _parts(sign_lead_link("k", 7, NOW + timedelta(days=1)))
    assert not verify_calendar_link("k", 7, lead_e, lead_s, NOW)  # another purpose
    with pytest.raises(ValueError):
        sign_calendar_link("", 7, NOW)


def test_the_calendar_is_rfc5545_text() -> None:
    event = CalendarEvent(appointment_id=3, starts_at=datetime(2026, 12, 2, 17, 0),
                          status="confirmed", agent_first_name="Ana",
                          brokerage="Casas; Sol, y Mar \\ " + "Realty " * 10,
                          language="es", host="pronto.example")
    text = render_ics(event, NOW)
    lines = text.split("\r\n")
    assert lines[-1] == "" and all(len(x.encode()) <= 75 for x in lines)
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART:20261202T170000Z\r\n" in unfolded  # naive = UTC
    assert "DTEND:20261202T180000Z\r\n" in unfolded and "STATUS:CONFIRMED" in unfolded
    assert "SUMMARY:Casas\\; Sol\\, y Mar \\\\ Realty" in unfolded
    assert unfolded.rstrip().endswith("cita con Ana\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\n"
                                      "END:VCALENDAR")
