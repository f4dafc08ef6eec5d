"""The appointment's .ics link through the real pipeline: APPT puts a signed link in the
prospect's confirmation, the link returns one valid VEVENT (UTC times, brokerage and the
agent's first name, nothing personal), and a tampered, foreign, expired or unsigned link is
refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.dashboard.links import lead_link_url
from gateway.domain.calendar_links import sign_calendar_link
from gateway.store.models import Appointment
from tests.integration.test_appointments_feedback import (
    NOON,
    PHONE,
    Clock,
    handed_to_agent,
    last_to,
)


def _unfold(body: str) -> dict[str, str]:
    lines = body.replace("\r\n ", "").split("\r\n")
    return dict(line.split(":", 1) for line in lines if ":" in line)


async def test_the_confirmation_links_a_signed_calendar_file(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock, brokerage="Sol, Casas & Co") as stack:
        agent, code = await handed_to_agent(stack)
        n_lead = len(stack.twilio.to(PHONE))
        n_agent = len(stack.twilio.to(agent))
        await stack.sms(f"APPT {code} tomorrow 5pm", phone=agent)
        booked = await last_to(stack, PHONE, n_lead + 1)
        await last_to(stack, agent, n_agent + 1)
        link = re.search(r"Calendar: (\S+)$", booked).group(1)  # type: ignore[union-attr]
        assert link.startswith(stack.settings.public_url + "/appointments/")
        path = link.removeprefix(stack.settings.public_url)
        async with stack.services.store.maker() as session:
            appt = (await session.scalars(select(Appointment))).one()
        assert path.startswith(f"/appointments/{appt.id}.ics?e=")

        async with stack.http.get(stack.base + path) as resp:
            body = await resp.text()
            assert resp.status == 200, body
            assert resp.headers["Content-Type"].startswith("text/calendar")
        assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
        fields = _unfold(body)
        assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        assert "\r\nBEGIN:VEVENT\r\n" in body and body.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")
        assert fields["DTSTART"] == "20261202T220000Z" and fields["DTEND"] == "20261202T230000Z"
        assert fields["UID"] == f"appointment-{appt.id}@pronto.test.example"
        assert fields["DTSTAMP"] == "20261201T170000Z" and fields["STATUS"] == "TENTATIVE"
        first = fields["SUMMARY"].rsplit(" ", 1)[-1]
        assert fields["SUMMARY"] == f"Sol\\, Casas & Co: appointment with {first}"
        assert PHONE not in body and PHONE[2:] not in body  # nothing personal

        for bad in (path[:-2] + ("AA" if not path.endswith("AA") else "BB"),  # tampered
                    path.replace(f"/{appt.id}.ics", f"/{appt.id + 1}.ics"),   # another one
                    f"/appointments/{appt.id}.ics"):                          # unsigned
            async with stack.http.get(stack.base + bad) as resp:
                assert resp.status == 403, bad
        # A lead link for the same id (another purpose) does not open it.
        lead_path = lead_link_url(stack.settings, appt.id, NOON).removeprefix(
            stack.settings.public_url)
        query = lead_path.split("?", 1)[1]
        async with stack.http.get(f"{stack.base}/appointments/{appt.id}.ics?{query}") as resp:
            assert resp.status == 403
        # A well-signed link to an appointment that does not exist.
        ghost = sign_calendar_link("session-test-secret", 999999, NOON + timedelta(days=2))
        async with stack.http.get(stack.base + ghost) as resp:
            assert resp.status == 404

        clock.now = datetime(2026, 12, 3, 22, 0, 1, tzinfo=UTC)  # a day after it started
        async with stack.http.get(stack.base + path) as resp:
            assert resp.status == 403
