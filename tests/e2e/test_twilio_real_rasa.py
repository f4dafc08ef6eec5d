"""End to end with the real trained model and action server: signed Twilio webhooks in,
replies out through the real twilio client to the fake Twilio API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.store.models import Lead, Message
from tests.conftest import free_port

pytestmark = pytest.mark.e2e

SPANISH_WORDS = ("hola", "gracias", "asistente", "comprar", "busca", "¿", "usted", "qué", "zona")
ENGLISH_WORDS = ("hi", "thanks", "assistant", "buy", "looking", "what", "area", "you")


def _is_spanish(text: str) -> bool:
    t = text.lower()
    return sum(w in t for w in SPANISH_WORDS) > sum(f" {w} " in f" {t} " for w in ENGLISH_WORDS)


async def test_spanish_and_english_webhooks_get_replies_in_their_language(
    make_stack: Any, rasa_url: str
) -> None:
    async with make_stack(rasa_url=rasa_url, ack_budget_seconds=10.0) as stack:
        es, en = "+13055550111", "+13055550112"
        assert (await stack.sms("Hola, busco casa en Miami", phone=es)).status == 200
        assert (await stack.sms("Hi, I'm looking to buy a home", phone=en)).status == 200
        es_sent = await stack.twilio.wait_for(es, timeout=30)
        en_sent = await stack.twilio.wait_for(en, timeout=30)
        await asyncio.sleep(1.0)
        es_text = " ".join(s.body for s in stack.twilio.to(es))
        en_text = " ".join(s.body for s in stack.twilio.to(en))
        assert _is_spanish(es_text), es_text
        assert not _is_spanish(en_text), en_text
        assert es_sent[0].from_ == en_sent[0].from_ == "+13055550100"
        # Nothing Pronto-internal (custom payloads, placeholders) reaches a lead.
        assert "{" not in es_text + en_text and "pronto" not in (es_text + en_text).lower()


async def test_replayed_sid_one_reply_and_forged_no_row(make_stack: Any, rasa_url: str) -> None:
    async with make_stack(rasa_url=rasa_url, ack_budget_seconds=10.0) as stack:
        phone = "+13055550113"
        for _ in range(3):
            await stack.sms("Hi there", phone=phone, sid="SM" + "e" * 32)
        await stack.twilio.wait_for(phone, timeout=30)
        await asyncio.sleep(2.0)
        first_batch = len(stack.twilio.to(phone))
        async with stack.services.store.maker() as s:
            n_in = await s.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "in"))
        assert n_in == 1
        # One bot turn: a replay would add a second greeting batch.
        assert first_batch <= 3
        forged = await stack.sms("Hi there", phone="+13055550114", signature="Zm9yZ2Vk")
        assert forged.status == 403
        async with stack.services.store.maker() as s:
            assert await s.scalar(select(func.count()).select_from(Lead).where(
                Lead.phone == "+13055550114")) == 0


async def test_rasa_stopped_ack_within_budget_then_answered_when_back(
    make_stack: Any, real_rasa: Any
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with make_stack(rasa_url=url, rasa_retry_seconds=1.0) as stack:
        phone = "+13055550115"
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await stack.sms("Hola, quiero vender mi casa", phone=phone)
        ack = await stack.twilio.wait_for(phone, timeout=10)
        assert loop.time() - t0 < stack.settings.ack_budget_seconds
        assert "Gracias por escribir" in ack[0].body
        proc = await asyncio.to_thread(real_rasa.start_rasa, port)
        try:
            sent = await stack.twilio.wait_for(phone, 2, timeout=90)
            assert _is_spanish(sent[1].body), sent[1].body
            async with stack.services.store.maker() as s:
                m = await s.scalar(select(Message).where(Message.direction == "in"))
                assert m is not None and m.bot_status == "done"
        finally:
            await asyncio.to_thread(real_rasa.stop, proc)
