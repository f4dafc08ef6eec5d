"""The web chat widget in a real browser: demo page, Spanish conversation with the real bot,
reload keeps the conversation, phone-sized layout. Screenshots go to var/ as artefacts."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.keys import ADAPTERS
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

ARTEFACTS = ROOT / "var"
REPLY = ".log > div.m.team:not(.hi):not(.typ)"
SPANISH = ("hola", "¿", "¡", "busca", "comprar", "casa", "gracias", "zona", "presupuesto", "qué")


def spanish(text: str) -> bool:
    t = text.lower()
    return sum(w in t for w in SPANISH) >= 2


@pytest.mark.e2e
@pytest.mark.timeout(600)  # includes starting Rasa and the action server the first time
async def test_demo_spanish_conversation_survives_reload(
    make_stack: Any, browser_rasa_url: str, browser: Any
) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    async with make_stack(rasa_url=browser_rasa_url, ack_budget_seconds=10.0) as stack:
        page = await browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{stack.base}/chat/demo")
        await page.locator(".bub").click()
        box = page.locator(".pan textarea")
        await box.fill("Hola, busco casa en Miami")
        await box.press("Enter")
        first = page.locator(REPLY).first
        await first.wait_for(timeout=30_000)
        await page.wait_for_timeout(1500)  # let the rest of the bot's turn arrive
        replies = await page.locator(REPLY).all_inner_texts()
        assert spanish(" ".join(replies)), replies
        # the UI follows the detected language
        assert await page.locator(".tt").inner_text() == "¿Preguntas sobre esta casa?"
        await page.screenshot(path=str(ARTEFACTS / "webchat-demo.png"))

        await page.reload()
        await page.locator(REPLY).first.wait_for(timeout=15_000)
        visitor = await page.locator(".log > div.m.visitor").all_inner_texts()
        assert visitor == ["Hola, busco casa en Miami"]
        assert await page.locator(REPLY).all_inner_texts() == replies
        assert await page.locator(".tt").inner_text() == "¿Preguntas sobre esta casa?"
        await page.screenshot(path=str(ARTEFACTS / "webchat-demo-reloaded.png"))
        assert errors == []
        await page.close()


async def test_phone_layout_reconnect_and_contact(make_stack: Any, browser: Any) -> None:
    """With the fake bot: full-screen panel on a phone, resend after network loss, contact form."""
    ARTEFACTS.mkdir(exist_ok=True)
    async with make_stack() as stack:
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = await context.new_page()
        await page.goto(f"{stack.base}/chat/demo")
        await page.locator(".bub").click()
        panel = await page.locator(".pan").bounding_box()
        assert panel is not None and panel["width"] == 390 and panel["height"] == 844

        await page.locator(".pan textarea").fill("Hi, is it still available?")
        await page.locator(".pan textarea").press("Enter")
        await page.locator(REPLY).first.wait_for(timeout=15_000)
        await page.wait_for_timeout(500)
        # the contact card waits until the visitor has answered a question
        assert await page.locator("form.card").count() == 0

        # network lost: the socket drops and cannot come back until the network does
        await context.set_offline(True)
        adapter = stack.app[ADAPTERS]["webchat"]
        for conns in list(adapter._sockets.conns.values()):
            for conn in list(conns):
                await conn.ws.close()
        await page.locator(".st.on").wait_for(timeout=5_000)  # "Reconnecting…"
        await page.locator(".pan textarea").fill("Does it have a pool?")
        await page.locator(".pan textarea").press("Enter")
        assert await page.locator(".log > div.m.visitor.pending").count() == 1
        await page.wait_for_timeout(1500)
        await context.set_offline(False)
        await page.locator(REPLY).nth(1).wait_for(timeout=20_000)
        pending = await page.locator(".log > div.m.visitor.pending").count()
        assert pending == 0

        # the visitor has now written twice: the widget asks how to reach them
        card = page.locator("form.card")
        await card.wait_for(timeout=5_000)
        await card.locator("input[name=phone]").fill("(305) 555-0199")
        await card.locator("button.pri").click()
        await page.get_by_text("(305) 555-0199").wait_for(timeout=10_000)
        await page.screenshot(path=str(ARTEFACTS / "webchat-phone.png"))
        await context.close()
