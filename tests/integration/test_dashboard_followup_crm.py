"""The dashboard's follow-up and CRM pages on seeded rows: sequences by step, follow-up events,
appointments on the office's clock, feedback; CRM counts per endpoint and status, a dead
letter re-sent with the page's form (admin guard plus form token, foreign origins refused);
every page says the office's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.followup.silent import REENGAGE, SILENT
from gateway.store.models import (
    Agent,
    Appointment,
    AuditEvent,
    CrmDelivery,
    Feedback,
    Lead,
    Timer,
)

BEARER = {"Authorization": "Bearer admin-test-token"}
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York


def fixed() -> datetime:
    return NOW


async def _lead(session: Any, name: str, language: str) -> Lead:
    lead = Lead(name=name, language=language, phone=None, source="sms", last_channel="sms",
                created_at=NOW - timedelta(hours=3))
    session.add(lead)
    await session.flush()
    return lead


async def test_followup_page_shows_sequences_events_appointments_and_feedback(
        make_stack: Any) -> None:
    async with make_stack(clock=fixed) as stack:
        async with stack.services.store.transaction() as session:
            maria = await _lead(session, "Maria Lopez", "es")
            john = await _lead(session, "John Doe", "en")
            cold = await _lead(session, "Cold Case", "en")
            ana = (await session.execute(select(Agent).order_by(Agent.id))).scalars().first()
            assert ana is not None
            for lead, kind, step, due in ((maria, SILENT, 0, NOW + timedelta(minutes=8)),
                                          (john, SILENT, 1, NOW + timedelta(minutes=40)),
                                          (cold, REENGAGE, None, NOW + timedelta(days=90))):
                session.add(Timer(kind=kind, lead_id=lead.id, due_at=due, status="pending",
                                  data={} if step is None else {"step": step, "start": "x"}))
            session.add(Timer(kind=SILENT, lead_id=john.id, due_at=NOW, status="fired",
                              data={"step": 0}))  # history, not running
            session.add_all([
                AuditEvent(lead_id=maria.id, type="followup.sent", at=NOW - timedelta(hours=1),
                           data={"template": "nudge_1", "step": 0}),
                AuditEvent(lead_id=john.id, type="followup.held", at=NOW - timedelta(hours=2),
                           data={"until": "2026-12-01T13:00:00+00:00", "reason": "quiet_hours",
                                 "step": 1}),
                AuditEvent(lead_id=cold.id, type="followup.stopped", at=NOW - timedelta(hours=2),
                           data={"reason": "reply", "step": 2}),
            ])
            session.add(Appointment(lead_id=maria.id, agent_id=ana.id, zone="America/New_York",
                                    starts_at=datetime(2026, 12, 2, 22, 0, tzinfo=UTC),
                                    status="confirmed"))
            session.add(Appointment(lead_id=john.id, agent_id=ana.id, zone="America/New_York",
                                    starts_at=NOW - timedelta(days=3), status="scheduled"))
            session.add(Feedback(lead_id=john.id, agent_id=ana.id, kind="csat", score=4,
                                 asked_at=NOW - timedelta(days=1), answered_at=NOW))
        async with stack.http.get(f"{stack.base}/admin/followup", headers=BEARER) as resp:
            html = await resp.text()
            assert resp.status == 200, html[:2000]
        assert 'data-kpi="sequences-running">3<' in html
        step1 = html[html.index('data-step="0"'):html.index('data-step="1"')]
        assert "Maria Lopez" in step1 and "John Doe" not in step1 and "12:08" in step1
        step2 = html[html.index('data-step="1"'):html.index('data-step="-1"')]
        assert "John Doe" in step2 and "12:40" in step2
        assert "cold-lead check-in" in html[html.index('data-step="-1"'):]
        # 22:00 UTC is 17:00 in New York: the office's clock, and the page says so
        appts = html[html.index('id="appointments"'):html.index('id="feedback"')]
        assert "Wed 02 Dec 17:00" in appts and "confirmed" in appts
        assert appts.count("data-appointment=") == 1  # the one three days ago is not upcoming
        assert "Times in America/New_York" in html
        fb = html[html.index('id="feedback"'):html.index('id="followup-events"')]
        assert "CSAT" in fb and "<b>4</b>" in fb
        events = html[html.index('id="followup-events"'):]
        assert 'data-event="sent"' in events and "nudge_1" in events
        assert "quiet_hours" in events and "08:00" in events  # held until 13:00 UTC
        async with stack.http.get(f"{stack.base}/admin/followup?lang=es", headers=BEARER) as r:
            es = await r.text()
        assert "Seguimiento" in es and "confirmada" in es and "zona de la oficina" in es


async def _dead(stack: Any) -> tuple[int, int]:
    async with stack.services.store.transaction() as session:
        lead = await _lead(session, "Dead Letter", "en")
        for status in ("delivered", "delivered", "pending"):
            session.add(CrmDelivery(endpoint="hook", event="message.in", lead_id=lead.id,
                                    source="audit", source_id=1, occurred_at=NOW,
                                    status=status))
        dead = CrmDelivery(endpoint="fub", event="lead.created", lead_id=lead.id,
                           source="audit", source_id=2, occurred_at=NOW - timedelta(hours=1),
                           status="dead", attempts=8, last_error="http 401")
        session.add(dead)
        await session.flush()
        return dead.id, lead.id


async def test_crm_page_lists_dead_letters_and_resends_with_the_form(make_stack: Any) -> None:
    async with make_stack(clock=fixed) as stack:
        dead_id, lead_id = await _dead(stack)
        async with stack.http.get(f"{stack.base}/admin/crm", headers=BEARER) as resp:
            html = await resp.text()
            assert resp.status == 200, html[:2000]
        assert 'data-count="hook-delivered">2<' in html and 'data-count="hook-pending">1<' in html
        assert 'data-count="fub-dead">1<' in html
        row = html[html.index(f'data-delivery="{dead_id}"'):]
        row = row[:row.index("</tr>")]
        assert "lead.created" in row and f'href="/admin/leads/{lead_id}"' in row
        assert "http 401" in row and ">8<" in row and "11:00" in row  # 16:00 UTC, office clock
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', row).group(1)  # type: ignore[union-attr]
        url = f"{stack.base}/admin/crm/{dead_id}/resend"

        async def status() -> str:
            async with stack.services.store.maker() as session:
                return str(await session.scalar(
                    select(CrmDelivery.status).where(CrmDelivery.id == dead_id)))

        async with stack.http.post(url, data={"csrf": token}, allow_redirects=False) as r:
            assert r.status == 401  # the admin guard first
        async with stack.http.post(url, data={}, headers=BEARER, allow_redirects=False) as r:
            assert r.status == 403  # no form token
        async with stack.http.post(url, data={"csrf": "0" * 40}, headers=BEARER,
                                   allow_redirects=False) as r:
            assert r.status == 403
        async with stack.http.post(url, data={"csrf": token}, allow_redirects=False,
                                   headers={**BEARER, "Origin": "https://evil.example"}) as r:
            assert r.status == 403
        assert await status() == "dead"
        # A browser on our page: no-referrer makes its Origin "null"; the token carries it.
        async with stack.http.post(url, data={"csrf": token}, allow_redirects=False,
                                   headers={**BEARER, "Origin": "null"}) as r:
            assert r.status == 303 and r.headers["Location"] == f"/admin/crm?resent={dead_id}"
        assert await status() == "pending"
        async with stack.http.get(f"{stack.base}/admin/crm?resent={dead_id}",
                                  headers=BEARER) as resp:
            html = await resp.text()
        assert f"Delivery #{dead_id} is queued again." in html
        assert f'data-delivery="{dead_id}"' not in html and 'data-count="fub-pending">1<' in html
        async with stack.http.post(url, data={"csrf": token}, headers=BEARER,
                                   allow_redirects=False) as r:
            assert r.headers["Location"] == f"/admin/crm?still_pending={dead_id}"
        async with stack.http.post(f"{stack.base}/admin/crm/999999/resend",
                                   data={"csrf": token}, headers=BEARER,
                                   allow_redirects=False) as r:
            assert r.status == 404
