"""Logs never carry the Telegram bot token: python-telegram-bot sends through httpx, whose
INFO line is the request URL, and the token is part of every Bot API URL. A whole Telegram
conversation runs with the root logger at DEBUG and every captured record is scanned."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.telegram_api import FakeTelegram

SECRET = "tg-webhook-secret_123"
LEAD_CHAT = 555001
TOKEN = "4242424242:AAF-very-secret-bot-token_0123456789"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


async def test_telegram_send_at_debug_never_logs_the_token(
    make_stack: Any, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_telegram
    caplog.set_level(logging.DEBUG)
    async with make_stack(telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET,
                          telegram_api_url=fake.url) as stack:
        update = fake.message_update(LEAD_CHAT, "Hi, I'm looking for a condo")
        assert await fake.deliver(f"{stack.base}/webhooks/telegram", update, SECRET) == 200
        reply = await fake.wait_sent_to(LEAD_CHAT)
        assert reply.fields["text"].startswith("Hi! I'm the assistant")
    assert caplog.records, "nothing was logged: the scan below would prove nothing"
    for record in caplog.records:
        assert TOKEN not in record.getMessage(), (record.name, record.getMessage())
        assert TOKEN not in str(record.args), record.name
    assert TOKEN not in caplog.text
    for name in ("httpx", "httpcore", "telegram"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
