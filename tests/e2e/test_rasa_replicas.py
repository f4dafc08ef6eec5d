"""Scale-out and restarts with the real model: two Rasa replicas share one conversation through
the Redis tracker store (the gateway serialises the lead's turns and alternates replicas), a
replica that dies is skipped, and a restarted one continues the qualification where it was."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import free_port
from tests.integration.handoff_harness import Clock

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # three model loads

TUESDAY_NOON_MIAMI = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
PROSPECT = "+13055550921"


async def say(stack: Any, text: str) -> str:
    """Send `text` as the prospect; the assistant's last text in answer."""
    before = len(stack.twilio.to(PROSPECT))
    await stack.sms(text, phone=PROSPECT)
    await stack.twilio.wait_for(PROSPECT, before + 1, timeout=60)
    await asyncio.sleep(0.8)  # an answer may be several texts
    return stack.twilio.to(PROSPECT)[-1].body


async def test_two_replicas_one_conversation_then_a_dead_and_a_restarted_replica(
        make_stack: Any, real_rasa: Any) -> None:
    pa, pb = free_port(), free_port()
    a, b = await asyncio.gather(asyncio.to_thread(real_rasa.start_rasa, pa),
                                asyncio.to_thread(real_rasa.start_rasa, pb))
    url_a, url_b = f"http://127.0.0.1:{pa}", f"http://127.0.0.1:{pb}"
    try:
        async with make_stack(rasa_url=f"{url_a},{url_b}", clock=Clock(TUESDAY_NOON_MIAMI),
                              ack_budget_seconds=15.0) as stack:
            bot = stack.services.bot
            assert "which area" in (await say(stack, "Hi, I want to buy a house")).lower()
            assert "bedrooms" in (await say(stack, "Doral")).lower()
            assert bot.calls[url_a] >= 1 and bot.calls[url_b] >= 1  # the turns alternated
            # Replica A dies mid-qualification: B answers, and remembers what A heard.
            await asyncio.to_thread(real_rasa.stop, a)
            assert "budget" in (await say(stack, "3 bedrooms")).lower()
            # A restarts (a fresh process, nothing in memory) and B dies: A continues the
            # qualification from the Redis tracker store instead of starting over.
            a = await asyncio.to_thread(real_rasa.start_rasa, pa)
            await asyncio.to_thread(real_rasa.stop, b)
            before_a = bot.calls[url_a]
            answer = (await say(stack, "around 450k")).lower()
            assert "when" in answer, answer
            assert bot.calls[url_a] == before_a + 1
            assert "pay" in (await say(stack, "in 2 months")).lower()
            asked = [m.body.lower() for m in stack.twilio.to(PROSPECT)]
            assert sum("which area" in t for t in asked) == 1  # never asked again
            assert sum("how many bedrooms" in t for t in asked) == 1
    finally:
        for proc in (a, b):
            await asyncio.to_thread(real_rasa.stop, proc)
