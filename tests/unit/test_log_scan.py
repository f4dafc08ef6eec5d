"""The suite-wide log scan (tests/log_scan.py) cannot silently pass, and the product's logging
setup keeps the Telegram bot token out of httpx's request lines at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from gateway.app import QUIET_LOGGERS, quiet_loggers
from gateway.messages import Inbound, Outbound
from gateway.store.db import make_engine
from tests.fakes.telegram_api import FakeTelegram
from tests.log_scan import LogScan, Used, mask, phone_forms, scan

PHONE = "+13055550177"
MX_PHONE = "+525512345678"
EMAIL = "maria.lopez@example.com"
BODY = "Hola, busco una casa con jardín cerca de la playa"
TOKEN = "7777777777:AAH-a-telegram-bot-token_ABCDEFGHIJ"


@pytest.fixture
def plugin(request: pytest.FixtureRequest) -> LogScan:
    scanner = request.config.pluginmanager.get_plugin("log-scan")
    assert isinstance(scanner, LogScan), "tests/log_scan.py is not registered"
    return scanner


def drain(plugin: LogScan) -> list[tuple[str, str, str]]:
    """What this test logged so far, taken away so the planted leaks do not fail it."""
    return plugin.capture.take()


def test_it_flags_a_phone_an_email_a_body_and_a_token_logged_by_a_library(
    plugin: LogScan,
) -> None:
    # The values reach the registry the way a real test's do: through the objects the gateway
    # builds from a webhook, a send and the settings.
    Inbound(channel="sms", provider_id="SM1", address=PHONE, text=BODY)
    Outbound(channel="sms", address=f"whatsapp:{MX_PHONE}", text="hi")
    SecretStr(TOKEN)
    drain(plugin)
    lib = logging.getLogger("aiohttp.client")  # not one the product quiets
    lib.debug("sending to %s", PHONE)
    lib.debug("national form 305-555-0177 and bare %s", "5512345678")
    logging.getLogger("aiosmtpd.smtp").debug("MAIL FROM:<%s>", EMAIL)
    logging.getLogger("redis.client").debug("XADD inbound %r", {"text": BODY})
    logging.getLogger("asyncio").debug("POST /bot%s/sendMessage", TOKEN)
    lines = drain(plugin)
    assert {name for name, _, _ in lines} >= {"aiohttp.client", "asyncio", "redis.client"}
    hits = scan(lines, plugin.registry.used)
    kinds = {(h.logger, h.kind) for h in hits}
    assert kinds >= {("aiohttp.client", "phone"), ("aiosmtpd.smtp", "email"),
                     ("redis.client", "body"), ("asyncio", "token")}
    # The bare national digits of the Mexican number the test sent to count too.
    assert any(h.masked == mask("5512345678") for h in hits)
    assert all(h.level == "DEBUG" for h in hits)
    for hit in hits:  # the report names the kind, never the whole value
        assert PHONE not in str(hit) and EMAIL not in str(hit) and TOKEN not in str(hit)
        assert BODY not in str(hit)


class _Item:  # what the report hook reads of an item and a call
    nodeid = "t.py::t"


class _Call:
    when = "call"


def test_a_hit_fails_the_test_that_logged_it(plugin: LogScan) -> None:
    SecretStr(TOKEN)
    drain(plugin)
    hits, failed = plugin.totals.hits, list(plugin.totals.failed)
    logging.getLogger("twilio.http_client").warning("auth %s", TOKEN)
    report = pytest.TestReport("t.py::t", ("t.py", 1, "t"), {}, "passed", None, "call")
    hook = plugin.pytest_runtest_makereport(cast(pytest.Item, _Item()),
                                            cast(pytest.CallInfo[None], _Call()))
    next(hook)
    with pytest.raises(StopIteration) as done:
        hook.send(report)
    assert done.value.value is report and report.failed
    assert "twilio.http_client WARNING: token" in str(report.longrepr)
    assert TOKEN not in str(report.longrepr)
    plugin.totals.hits, plugin.totals.failed = hits, failed  # planted: not the suite's


def test_ids_sids_and_timestamps_are_not_phones() -> None:
    used = Used()
    used.address(PHONE)
    lines = [("gateway.worker", "INFO", "lead 3055550 message SM3055550177aa77 at 1733050177"),
             ("gateway.worker", "INFO", "sid SM13055550177 id 130555501770 2024-12-01 15:02")]
    assert scan(lines, used) == []
    assert scan([("x", "INFO", "call 3055550177 now")], used)
    assert phone_forms(MX_PHONE) >= {MX_PHONE, "525512345678", "5512345678"}


# -- the product's setup keeps the bot token out of httpx's lines ------------------------------


@pytest.fixture
def loud_libraries() -> Iterator[None]:
    """httpx, the SQL layer and friends as a logging config could leave them: unset."""
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def _get_me(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.url}/bot{fake.token}/getMe")
        assert response.status_code == 200


async def test_the_logging_setup_keeps_the_bot_token_out_of_httpx_urls_at_debug(
    plugin: LogScan, loud_libraries: Any
) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        drain(plugin)
        await _get_me(fake)
        # Without the setup httpx writes the token (so the check below can fail) ...
        loud = drain(plugin)
        assert any(name == "httpx" and TOKEN in text for name, _, text in loud)
        quiet_loggers()
        await _get_me(fake)
        quiet = drain(plugin)
    # ... and with it, nothing at all comes out of httpx or httpcore below WARNING.
    assert not [line for line in quiet if line[0].startswith(("httpx", "httpcore"))]
    assert not scan(quiet, plugin.registry.used)


async def test_the_logging_setup_keeps_sql_values_and_rows_out_at_debug(
    plugin: LogScan, loud_libraries: Any, tmp_path: Path
) -> None:
    async def query() -> list[tuple[str, ...]]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text("SELECT :p"), {"p": PHONE})
                return [tuple(row) for row in result.all()]
        finally:
            await engine.dispose()

    drain(plugin)
    assert await query() == [(PHONE,)]
    loud = drain(plugin)
    assert {h.logger for h in scan(loud, plugin.registry.used)} >= {
        "aiosqlite", "sqlalchemy.engine.Engine"}, "the SQL layer did not log: proves nothing"
    quiet_loggers()
    assert await query() == [(PHONE,)]
    assert not scan(drain(plugin), plugin.registry.used)
