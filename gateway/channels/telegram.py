"""Telegram channel: prospects and agents chat with the bot through python-telegram-bot.

Inbound arrives on `POST /webhooks/telegram` (checked with `X-Telegram-Bot-Api-Secret-Token`) or,
for local development without a public URL, by long polling `getUpdates`
(`PRONTO_TELEGRAM_POLLING`). Every update id is remembered in a bounded set (and in Redis when
one is given), so a redelivered update is dropped even if it arrives after newer ones.

Outbound is paced inside the adapter to Telegram's limits (about one message per second per
chat, thirty per second overall) and obeys `429 retry_after`. The Bot API base URL is the
`PRONTO_TELEGRAM_API_URL` setting, so tests talk to `tests/fakes/telegram_api.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from redis.asyncio import Redis
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest as TgBadRequest,
)
from telegram.error import (
    NetworkError,
    TelegramError,
)

from gateway.channels.base import ChannelContext, Enqueue
from gateway.channels.telegram_limits import (
    MAX_TEXT_UNITS,
    FloodAwareRequest,
    FloodWait,
    Pacer,
    SeenUpdates,
    split_text,
)
from gateway.config.settings import Settings
from gateway.errors import BadRequest, BadSignature, ConfigError, ProviderRejected, RateLimited
from gateway.messages import TELEGRAM, Button, Inbound, Outbound, SendResult, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")


def sent_id(chat: str, message_id: int) -> str:
    """The provider id Pronto stores for a message it sent: "<chat>:<message id>".

    Telegram numbers a private chat's messages per chat, so two leads' chats both have a
    message 2: a bare message id would collide under (channel, provider_id) and fail the
    second send's record. Inbound messages keep their update id (global, no colon)."""
    return f"{chat}:{message_id}"


def update_to_inbound(update: Update) -> Inbound | None:
    """Normalise one update; None for kinds Pronto ignores (edits, bots, channel posts)."""
    raw = update.to_dict()
    query = update.callback_query
    if query is not None:
        where = query.message
        return Inbound(
            channel=TELEGRAM,
            provider_id=query.id,
            address=str(where.chat.id if where is not None else query.from_user.id),
            text=query.data or "",
            action="button",
            reply_to=str(where.message_id) if where is not None else None,
            profile_name=query.from_user.first_name,
            raw=raw,
        )
    message = update.message  # edited_message is deliberately ignored: the original was answered
    if message is None or (message.from_user is not None and message.from_user.is_bot):
        return None
    reply = message.reply_to_message
    return Inbound(
        channel=TELEGRAM,
        provider_id=str(update.update_id),
        address=str(message.chat.id),
        text=message.text or message.caption or "",
        reply_to=str(reply.message_id) if reply is not None else None,
        profile_name=message.from_user.first_name if message.from_user else None,
        received_at=message.date if isinstance(message.date, datetime) else utcnow(),  # null date
        raw=raw,
    )


