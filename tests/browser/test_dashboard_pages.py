"""The broker's dashboard in a real browser on a seeded week: overview, inbox, a lead's page and
the response standard at desktop (1280×800) and phone (390×844) sizes. Screenshots go to
var/screenshots/ for a person to look at; the key numbers must be on screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.config.handoff import load_handoff_config
from gateway.dev.demo_data import seed
from gateway.store.models import Agent, Lead
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

SHOTS = ROOT / "var" / "screenshots"
NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # Friday 10:30 in Miami
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.timeout(300)
async def test_dashboard_pages_are_legible_on_desktop_and_phone(
        make_stack: Any, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with make_stack(clock=lambda: NOW) as stack:
        config = load_handoff_config(stack.settings)
        async with stack.services.store.transaction() as session:
            agents = {a.key: a for a in (await session.execute(select(Agent))).scalars()}
            counts = await seed(session, config, agents, days=7, per_day=45, now=NOW)
        assert counts["leads"] >= 250
        async with stack.services.store.maker() as session:
            lead = (await session.execute(select(Lead).where(Lead.score.is_not(None))
                                          .order_by(Lead.id.desc()))).scalars().first()
        assert lead is not None
        for name, viewport in VIEWPORTS.items():
            context = await browser.new_context(viewport=viewport,
                                                is_mobile=name == "phone",
                                                has_touch=name == "phone")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            await page.goto(f"{stack.base}/admin/?token=admin-test-token")
            kpi = page.locator('[data-kpi="leads-last_7"]')
            assert await kpi.inner_text() == str(counts["leads"])
            assert await kpi.is_visible()
            assert await page.locator("#speed").is_visible()
            assert "First human reply" in await page.locator("#speed").inner_text()
            assert await page.locator(".chart svg").count() == 4
            await page.screenshot(path=str(SHOTS / f"overview-{name}.png"), full_page=True)
            await page.locator("#speed").scroll_into_view_if_needed()
            await page.screenshot(path=str(SHOTS / f"overview-speed-{name}.png"))

            await page.goto(f"{stack.base}/admin/standard")
            team = page.locator('[data-kpi="team-accept"]')
            assert "%" in await team.inner_text()
            assert await page.locator("#breaches tr").count() > 1
            await page.screenshot(path=str(SHOTS / f"standard-{name}.png"), full_page=True)
            await page.screenshot(path=str(SHOTS / f"standard-top-{name}.png"))

            await page.goto(f"{stack.base}/admin/leads?language=es")
            rows = page.locator("#rows tr")
            assert await rows.count() > 50
            assert "es" in await rows.first.inner_text()
            await page.screenshot(path=str(SHOTS / f"inbox-{name}.png"))

            await page.goto(f"{stack.base}/admin/leads/{lead.id}?lang=es")
            assert f"Cliente #{lead.id}" in await page.locator("h1").inner_text()
            assert await page.locator("#timeline tr").count() > 5
            await page.screenshot(path=str(SHOTS / f"lead-{name}.png"), full_page=True)
            await page.screenshot(path=str(SHOTS / f"lead-top-{name}.png"))
            # the phone layout does not overflow sideways outside the scrolling tables
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, width
            for path in ("followup", "crm"):  # the follow-up and CRM pages fit too
                await page.goto(f"{stack.base}/admin/{path}")
                assert "America/New_York" in await page.locator("#zone").inner_text()
                await page.screenshot(path=str(SHOTS / f"{path}-{name}.png"), full_page=True)
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"] + 1, (path, width)
            assert errors == []
            await context.close()
