"""Telegram polling mode (local development without a public URL) against the fake."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from gateway.channels.base import ChannelContext
from gateway.channels.telegram import TelegramChannel
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.messages import Inbound
from tests.fakes.telegram_api import FakeTelegram


def polling_settings(fake: FakeTelegram) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(fake.token),
        telegram_webhook_secret=SecretStr("secret"),
        telegram_api_url=fake.url,
        telegram_polling=True,
    )


async def wait_until(pred: object, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not pred():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_polling_feeds_enqueue_and_dedupes() -> None:
    async with FakeTelegram() as fake:
        fake.webhook = {"url": "https://old.example.com/webhooks/telegram"}
        got: list[Inbound] = []

        async def enqueue(inbound: Inbound) -> None:
            got.append(inbound)

        channel = TelegramChannel(polling_settings(fake), poll_timeout=1)
        await channel.start(ChannelContext(enqueue))
        try:
            assert fake.of("deleteWebhook"), "polling must remove a webhook first"
            first = fake.push_update(fake.message_update(42, "hola"))
            fake.push_update(fake.callback_update(42, "accept:X1"))
            await wait_until(lambda: len(got) == 2)
            # a redelivery of an already queued update is not queued again
            fake.push_update(dict(first))
            fake.push_update(fake.message_update(42, "otra"))
            await wait_until(lambda: len(got) == 3)
            await asyncio.sleep(0.2)
        finally:
            await channel.close()
        assert [i.text for i in got] == ["hola", "accept:X1", "otra"]
        assert [i.action for i in got] == ["message", "button", "message"]
        offsets = [c.fields.get("offset") for c in fake.of("getUpdates")]
        assert offsets[0] is None
        assert all(o is not None for o in offsets[1:])  # every later poll confirms what it got
        assert [int(o) for o in offsets[1:]] == sorted(int(o) for o in offsets[1:])


async def test_polling_retries_an_update_whose_enqueue_failed() -> None:
    async with FakeTelegram() as fake:
        got: list[Inbound] = []
        failures = [1]

        async def flaky_enqueue(inbound: Inbound) -> None:
            if failures:
                failures.pop()
                raise ConnectionError("redis down")
            got.append(inbound)

        channel = TelegramChannel(polling_settings(fake), poll_timeout=1)
        await channel.start(ChannelContext(flaky_enqueue))
        try:
            fake.push_update(fake.message_update(42, "hola"))
            await wait_until(lambda: len(got) == 1, within=8)
        finally:
            await channel.close()
        assert got[0].text == "hola"


async def test_polling_without_bind_is_a_config_error() -> None:
    async with FakeTelegram() as fake:
        channel = TelegramChannel(polling_settings(fake))
        with pytest.raises(ConfigError):
            await channel.start()
        await channel.close()