def _check_shape(update: Update) -> None:
    """Raise ValueError unless what Pronto keeps of a webhook update has Telegram's types.

    `Update.de_json` does not check types, so a forged body's chat id (a list, a string) would
    become a lead's address and a reply target.
    """
    inbound = update_to_inbound(update)
    if inbound is None:
        return
    if not _CHAT_ID.match(inbound.address) or not isinstance(inbound.text, str):
        raise ValueError("chat id or text of the wrong type")
    if not isinstance(inbound.provider_id, str) or not 0 < len(inbound.provider_id) <= 128:
        raise ValueError("update or callback id of the wrong type")
    if inbound.reply_to is not None and not _CHAT_ID.match(inbound.reply_to):
        raise ValueError("reply id of the wrong type")
    if inbound.profile_name is not None and not isinstance(inbound.profile_name, str):
        raise ValueError("first name of the wrong type")


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One row of inline buttons, or None."""
    if not buttons:
        return None
    for b in buttons:
        if len(b.data.encode()) > 64:
            raise ProviderRejected("button data longer than 64 bytes", code="button_data")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]]
    )


class TelegramChannel:
    """The Telegram adapter (`gateway.channels.base.Channel`)."""

    name = "telegram"
    channels = frozenset({TELEGRAM})

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis | None = None,
        pacer: Pacer | None = None,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        poll_timeout: int = 25,
    ) -> None:
        self._settings = settings
        self._pacer = pacer or Pacer()
        self._seen = SeenUpdates(redis=redis)
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._poll_timeout = poll_timeout
        self._bot: Bot | None = None
        self._enqueue: Enqueue | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- inbound -----------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> None:
        """Constant-time check of the secret token Telegram echoes from `setWebhook`."""
        expected = self._settings.telegram_webhook_secret.get_secret_value().encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            raise BadSignature("telegram secret token missing or wrong")

    async def parse(self, request: web.Request) -> list[Inbound]:
        """One update per webhook call; redelivered update ids yield nothing."""
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self._bot)
            _check_shape(update)
        # RecursionError: JSON nested deeper than the parser's stack (a forged body; Telegram's
        # updates are a few levels deep).
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise BadRequest("malformed telegram update") from exc
        return await self._accept(update)

    async def _accept(self, update: Update) -> list[Inbound]:
        if not await self._seen.first_time(update.update_id):
            log.info("telegram update %s already seen; dropped", update.update_id)
            return []
        inbound = update_to_inbound(update)
        if inbound is None:
            return []
        if update.callback_query is not None:  # stop the button's spinner at once
            self._spawn(self._answer_callback(update.callback_query.id))
        return [inbound]

    async def forget(self, inbounds: Sequence[Inbound]) -> None:
        """Un-see the updates behind `inbounds` (call when queueing them failed, so Telegram's
        redelivery is accepted instead of dropped as a duplicate)."""
        for inbound in inbounds:
            update_id = inbound.raw.get("update_id")
            if isinstance(update_id, int):
                await self._seen.forget(update_id)

    def webhook_response(self) -> web.Response:
        """Telegram only needs a 2xx."""
        return web.Response(status=200)

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, message: Outbound) -> Sequence[SendResult]:
        """Send one message (split at 4096 UTF-16 units), buttons on the last part."""
        bot = self._require_bot()
        chat = message.address
        markup = keyboard(message.buttons)
        parts = split_text(message.text)
        results: list[SendResult] = []
        for i, part in enumerate(parts):
            reply = None
            to = message.reply_to
            if i == 0 and to and to.isascii() and to.isdigit():
                reply = ReplyParameters(int(to), allow_sending_without_reply=True)
            last = i == len(parts) - 1

            def call(part: str = part, reply: Any = reply, last: bool = last) -> Any:
                return bot.send_message(
                    chat_id=chat,
                    text=part,
                    reply_markup=markup if last else None,
                    reply_parameters=reply,
                )

            sent: Message = await self._call(chat, call)
            results.append(SendResult(provider_id=sent_id(chat, sent.message_id), status="sent"))
        return results

    async def edit_message(
        self, address: str, provider_id: str, text: str, buttons: Sequence[Button] = ()
    ) -> None:
        """Replace the text (and buttons; none removes them) of a message we sent, e.g. an alert
        after it was accepted."""
        bot = self._require_bot()

        def call() -> Any:
            return bot.edit_message_text(
                chat_id=address,
                message_id=int(provider_id.rpartition(":")[2]),
                text=text[:MAX_TEXT_UNITS],
                reply_markup=keyboard(buttons),
            )

        await self._call(address, call)

    async def typing(self, address: str) -> None:
        """Show "typing…" in the chat; best effort, never raises."""
        if self._bot is None:
            return
        try:
            await self._bot.send_chat_action(chat_id=address, action="typing")
        except TelegramError as exc:
            log.debug("telegram typing failed: %s", type(exc).__name__)

    async def _call(self, chat: str, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run one paced Bot API call with retries, mapping errors to the gateway's."""
        backoff = 0.5
        for attempt in range(self._max_retries + 1):
            await self._pacer.wait(chat)
            final = attempt == self._max_retries
            try:
                return await make()
            except FloodWait as exc:
                wait = exc.seconds
                log.warning("telegram 429: retry after %.1fs (attempt %d)", wait, attempt + 1)
                if final or wait > self._max_retry_wait:
                    raise RateLimited("telegram flood control", retry_after=wait) from exc
                self._pacer.hold(chat, wait)
            except TgBadRequest as exc:
                raise ProviderRejected(f"telegram bad request: {exc.message}", code="400") from exc
            except NetworkError as exc:  # timeouts, connection errors and 5xx
                log.warning(
                    "telegram transient error %s (attempt %d)", type(exc).__name__, attempt + 1
                )
                if final:
                    raise RateLimited("telegram unreachable", retry_after=backoff) from exc
                await asyncio.sleep(backoff)
                backoff *= 2
            except TelegramError as exc:  # Forbidden (bot blocked), ChatMigrated, InvalidToken
                raise ProviderRejected(
                    f"telegram refused: {type(exc).__name__}", code=type(exc).__name__.lower()
                ) from exc
        raise AssertionError("unreachable")

    async def _answer_callback(self, callback_id: str) -> None:
        if self._bot is None:
            return
        try:
            await self._bot.answer_callback_query(callback_id)
        except TelegramError as exc:
            log.info("telegram answerCallbackQuery failed: %s", type(exc).__name__)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, context: ChannelContext | None = None) -> None:
        """Open the bot client; start polling, or register the webhook on an https URL.

        Args:
            context: The queue's append function (polling mode needs it) and the gateway's
                Redis, where seen update ids are recorded too (shared, kept on restart).
        """
        if context is not None:
            self._enqueue = context.enqueue
            if context.redis is not None:
                self._seen.use_redis(context.redis)
        s = self._settings
        if not s.telegram_enabled:
            raise ConfigError("telegram channel started without TELEGRAM_BOT_TOKEN")
        base = (s.telegram_api_url or DEFAULT_API_URL) + "/bot"
        self._bot = Bot(
            s.telegram_bot_token.get_secret_value(),
            base_url=base,
            request=FloodAwareRequest(connection_pool_size=64),
            get_updates_request=FloodAwareRequest(connection_pool_size=2),
        )
        try:
            await self._bot.initialize()  # getMe: fails fast on a wrong token
            if s.telegram_polling:
                if self._enqueue is None:
                    raise ConfigError("telegram polling needs start(ChannelContext(enqueue))")
                await self._bot.delete_webhook()
                self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
            elif s.public_url.startswith("https://"):
                await self._bot.set_webhook(
                    url=f"{s.public_url}/webhooks/telegram",
                    secret_token=s.telegram_webhook_secret.get_secret_value(),
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            else:
                log.warning(
                    "telegram webhook not registered: PRONTO_PUBLIC_URL is not https "
                    "(set PRONTO_TELEGRAM_POLLING=true for local development)"
                )
        except TelegramError as exc:
            log.error("telegram start failed: %s", type(exc).__name__)

    async def close(self) -> None:
        """Stop polling, finish background calls, close the HTTP clients."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._bot is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.shutdown()
            self._bot = None

    async def _poll(self) -> None:
        """Long-poll `getUpdates`; an update is confirmed (offset) only once it is queued."""
        assert self._bot is not None and self._enqueue is not None
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=self._poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                for update in updates:
                    for inbound in await self._accept(update):
                        try:
                            await self._enqueue(inbound)
                        except Exception:
                            await self._seen.forget(update.update_id)
                            raise
                    offset = update.update_id + 1
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except FloodWait as exc:
                await asyncio.sleep(exc.seconds)
            except Exception as exc:  # keep polling through network trouble and queue outages
                log.warning(
                    "telegram polling error %s; retry in %.0fs", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _require_bot(self) -> Bot:
        if self._bot is None:
            raise ConfigError("telegram channel used before start()")
        return self._bot
