"""The dashboard's pages on a seeded week, on SQLite and PostgreSQL: every page renders with the
numbers, every page refuses without the admin token, the CSV exports filter by date and
source, the agent's signed link opens only its lead and only until it expires."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.config.handoff import load_handoff_config
from gateway.dashboard.links import lead_link_url
from gateway.dev.demo_data import seed
from gateway.store.models import Agent, Lead

BEARER = {"Authorization": "Bearer admin-test-token"}
NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # a Friday, 10:30 in Miami
PAGES = ["/admin/", "/admin/?days=30", "/admin/standard", "/admin/standard?days=30",
         "/admin/agents", "/admin/funnel", "/admin/leads", "/admin/leads?status=with_agent",
         "/admin/leads?q=Garc", "/admin/leads?q=%C2%B2",  # "²" is a digit int() refuses
         "/admin/leads?q=2147483648",  # past the INTEGER id: PostgreSQL refused it (a 500)
         "/admin/leads?partial=1&language=es", "/admin/nlu",
         "/admin/delivery", "/admin/exports", "/admin/followup", "/admin/crm"]


async def seeded(stack: Any) -> dict[str, int]:
    """A deterministic demo week ending at NOW, written through the stack's own database."""
    config = load_handoff_config(stack.settings)
    async with stack.services.store.transaction() as session:
        agents = {a.key: a for a in (await session.execute(select(Agent))).scalars()}
        return await seed(session, config, agents, days=7, per_day=30, now=NOW)


def fixed() -> datetime:
    return NOW


async def test_pages_render_the_seeded_week(make_stack: Any) -> None:
    async with make_stack(clock=fixed) as stack:
        counts = await seeded(stack)
        assert counts["leads"] > 150 and counts["breaches"] > 0
        for path in PAGES:
            async with stack.http.get(stack.base + path, headers=BEARER) as resp:
                body = await resp.text()
                assert resp.status == 200, (path, resp.status, body[:2000])
                assert "Traceback" not in body
        async with stack.http.get(stack.base + "/admin/?days=7", headers=BEARER) as resp:
            html = await resp.text()
        assert f'data-kpi="leads-last_7">{counts["leads"]}<' in html
        assert "First bot reply" in html and "First human reply" in html
        assert html.count("<svg") == 4 and "pygal.js" not in html  # no chart script from a CDN
        assert "Times in America/New_York" in html  # every time on the office's clock
        async with stack.http.get(stack.base + "/admin/standard?lang=es",
                                  headers=BEARER) as resp:
            html = await resp.text()
            assert "pronto_lang=es" in resp.headers["Set-Cookie"]
        assert "Estándar de respuesta" in html and "Incumplimientos" in html
        async with stack.http.get(stack.base + "/admin/leads",
                                  headers={**BEARER, "Accept-Language": "es-MX,es;q=0.9"}
                                  ) as resp:
            assert "Bandeja" in await resp.text()


async def test_lead_page_shows_timeline_qualification_assignments_consent(
        make_stack: Any) -> None:
    async with make_stack(clock=fixed) as stack:
        await seeded(stack)
        async with stack.services.store.maker() as session:
            lead = (await session.execute(select(Lead).where(Lead.score.is_not(None))
                                          .order_by(Lead.id))).scalars().first()
        assert lead is not None
        async with stack.http.get(f"{stack.base}/admin/leads/{lead.id}", headers=BEARER) as resp:
            html = await resp.text()
        assert resp.status == 200
        for part in ('id="timeline"', 'id="qualification"', 'id="assignments"',
                     'id="consent"', "assignment.offered", "handoff.requested"):
            assert part in html, part
        async with stack.http.get(f"{stack.base}/admin/leads/99999", headers=BEARER) as resp:
            assert resp.status == 404


async def test_every_dashboard_page_refuses_without_the_token(make_stack: Any) -> None:
    async with make_stack() as stack:
        for path in [*PAGES, "/admin/leads/1", "/admin/leads/events",
                     "/admin/export/leads.csv", "/admin/export/audit.csv"]:
            async with stack.http.get(stack.base + path, allow_redirects=False) as resp:
                assert resp.status == 401, path
            async with stack.http.get(stack.base + path, allow_redirects=False,
                                      headers={"Authorization": "Bearer wrong"}) as resp:
                assert resp.status == 401, path


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_exports_filter_by_date_and_source(make_stack: Any) -> None:
    async with make_stack(clock=fixed) as stack:
        counts = await seeded(stack)
        async with stack.http.get(f"{stack.base}/admin/export/leads.csv",
                                  headers=BEARER) as resp:
            assert resp.headers["Content-Type"].startswith("text/csv")
            everything = _rows(await resp.text())
        assert len(everything) == counts["leads"]
        assert "phone" not in everything[0] and "+1305" not in str(everything)
        day = "2026-11-25"
        async with stack.http.get(f"{stack.base}/admin/export/leads.csv?from={day}&to={day}"
                                  "&source=zillow", headers=BEARER) as resp:
            some = _rows(await resp.text())
            assert "leads-2026-11-25-2026-11-25-zillow.csv" in resp.headers[
                "Content-Disposition"]
        expected = [r for r in everything if r["source"] == "zillow"
                    and _local_day(r["created_at"]) == day]
        assert some == expected and 0 < len(some) < len(everything)
        async with stack.http.get(f"{stack.base}/admin/export/audit.csv?from={day}&to={day}"
                                  "&source=zillow", headers=BEARER) as resp:
            audit = _rows(await resp.text())
        assert audit and {r["lead_id"] for r in audit} == {r["id"] for r in some}
        async with stack.http.get(f"{stack.base}/admin/export/audit.csv?from=yesterday",
                                  headers=BEARER) as resp:
            assert resp.status == 400


def _local_day(iso: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo("America/New_York")).date().isoformat()


async def test_agent_link_opens_only_its_lead_until_it_expires(make_stack: Any) -> None:
    clock = {"now": NOW}
    async with make_stack(clock=lambda: clock["now"]) as stack:
        await seeded(stack)
        link = lead_link_url(stack.settings, 3, NOW, timedelta(days=7))
        assert link.startswith(stack.settings.public_url + "/admin/leads/3?e=")
        path = link.removeprefix(stack.settings.public_url)
        async with stack.http.get(stack.base + path, allow_redirects=False) as resp:
            html = await resp.text()
            assert resp.status == 200 and "Lead #3" in html and "Set-Cookie" not in resp.headers
        assert 'href="/admin/standard"' not in html  # read-only: no way into the dashboard
        other = path.replace("/admin/leads/3?", "/admin/leads/4?")
        async with stack.http.get(stack.base + other, allow_redirects=False) as resp:
            assert resp.status == 401
        tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
        async with stack.http.get(stack.base + tampered, allow_redirects=False) as resp:
            assert resp.status == 401
        clock["now"] = NOW + timedelta(days=7, seconds=1)
        async with stack.http.get(stack.base + path, allow_redirects=False) as resp:
            assert resp.status == 401
