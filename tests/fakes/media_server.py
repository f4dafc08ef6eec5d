"""A local HTTPS fake of Twilio's media hosting, for the media fetcher's tests.

One aiohttp server on 127.0.0.1 with a certificate from a test CA (`trustme`) for
api.twilio.com, media.twiliocdn.com, mms.twiliocdn.com and evil.example; the fetcher under
test reaches it by routing those names to 127.0.0.1 through its injectable resolver and
trusting the test CA. It behaves like Twilio: `/2010-04-01/Accounts/{sid}/Messages/{mm}/Media/
{me}` on api.twilio.com wants HTTP Basic auth and redirects to the CDN; `/files/{name}` serves
what a test put in `files`, and a few paths misbehave on purpose (they are named for what they
do). Every request is recorded with its Host and Authorization headers.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trustme
from aiohttp import web

NAMES = ("api.twilio.com", "media.twiliocdn.com", "mms.twiliocdn.com", "evil.example")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00fake-png-bytes" * 64


@dataclass(frozen=True)
class Seen:
    """One request the fake received."""

    host: str
    path: str
    authorization: str


@dataclass
class FakeMedia:
    """The fake; `start()` it, read `port`, `client_ssl` (trusts its CA) and `seen`."""

    account_sid: str
    auth_token: str
    files: dict[str, tuple[str, bytes]] = field(
        default_factory=lambda: {"photo.png": ("image/png", PNG)})
    redirects: dict[str, str] = field(default_factory=dict)
    """Media id → where api.twilio.com redirects it (default: the CDN's /files/photo.png)."""
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert(*NAMES, "127.0.0.1")
        self.server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.server_ssl)
        self.client_ssl = ssl.create_default_context()
        self.ca.configure_trust(self.client_ssl)

    def url(self, host: str, path: str, scheme: str = "https") -> str:
        """A URL on the fake as the fetcher sees it (the name, the fake's port)."""
        return f"{scheme}://{host}:{self.port}{path}"

    def twilio_url(self, media_id: str = "ME" + "0" * 32) -> str:
        """A media URL as Twilio puts it in `MediaUrl0`."""
        return self.url("api.twilio.com", f"/2010-04-01/Accounts/{self.account_sid}/Messages/"
                                          f"MM{'1' * 32}/Media/{media_id}")

    def seen_on(self, host: str) -> list[Seen]:
        """Requests that came for `host`."""
        return [s for s in self.seen if s.host == host]

    async def start(self) -> FakeMedia:
        """Listen on a free port of 127.0.0.1 over TLS."""
        app = web.Application()
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{mm}/Media/{me}", self._api)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/redirect-loop", self._loop)
        app.router.add_get("/declares-huge", self._declares_huge)
        app.router.add_get("/streams-forever", self._streams_forever)
        app.router.add_get("/drips", self._drips)
        # A short shutdown: some handlers stall on purpose and would hold up the test's end.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.server_ssl)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, request: web.Request) -> None:
        host = (request.host or "").rsplit(":", 1)[0]
        self.seen.append(Seen(host, request.path, request.headers.get("Authorization", "")))

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        expected = "Basic " + base64.b64encode(
            f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401, text="auth required")
        target = self.redirects.get(request.match_info["me"],
                                    self.url("media.twiliocdn.com", "/files/photo.png"))
        raise web.HTTPFound(target)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        name = request.match_info["name"]
        if name not in self.files:
            return web.Response(status=404)
        content_type, body = self.files[name]
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        raise web.HTTPFound(self.url("mms.twiliocdn.com", "/redirect-loop"))

    async def _declares_huge(self, request: web.Request) -> web.StreamResponse:
        """Announces 50 MB, then sends nothing: only a Content-Length check ends it at once."""
        self._record(request)
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.content_length = 50 * 1024 * 1024
        await resp.prepare(request)
        await _forever()
        return resp

    async def _streams_forever(self, request: web.Request) -> web.StreamResponse:
        """No Content-Length (chunked) and far more bytes than any cap: a lying server."""
        self._record(request)
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(2000):  # 128 MB at most, if nothing stops reading
            await resp.write(b"\xff" * 65536)
        return resp

    async def _drips(self, request: web.Request) -> web.StreamResponse:
        """A byte every 50 ms, for ever: no single read is slow, the whole fetch is."""
        self._record(request)
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        while True:
            await resp.write(b"\xff")
            await asyncio.sleep(0.05)


async def _forever() -> None:
    await asyncio.Event().wait()


def routing_resolver(port_map: dict[str, list[str]] | None = None,
                     ) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver for the fetcher: the fake's names (and any in `port_map`) to their
    addresses (127.0.0.1 by default); any other name does not resolve (tests are offline)."""
    table = {name: ["127.0.0.1"] for name in NAMES} | (port_map or {})

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} does not resolve in tests")
        return list(table[host])

    return resolve
