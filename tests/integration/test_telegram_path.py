"""Telegram end to end: the real gateway (real Redis, real SQL, pipeline, handoff) with
python-telegram-bot talking to the fake Bot API and a fake Rasa."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from gateway.store.models import Message
from tests.conftest import wait_until
from tests.fakes.telegram_api import FakeTelegram

SECRET = "tg-webhook-secret_123"
LEAD_CHAT = 555001
ANA_CHAT = 7101


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def agents_file(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    agent = {
        "key": "ana",
        "name": "Ana García",
        "phone": "+13055550101",
        "telegram_chat_id": str(ANA_CHAT),
        "languages": ["es", "en"],
        "timezone": "America/New_York",
        "hours": {"daily": "00:00-23:59"},
        "notify": ["telegram"],
    }
    path.write_text(yaml.safe_dump({"agents": [agent]}))
    return path


def telegram(fake: FakeTelegram, **more: Any) -> dict[str, Any]:
    return {
        "telegram_bot_token": fake.token,
        "telegram_webhook_secret": SECRET,
        "telegram_api_url": fake.url,
        **more,
    }


async def deliver(
    stack: Any, fake: FakeTelegram, update: dict[str, Any], secret: str | None = SECRET
) -> int:
    return await fake.deliver(f"{stack.base}/webhooks/telegram", update, secret)


async def inbound_count(stack: Any) -> int:
    async with stack.services.store.maker() as s:
        q = (
            select(func.count())
            .select_from(Message)
            .where(Message.channel == "telegram", Message.direction == "in")
        )
        return int(await s.scalar(q) or 0)


async def test_lead_chats_with_the_bot_in_spanish(
    make_stack: Any,
    fake_telegram: FakeTelegram,
) -> None:
    fake = fake_telegram
    async with make_stack(**telegram(fake)) as stack:
        assert fake.webhook is not None  # https public URL: webhook registered with the secret
        assert fake.webhook["secret_token"] == SECRET
        update = fake.message_update(LEAD_CHAT, "Hola, busco casa en Miami", first_name="María")
        assert await deliver(stack, fake, update) == 200
        reply = await fake.wait_sent_to(LEAD_CHAT)
        assert reply.fields["text"].startswith("¡Hola! Soy el asistente")
        assert stack.rasa.requests[-1]["metadata"] == {"language": "es", "channel": "telegram"}
        # Telegram redelivers the same update: no second reply, one stored message
        assert await deliver(stack, fake, update) == 200
        later = fake.message_update(LEAD_CHAT, "¿Tiene piscina?")
        assert await deliver(stack, fake, later) == 200
        await fake.wait_sent_to(LEAD_CHAT, 2)
        assert await inbound_count(stack) == 2


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_unverified_webhook_is_refused_and_nothing_queued(
    make_stack: Any, fake_telegram: FakeTelegram, secret: str | None
) -> None:
    fake = fake_telegram
    async with make_stack(**telegram(fake)) as stack:
        status = await deliver(stack, fake, fake.message_update(LEAD_CHAT, "hola"), secret)
        assert status == 403
        queued = 0
        for key in await stack.services.redis.keys("*"):
            if await stack.services.redis.type(key) == "stream":
                queued += await stack.services.redis.xlen(key)
        assert queued == 0
        assert fake.sent_to(LEAD_CHAT) == []


async def test_handoff_alert_accept_and_thread_reply(
    make_stack: Any, fake_telegram: FakeTelegram, agents_file: Path
) -> None:
    fake = fake_telegram
    async with make_stack(**telegram(fake), agents_path=agents_file) as stack:
        await deliver(stack, fake, fake.message_update(LEAD_CHAT, "Hola, busco casa"))
        await fake.wait_sent_to(LEAD_CHAT)
        await deliver(stack, fake, fake.message_update(LEAD_CHAT, "Un agente por favor"))
        # the agent gets the alert with inline Accept / Pass buttons
        alert = await fake.wait_sent_to(ANA_CHAT)
        [row] = alert.fields["reply_markup"]["inline_keyboard"]
        labels = [b["callback_data"].split(":")[0] for b in row]
        assert labels == ["accept", "pass"]
        accept_data = row[0]["callback_data"]
        told = await fake.wait_sent_to(LEAD_CHAT, 2)
        assert "contactará" in told.fields["text"]  # the handoff line, not the payload
        # Ana presses Accept under the alert
        alert_id = alert.result["message_id"]
        press = fake.callback_update(ANA_CHAT, accept_data, message_id=alert_id)
        assert await deliver(stack, fake, press) == 200
        await fake.wait_for("answerCallbackQuery")
        await wait_until(lambda: _has(fake, LEAD_CHAT, 3), what="lead told who helps")
        assert "Ana" in fake.sent_to(LEAD_CHAT)[2].fields["text"]
        # Ana replies in the alert's thread: relayed to the lead
        reply = fake.message_update(
            ANA_CHAT, "Hola, soy Ana. ¿Le llamo hoy?", reply_to=alert_id, first_name="Ana"
        )
        assert await deliver(stack, fake, reply) == 200
        await wait_until(
            lambda: _has_text(fake, LEAD_CHAT, "soy Ana. ¿Le llamo hoy?"), what="relay to lead"
        )
        # the lead answers: it reaches Ana, not the bot
        asked = len(stack.rasa.requests)
        before = len(fake.sent_to(ANA_CHAT))
        await deliver(stack, fake, fake.message_update(LEAD_CHAT, "Sí, a las 5"))
        relayed = await fake.wait_sent_to(ANA_CHAT, before + 1)
        assert "a las 5" in relayed.fields["text"]
        assert len(stack.rasa.requests) == asked


async def _has(fake: FakeTelegram, chat: int, n: int) -> bool:
    return len(fake.sent_to(chat)) >= n


async def _has_text(fake: FakeTelegram, chat: int, text: str) -> bool:
    return any(text in c.fields.get("text", "") for c in fake.sent_to(chat))


async def test_two_chats_sharing_message_ids_both_have_their_replies_recorded(
    make_stack: Any, fake_telegram: FakeTelegram,
) -> None:
    """Telegram numbers messages per chat: both leads' first replies are message 2 (after
    their own message 1), and each send is still recorded once, as sent, never resent."""
    fake = fake_telegram
    other = LEAD_CHAT + 1
    async with make_stack(**telegram(fake)) as stack:
        for chat in (LEAD_CHAT, other):
            assert await deliver(stack, fake, fake.message_update(chat, "Hi, I want to buy")) == 200
            await fake.wait_sent_to(chat)

        async def recorded() -> list[tuple[str | None, str | None]]:
            async with stack.services.store.maker() as s:
                rows = await s.execute(select(Message.provider_id, Message.status).where(
                    Message.channel == "telegram", Message.direction == "out"))
                return [(p, st) for p, st in rows]

        async def both_sent() -> bool:
            return all(st == "sent" for _, st in await recorded()) and len(await recorded()) == 2

        await wait_until(both_sent, what="both replies recorded as sent")
        assert sorted(p or "" for p, _ in await recorded()) == [
            f"{LEAD_CHAT}:2", f"{other}:2"]
