"""A local fake of Twilio's Messages API that the real `twilio` client talks to.

It records every send (form fields as Twilio receives them), answers 201 with the JSON the
client expects, and can be told to fail the next sends with a given status and Twilio code.
It lists what was sent (`GET Messages.json?To=&From=`, newest first), as Twilio does, so a
sender that died mid-send can ask whether its message went out.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    """One message the fake received."""

    account: str
    to: str
    from_: str
    body: str
    sid: str
    form: dict[str, str]
    auth: str | None
    at: float = field(default_factory=time.perf_counter)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeTwilio:
    """Fake Twilio REST API on 127.0.0.1, port 0."""

    sent: list[Sent] = field(default_factory=list)
    failures: list[tuple[int, int]] = field(default_factory=list)
    delay: float = 0.0
    before_reply: Callable[[Sent], Awaitable[object]] | None = None
    """Run after a send is taken and before its answer: a status callback that outruns the
    answer, as Twilio's may."""
    url: str = ""
    _runner: web.AppRunner | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        """Make the next `times` sends fail with HTTP `status` and Twilio error `code`."""
        self.failures.extend([(status, code)] * times)

    async def _messages(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            status, code = self.failures.pop(0)
            return web.json_response(
                {"code": code, "message": f"fake error {code}", "status": status,
                 "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                status=status,
            )
        sid = "SM" + secrets.token_hex(16)
        account = request.match_info["account"]
        self.sent.append(
            Sent(account, form.get("To", ""), form.get("From", ""), form.get("Body", ""), sid,
                 form, request.headers.get("Authorization"))
        )
        self._event.set()
        if self.before_reply is not None:
            await self.before_reply(self.sent[-1])
        return web.json_response(
            {
                "sid": sid, "account_sid": account, "to": form.get("To"),
                "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                "date_created": None, "date_updated": None, "date_sent": None,
                "error_code": None, "error_message": None, "price": None, "uri": "",
            },
            status=201,
        )

    async def _list(self, request: web.Request) -> web.Response:
        """Twilio's message list: filtered by To and From, newest first, one page."""
        to, from_ = request.query.get("To"), request.query.get("From")
        size = min(int(request.query.get("PageSize", "50")), 1000)
        rows = [s for s in reversed(self.sent)
                if (to is None or s.to == to) and (from_ is None or s.from_ == from_)][:size]
        uri = request.path_qs
        return web.json_response({
            "messages": [{
                "sid": s.sid, "account_sid": s.account, "to": s.to, "from": s.from_,
                "body": s.body, "status": "sent", "direction": "outbound-api",
                "date_created": format_datetime(s.created, usegmt=True), "date_sent": None,
                "date_updated": None, "num_segments": "1", "api_version": "2010-04-01",
                "error_code": None, "error_message": None, "price": None, "uri": "",
            } for s in rows],
            "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None,
            "page": 0, "page_size": size, "uri": uri, "start": 0, "end": len(rows),
        })

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._messages)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages.json", self._list)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def to(self, address: str) -> list[Sent]:
        """Messages sent to one address (E.164 or "whatsapp:+…")."""
        return [s for s in self.sent if s.to == address]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[Sent]:
        """Wait until `count` messages reached `address`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.to(address)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} message(s) to {address}, got {len(self.to(address))}: "
                    f"{[s.body for s in self.to(address)]}"
                )
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass
        return self.to(address)


async def start_fake_twilio() -> Any:
    """Start a fake (helper for scripts)."""
    return await FakeTwilio().start()
