"""A local CRM webhook receiver that verifies every `Pronto-Signature` it gets.

It records each request (headers, raw body, whether the signature held), answers 200 for a
valid signature and 400 for a bad one, and can be "down": answering 503 (`down = True`) or
refusing connections altogether (`stop()`, then `start()` again on the same port).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.crm.signing import verify_signature


@dataclass
class Received:
    """One request the receiver got."""

    delivery: str
    event: str
    signature: str
    body: bytes
    valid: bool
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class FakeReceiver:
    """A webhook endpoint on 127.0.0.1 with its signing secret."""

    secret: str
    down: bool = False
    """Answer 503 to everything (a receiver in maintenance)."""
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        sig = request.headers.get("Pronto-Signature", "")
        valid = verify_signature(self.secret, sig, body)
        status = 503 if self.down else (200 if valid else 400)
        self.requests.append(Received(request.headers.get("Pronto-Delivery", ""),
                                      request.headers.get("Pronto-Event", ""), sig, body,
                                      valid, status))
        self._event.set()
        return web.Response(status=status, text="ok" if status == 200 else "no")

    @property
    def accepted(self) -> list[Received]:
        """Requests answered 200, in arrival order."""
        return [r for r in self.requests if r.status == 200]

    def events(self, lead_id: int | None = None) -> list[str]:
        """Types of the accepted events (of one lead), in arrival order."""
        return [r.json["type"] for r in self.accepted
                if lead_id is None or (r.json.get("lead") or {}).get("id") == lead_id]

    async def start(self) -> FakeReceiver:
        app = web.Application()
        app.router.add_post("/hooks/pronto", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}/hooks/pronto"
        return self

    async def stop(self) -> None:
        """Stop listening: connections are refused until `start()` (same port)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` requests were accepted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.accepted) < count:
            if loop.time() > deadline:
                raise AssertionError(f"expected {count} accepted events, got "
                                     f"{[r.event for r in self.accepted]}")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), 0.2)
            except TimeoutError:
                pass
        return self.accepted
