"""Telegram outbound against the fake Bot API: wire fields, splitting, pacing, 429, errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from gateway.channels.telegram import Pacer, TelegramChannel, split_text
from gateway.config.settings import Settings
from gateway.errors import ProviderRejected, RateLimited
from gateway.messages import Button, Outbound
from tests.fakes.telegram_api import FakeTelegram


def make_settings(fake: FakeTelegram, **kw: Any) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(fake.token),
        telegram_webhook_secret=SecretStr("secret"),
        telegram_api_url=fake.url,
        **kw,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        yield f


async def started(fake: FakeTelegram, **kw: Any) -> TelegramChannel:
    channel = TelegramChannel(make_settings(fake), **kw)
    await channel.start()
    return channel


async def test_start_calls_get_me_and_no_webhook_on_http(fake: FakeTelegram) -> None:
    channel = await started(fake)
    await channel.close()
    assert [c.method for c in fake.calls] == ["getMe"]
    assert fake.webhook is None


async def test_start_registers_webhook_with_secret_on_https(fake: FakeTelegram) -> None:
    channel = TelegramChannel(make_settings(fake, public_url="https://leads.example.com"))
    await channel.start()
    await channel.close()
    assert fake.webhook is not None
    assert fake.webhook["url"] == "https://leads.example.com/webhooks/telegram"
    assert fake.webhook["secret_token"] == "secret"


async def test_send_text_buttons_and_reply_thread(fake: FakeTelegram) -> None:
    channel = await started(fake)
    try:
        [result] = await channel.send(
            Outbound(
                channel="telegram",
                address="42",
                text="New lead: Maria, buy, Miami, $500k",
                buttons=(Button("Accept", "accept:AB12"), Button("Pass", "pass:AB12")),
                reply_to="17",
            )
        )
    finally:
        await channel.close()
    call = fake.of("sendMessage")[0]
    assert call.fields["chat_id"] == "42"
    assert call.fields["text"] == "New lead: Maria, buy, Miami, $500k"
    assert call.fields["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Accept", "callback_data": "accept:AB12"},
                {"text": "Pass", "callback_data": "pass:AB12"},
            ]
        ]
    }
    assert call.fields["reply_parameters"]["message_id"] == 17
    assert result.status == "sent"
    chat, _, message_id = result.provider_id.partition(":")  # per chat, as Telegram numbers
    assert chat == "42" and message_id.isdigit()


async def test_long_text_is_split_buttons_on_last_part(fake: FakeTelegram) -> None:
    channel = await started(fake, pacer=Pacer(per_chat=0.0, per_second=1000))
    text = ("palabra " * 1000).strip()  # 7999 chars
    try:
        results = await channel.send(
            Outbound(channel="telegram", address="9", text=text, buttons=(Button("OK", "ok"),))
        )
    finally:
        await channel.close()
    calls = fake.of("sendMessage")
    assert len(results) == len(calls) == 2
    assert "reply_markup" not in calls[0].fields
    assert "reply_markup" in calls[1].fields
    assert " ".join(c.fields["text"] for c in calls) == text


def test_split_counts_utf16_units() -> None:
    text = "🏠" * 3000  # 6000 UTF-16 units
    parts = split_text(text)
    assert [len(p) for p in parts] == [2048, 952]
    assert "".join(parts) == text
    assert split_text("short") == ["short"]


def test_oversized_button_data_is_rejected() -> None:
    from gateway.channels.telegram import keyboard

    with pytest.raises(ProviderRejected):
        keyboard([Button("x", "y" * 65)])


def test_pacer_reserves_per_chat_and_global_slots() -> None:
    now = [100.0]
    pacer = Pacer(per_chat=1.0, per_second=4.0, clock=lambda: now[0])
    assert pacer.reserve("a") == 0.0
    assert pacer.reserve("a") == pytest.approx(1.0)  # same chat: one per second
    assert pacer.reserve("b") == pytest.approx(0.25)  # other chat: global spacing only
    assert pacer.reserve("c") == pytest.approx(0.5)
    pacer.hold("b", 5.0)
    assert pacer.reserve("b") == pytest.approx(5.0)


async def test_same_chat_sends_are_paced(fake: FakeTelegram) -> None:
    # A wide pace, so that a loaded machine's slow round trip is not taken for a hold.
    channel = await started(fake, pacer=Pacer(per_chat=0.8, per_second=1000))
    try:
        for i in range(3):
            await channel.send(Outbound(channel="telegram", address="1", text=f"m{i}"))
        await channel.send(Outbound(channel="telegram", address="2", text="other"))
    finally:
        await channel.close()
    at = [c.at for c in fake.of("sendMessage")]
    assert at[1] - at[0] >= 0.78
    assert at[2] - at[1] >= 0.78
    assert at[3] - at[2] < 0.5  # a different chat is not held back by chat 1


async def test_global_rate_is_paced(fake: FakeTelegram) -> None:
    import asyncio

    channel = await started(fake, pacer=Pacer(per_chat=1.0, per_second=10))
    try:
        await asyncio.gather(
            *(
                channel.send(Outbound(channel="telegram", address=str(c), text="x"))
                for c in range(6)
            )
        )
    finally:
        await channel.close()
    at = sorted(c.at for c in fake.of("sendMessage"))
    assert at[-1] - at[0] >= 0.45  # six sends at 10/s span at least 0.5 s


async def test_retry_after_is_obeyed(fake: FakeTelegram) -> None:
    channel = await started(fake)
    fake.fail_next("sendMessage", retry_after=1)
    try:
        t0 = time.monotonic()
        [result] = await channel.send(Outbound(channel="telegram", address="5", text="hi"))
        waited = time.monotonic() - t0
    finally:
        await channel.close()
    calls = fake.of("sendMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.95
    assert waited >= 0.95
    assert result.provider_id


async def test_retry_after_too_long_raises_rate_limited(fake: FakeTelegram) -> None:
    channel = await started(fake, max_retry_wait=0.5)
    fake.fail_next("sendMessage", retry_after=7)
    try:
        with pytest.raises(RateLimited) as info:
            await channel.send(Outbound(channel="telegram", address="5", text="hi"))
    finally:
        await channel.close()
    assert info.value.retry_after == 7
    assert len(fake.of("sendMessage")) == 1


async def test_server_errors_retry_then_rate_limited(fake: FakeTelegram) -> None:
    channel = await started(fake, max_retries=1)
    fake.fail_next("sendMessage", 5, status=502, description="Bad Gateway")
    try:
        with pytest.raises(RateLimited):
            await channel.send(Outbound(channel="telegram", address="5", text="hi"))
    finally:
        await channel.close()
    assert len(fake.of("sendMessage")) == 2


async def test_transient_error_then_success(fake: FakeTelegram) -> None:
    channel = await started(fake)
    fake.fail_next("sendMessage", 1, status=500, description="Internal Server Error")
    try:
        [result] = await channel.send(Outbound(channel="telegram", address="5", text="hi"))
    finally:
        await channel.close()
    assert result.status == "sent"


@pytest.mark.parametrize(
    ("status", "description", "code"),
    [
        (400, "Bad Request: chat not found", "400"),
        (403, "Forbidden: bot was blocked by the user", "forbidden"),
    ],
)
async def test_permanent_errors_are_provider_rejected(
    fake: FakeTelegram, status: int, description: str, code: str
) -> None:
    channel = await started(fake)
    fake.fail_next("sendMessage", status=status, description=description)
    try:
        with pytest.raises(ProviderRejected) as info:
            await channel.send(Outbound(channel="telegram", address="5", text="hi"))
    finally:
        await channel.close()
    assert info.value.code == code
    assert len(fake.of("sendMessage")) == 1


async def test_edit_message_removes_buttons(fake: FakeTelegram) -> None:
    channel = await started(fake)
    try:
        await channel.edit_message("42", "55", "Accepted by you ✅")
        await channel.typing("42")
    finally:
        await channel.close()
    call = fake.of("editMessageText")[0]
    assert call.fields["message_id"] == "55"
    assert call.fields["chat_id"] == "42"
    assert "reply_markup" not in call.fields
    assert fake.of("sendChatAction")[0].fields["action"] == "typing"
