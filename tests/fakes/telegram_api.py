"""A fake Telegram Bot API server for tests: a small aiohttp app on 127.0.0.1, port 0.

Point python-telegram-bot at it with `PRONTO_TELEGRAM_API_URL=fake.url` (the adapter appends
`/bot<token>/<method>`). It records every call with its decoded fields, answers the methods
Pronto uses, can be told to fail the next N calls of a method (429 with `retry_after`, 400, 403,
500), serves `getUpdates` long polling from updates pushed by the test, and can deliver an update
to a gateway webhook the way Telegram does (with `X-Telegram-Bot-Api-Secret-Token`).

    async with FakeTelegram() as fake:
        settings = Settings(telegram_bot_token=fake.token, telegram_api_url=fake.url, ...)
        ...
        fake.fail_next("sendMessage", retry_after=1)
        call = await fake.wait_for("sendMessage")
        assert call.fields["chat_id"] == "42"
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_USER = {
    "id": 123,
    "is_bot": True,
    "first_name": "Pronto",
    "username": "pronto_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_FIELDS = ("reply_markup", "reply_parameters", "allowed_updates", "link_preview_options")


@dataclass
class Call:
    """One recorded Bot API request."""

    method: str
    fields: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None
    """What the fake answered (e.g. the sent Message, with its `message_id`)."""


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int


class FakeTelegram:
    """The fake server. Use as an async context manager; `url` is the base to configure."""

    def __init__(self, token: str = "123:TEST-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self._failures: dict[str, list[_Failure]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        """Per chat, as Telegram numbers a private chat's messages: two chats share ids."""
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """Base URL for `PRONTO_TELEGRAM_API_URL` (no `/bot` suffix)."""
        return f"http://127.0.0.1:{self._port}"

    # -- test controls -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str = "sendMessage",
        n: int = 1,
        *,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
    ) -> None:
        """Answer the next `n` calls of `method` with an error (default: 429 + retry_after)."""
        if status != 429:
            retry_after = None
        self._failures.setdefault(method, []).append(_Failure(status, description, retry_after, n))

    def of(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> Call:
        """Wait until `method` has been called `count` times; return the last of them."""
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)[count - 1]

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for `getUpdates` (polling mode); returns it."""
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def message_update(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Maria",
        reply_to: int | None = None,
        edited: bool = False,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Build a private-chat text message update as Telegram sends it."""
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": message["chat"],
                "from": BOT_USER,
                "text": "(alert)",
            }
        if edited:
            message["edit_date"] = int(time.time())
        key = "edited_message" if edited else "message"
        uid = next(self._update_ids) if update_id is None else update_id
        return {"update_id": uid, key: message}

    def callback_update(
        self, chat_id: int, data: str, *, message_id: int = 1, first_name: str = "Ana"
    ) -> dict[str, Any]:
        """Build a callback query update (an inline button press under message `message_id`)."""
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cbq-{next(self._callback_ids)}",
                "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
                "chat_instance": "ci-1",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                    "from": BOT_USER,
                    "text": "(alert)",
                },
            },
        }

    async def deliver(
        self,
        webhook_url: str,
        update: dict[str, Any],
        secret: str | None,
    ) -> int:
        """POST `update` to a gateway webhook as Telegram does; returns the HTTP status."""
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with aiohttp.ClientSession() as http:
            async with http.post(webhook_url, json=update, headers=headers) as resp:
                return resp.status

    # -- server ------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        fields = await _fields(request)
        call = Call(method, fields)
        self.calls.append(call)
        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                failures.pop(0)
            await self._notify()
            return _error(failure.status, failure.description, failure.retry_after)
        if method == "getUpdates" and self.webhook:
            await self._notify()
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            await self._notify()
            return _error(404, "Not Found: method not found")
        call.result = await handler(fields)
        await self._notify()  # waiters see the call with its result
        return web.json_response({"ok": True, "result": call.result})

    def sent_to(self, chat_id: int | str) -> list[Call]:
        """Successful `sendMessage` calls to one chat, in order."""
        return [
            c
            for c in self.of("sendMessage")
            if str(c.fields.get("chat_id")) == str(chat_id) and c.result is not None
        ]

    async def wait_sent_to(self, chat_id: int | str, count: int = 1, within: float = 10.0) -> Call:
        """Wait for the `count`-th message sent to `chat_id`; return it."""
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent_to(chat_id)) >= count)
        return self.sent_to(chat_id)[count - 1]

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _m_getMe(self, fields: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_sendMessage(self, fields: dict[str, Any]) -> Any:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(int(fields["chat_id"])),
            "date": int(time.time()),
            "chat": {"id": int(fields["chat_id"]), "type": "private"},
            "from": BOT_USER,
            "text": fields.get("text", ""),
        }
        if "reply_markup" in fields:
            message["reply_markup"] = fields["reply_markup"]
        return message

    async def _m_editMessageText(self, fields: dict[str, Any]) -> Any:
        return {
            "message_id": int(fields.get("message_id", 0)),
            "date": int(time.time()),
            "chat": {"id": int(fields.get("chat_id", 0)), "type": "private"},
            "from": BOT_USER,
            "text": fields.get("text", ""),
        }

    async def _m_editMessageReplyMarkup(self, fields: dict[str, Any]) -> Any:
        return await self._m_editMessageText(fields)

    async def _m_answerCallbackQuery(self, fields: dict[str, Any]) -> Any:
        return True

    async def _m_sendChatAction(self, fields: dict[str, Any]) -> Any:
        return True

    async def _m_setWebhook(self, fields: dict[str, Any]) -> Any:
        self.webhook = fields
        return True

    async def _m_deleteWebhook(self, fields: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_getWebhookInfo(self, fields: dict[str, Any]) -> Any:
        url = (self.webhook or {}).get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_getUpdates(self, fields: dict[str, Any]) -> Any:
        offset = int(fields.get("offset") or 0)
        timeout = float(fields.get("timeout") or 0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset]

        if offset:  # confirmed updates are forgotten, as Telegram does
            self._updates = pending()
        if not pending() and timeout > 0:
            try:
                async with asyncio.timeout(min(timeout, 1.0)):
                    async with self._changed:
                        await self._changed.wait_for(lambda: bool(pending()))
            except TimeoutError:
                pass
        return pending()[: int(fields.get("limit") or 100)]


async def _fields(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data: dict[str, Any] = await request.json() if request.can_read_body else {}
    else:
        data = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    for key in _JSON_FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            try:
                data[key] = json.loads(value)
            except ValueError:
                pass
    return data


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
