"""Telegram inbound: secret-token check, update parsing, redelivery dedupe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from gateway.channels.telegram import TelegramChannel
from gateway.config.settings import Settings
from gateway.errors import BadRequest, BadSignature
from gateway.messages import Inbound
from tests.fakes.telegram_api import FakeTelegram

SECRET = "s3cret-token_ABC"


def make_settings(fake: FakeTelegram | None = None, **kw: Any) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(fake.token if fake else "123:TEST-token"),
        telegram_webhook_secret=SecretStr(kw.pop("secret", SECRET)),
        telegram_api_url=fake.url if fake else "http://127.0.0.1:9",
        **kw,
    )


Post = Callable[..., Awaitable[tuple[int, list[Inbound]]]]


@pytest.fixture
def post(aiohttp_client: AiohttpClient) -> Callable[[TelegramChannel], Awaitable[Post]]:
    """Serve one adapter behind a route that mimics the core's webhook flow."""

    async def serve(channel: TelegramChannel) -> Post:
        got: list[Inbound] = []

        async def handler(request: web.Request) -> web.Response:
            try:
                await channel.verify(request)
            except BadSignature:
                return web.Response(status=403)
            try:
                got.extend(await channel.parse(request))
            except BadRequest:
                return web.Response(status=400)
            return channel.webhook_response()

        app = web.Application()
        app.router.add_post("/webhooks/telegram", handler)
        client = await aiohttp_client(app)  # closed by the fixture

        async def send(update: Any, secret: str | None = SECRET) -> tuple[int, list[Inbound]]:
            before = len(got)
            headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
            resp = await client.post("/webhooks/telegram", json=update, headers=headers)
            return resp.status, got[before:]

        return send

    return serve


async def test_right_secret_is_accepted(post: Any) -> None:
    fake = FakeTelegram()
    send = await post(TelegramChannel(make_settings()))
    status, got = await send(fake.message_update(42, "hello"))
    assert status == 200
    assert len(got) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1], "ñ"])
async def test_missing_or_wrong_secret_is_refused(post: Any, secret: str | None) -> None:
    send = await post(TelegramChannel(make_settings()))
    status, got = await send(FakeTelegram().message_update(42, "hello"), secret=secret)
    assert status == 403
    assert got == []


async def test_unconfigured_secret_refuses_everything(post: Any) -> None:
    send = await post(TelegramChannel(make_settings(secret="")))
    status, _ = await send(FakeTelegram().message_update(42, "hi"), secret="")
    assert status == 403


async def test_message_is_normalised(post: Any) -> None:
    fake = FakeTelegram()
    send = await post(TelegramChannel(make_settings()))
    update = fake.message_update(42, "Hola, busco casa", first_name="María")
    _, [inbound] = await send(update)
    assert inbound.channel == "telegram"
    assert inbound.provider_id == str(update["update_id"])
    assert inbound.address == "42"
    assert inbound.text == "Hola, busco casa"
    assert inbound.action == "message"
    assert inbound.reply_to is None
    assert inbound.profile_name == "María"
    assert inbound.raw["update_id"] == update["update_id"]


async def test_a_message_without_a_date_is_dated_at_its_arrival(post: Any) -> None:
    """A body whose `date` is null (the fuzz test's find): an inbound dated now, not a 500."""
    from datetime import UTC, datetime

    send = await post(TelegramChannel(make_settings()))
    update = FakeTelegram().message_update(42, "hello")
    update["message"]["date"] = None
    before = datetime.now(UTC)
    status, [inbound] = await send(update)
    assert status == 200
    assert before <= inbound.received_at <= datetime.now(UTC)
    inbound.to_json()  # what the webhook queues


async def test_reply_in_alert_thread_carries_reply_to(post: Any) -> None:
    fake = FakeTelegram()
    send = await post(TelegramChannel(make_settings()))
    _, [inbound] = await send(fake.message_update(7, "I'll call you at 5", reply_to=321))
    assert inbound.reply_to == "321"
    assert inbound.address == "7"


async def test_button_press_becomes_button_inbound(post: Any) -> None:
    fake = FakeTelegram()
    send = await post(TelegramChannel(make_settings()))
    update = fake.callback_update(7, "accept:AB12", message_id=55, first_name="Ana")
    _, [inbound] = await send(update)
    assert inbound.action == "button"
    assert inbound.text == "accept:AB12"
    assert inbound.provider_id == update["callback_query"]["id"]
    assert inbound.address == "7"
    assert inbound.reply_to == "55"
    assert inbound.profile_name == "Ana"


async def test_button_press_is_answered(post: Any) -> None:
    async with FakeTelegram() as fake:
        channel = TelegramChannel(make_settings(fake))
        await channel.start()
        try:
            send = await post(channel)
            update = fake.callback_update(7, "pass:AB12")
            await send(update)
            call = await fake.wait_for("answerCallbackQuery")
            assert call.fields["callback_query_id"] == update["callback_query"]["id"]
        finally:
            await channel.close()


async def test_edited_message_is_ignored(post: Any) -> None:
    send = await post(TelegramChannel(make_settings()))
    status, got = await send(FakeTelegram().message_update(42, "typo fixed", edited=True))
    assert status == 200
    assert got == []


async def test_malformed_body_is_bad_request(post: Any) -> None:
    send = await post(TelegramChannel(make_settings()))
    status, _ = await send(["not", "an", "update"])
    assert status == 400


async def test_redelivered_update_ids_are_dropped_even_out_of_order(post: Any) -> None:
    fake = FakeTelegram()
    send = await post(TelegramChannel(make_settings()))
    accepted = []
    for uid in (5, 3, 5, 3, 4, 5):
        _, got = await send(fake.message_update(42, "x", update_id=uid))
        accepted += [int(i.provider_id) for i in got]
    # 3 arrives after 5 and is still accepted: a set of seen ids, not "highest seen"
    assert accepted == [5, 3, 4]


async def test_seen_ids_survive_restart_with_redis(post: Any, redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        fake = FakeTelegram()
        first = await post(TelegramChannel(make_settings(), redis=redis))
        _, got = await first(fake.message_update(42, "x", update_id=77))
        assert len(got) == 1
        restarted = await post(TelegramChannel(make_settings(), redis=redis))
        _, got = await restarted(fake.message_update(42, "x", update_id=77))
        assert got == []
        _, got = await restarted(fake.message_update(42, "x", update_id=76))
        assert len(got) == 1
    finally:
        await redis.aclose()


async def test_forget_lets_a_redelivery_through(post: Any) -> None:
    fake = FakeTelegram()
    channel = TelegramChannel(make_settings())
    send = await post(channel)
    update = fake.message_update(42, "x", update_id=900)
    _, got = await send(update)
    await channel.forget(got)  # the core could not queue it
    _, again = await send(update)
    assert len(again) == 1
