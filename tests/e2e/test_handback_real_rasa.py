"""After the handoff, with the real model: the waiting prospect is never met with silence, and
DONE really hands the conversation back (the bot talks again; a new request is routed again)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.store.models import Assignment
from tests.integration.handoff_harness import Clock

pytestmark = pytest.mark.e2e

MONDAY_10AM_MIAMI = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ANA = "+13055550101"
PROSPECT = "+13055550998"


async def _said(stack: Any, text: str, *, after: int, timeout: float = 60.0) -> list[str]:
    """Send `text` as the prospect; return what the prospect got back for it."""
    await stack.sms(text, phone=PROSPECT)
    await stack.twilio.wait_for(PROSPECT, after + 1, timeout=timeout)
    await asyncio.sleep(1.0)  # a reply may come in several texts
    return [s.body for s in stack.twilio.to(PROSPECT)[after:]]


async def _offers(stack: Any) -> int:
    async with stack.services.store.maker() as s:
        return int(await s.scalar(select(func.count()).select_from(Assignment)) or 0)


async def test_waiting_notes_vary_and_done_gives_the_bot_back(
    make_stack: Any, rasa_url: str
) -> None:
    clock = Clock(MONDAY_10AM_MIAMI)
    async with make_stack(rasa_url=rasa_url, clock=clock, ack_budget_seconds=10.0) as stack:
        n = len(await _said(stack, "Hola, busco casa en Coral Gables", after=0))
        told = await _said(stack, "quiero hablar con un agente por favor", after=n)
        n += len(told)
        alert = (await stack.twilio.wait_for(ANA, timeout=60))[0]
        code = re.search(r"\b(\d{4})\b", alert.body).group(1)  # type: ignore[union-attr]
        assert await _offers(stack) == 1

        # Before anyone accepts: a short note each time, in Spanish, never the same twice.
        first = await _said(stack, "hola?", after=n)
        second = await _said(stack, "sigo aquí", after=n + len(first))
        n += len(first) + len(second)
        assert len(first) == len(second) == 1 and first != second
        assert "agente" in first[0] and "agente" in second[0]

        await stack.sms(f"aceptar {code}", phone=ANA)
        n = len(await stack.twilio.wait_for(PROSPECT, n + 1, timeout=20))
        await stack.sms(f"LISTO {code}", phone=ANA)
        await stack.twilio.wait_for(ANA, 3, timeout=20)  # alert, accepted, done
        await asyncio.sleep(0.5)

        # Handed back: the bot answers like a bot again, not "an agent will contact you".
        back = await _said(stack, "muchas gracias", after=n)
        n += len(back)
        assert back and not any("contactará" in b or "en breve" in b for b in back), back
        # A new request for a person goes through routing again.
        again = await _said(stack, "quiero hablar con una persona otra vez", after=n)
        assert again
        for _ in range(50):
            if await _offers(stack) == 2:
                break
            await asyncio.sleep(0.1)
        assert await _offers(stack) == 2, "the new request alerted nobody"
