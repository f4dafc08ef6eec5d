"""A pytest plugin: every test runs with the root logger at DEBUG and its logs are scanned.

House rule 12 (issue 13): logs carry lead ids, never message bodies, phone numbers, tokens or
emails. This plugin turns the rule into a property of the whole suite rather than of a few
tests: for each test it lowers the root logger to DEBUG, captures every record that any logger
(the gateway's, aiohttp, httpx, twilio, sqlalchemy, redis, asyncio, aiosmtpd…) lets through,
and fails the phase that wrote a sensitive value.

The product's own logging setup (`gateway.app.quiet_loggers`, which the gateway runs at start in
`create_app` and `pronto`) is applied before each test and never bypassed: the plugin only
lowers the *root* level, so a library logger the product holds at WARNING stays there, exactly
as in a deployment run at DEBUG.

What counts as sensitive:

* anything shaped like a phone number in E.164 (``+13055550123``, ``whatsapp:+52…``) or a
  formatted national number (``(305) 555-0123``, ``305-555-0123``), and anything shaped like
  an email address, whoever used it;
* the phones and emails the test used, also in bare national form (``3055550123``): these come
  from the messages the gateway parsed or sent (`Inbound`, `Outbound`) and the intake records it
  accepted (`IntakeLead`);
* the message bodies the gateway received (`Inbound.text`, `IntakeLead.message`), when long
  enough to be a person's words rather than a keyword ("STOP", "yes");
* every secret the test created: each `pydantic.SecretStr` (Twilio auth token, Telegram bot
  token, admin token, webhook secrets, intake keys, session secrets, CRM secrets) plus the
  fixed test credentials of tests/conftest.py.

Bare digit runs are only matched against phones the test used, never by shape, so numeric ids,
epoch timestamps and Twilio SIDs (``SM`` + hex) do not raise false alarms. A hit names the
logger, the level and the kind of value; the value itself is shown masked.

Disable with ``-p no:tests.log_scan`` (for measuring its cost only).
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pytest
from pydantic import SecretStr

from gateway.app import quiet_loggers
from gateway.intake.record import IntakeLead
from gateway.messages import Inbound, Outbound

MIN_BODY = 10
"""Bodies shorter than this ("STOP", "yes", "2") are words a log line may say on its own."""
MIN_SECRET = 6
"""Shorter "secrets" (test placeholders like "k") would match everywhere."""

E164 = re.compile(r"(?<![\w+])\+[1-9]\d{9,14}(?!\d)")
"""An E.164 number: the `+` and 10 to 15 digits, so no id or timestamp is one."""
NATIONAL = re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}(?![\w-])")
"""A formatted North American number ((305) 555-0123, 305-555-0123, 305.555.0123)."""
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_FORMAT = logging.Formatter("%(message)s")


# -- what the test used ----------------------------------------------------------------------


@dataclass
class Used:
    """The sensitive values one test used, by kind."""

    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)

    def address(self, value: str | None) -> None:
        """A sender or recipient: a phone (any channel prefix) or an email."""
        if not value:
            return
        value = value.split(":", 1)[1] if value.startswith(("whatsapp:", "tel:")) else value
        if "@" in value:
            self.emails.add(value)
        elif E164.fullmatch(value):
            self.phones.add(value)

    def body(self, value: str | None) -> None:
        """What a person wrote."""
        if value and len(value.strip()) >= MIN_BODY:
            self.bodies.add(value.strip())
            for match in E164.findall(value):
                self.phones.add(match)

    def secret(self, value: object) -> None:
        """A token, key or password."""
        if isinstance(value, str) and len(value) >= MIN_SECRET:
            self.secrets.add(value)

    def needles(self) -> list[tuple[str, str]]:
        """Every literal to look for, with its kind, in each form a log line could hold it."""
        found: dict[str, str] = {}
        for phone in self.phones:
            for form in phone_forms(phone):
                found.setdefault(form, "phone")
        for email in self.emails:
            found.setdefault(email, "email")
            found.setdefault(urllib.parse.quote(email, safe=""), "email")
        for body in self.bodies:
            for form in (body, json.dumps(body)[1:-1], repr(body)[1:-1]):
                found.setdefault(form, "body")
        for secret in self.secrets:
            forms = [secret, urllib.parse.quote(secret, safe="")]
            # A Telegram bot token is "<bot id>:<secret>": the secret half alone leaks it too.
            head, _, tail = secret.partition(":")
            if head.isdigit() and len(tail) >= MIN_SECRET:
                forms.append(tail)
            for form in forms:
                found[form] = "token"  # a secret that looks like a body is still a secret
        return sorted(found.items(), key=lambda item: -len(item[0]))


def phone_forms(e164: str) -> set[str]:
    """A phone as a log line could write it: E.164 with and without `+`, national forms."""
    forms = {e164, e164.lstrip("+")}
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return forms
    national = str(phonenumbers.national_significant_number(number))
    if len(national) >= 7:
        forms.add(national)
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if sum(c.isdigit() for c in formatted) >= 7:
        forms.add(formatted)
    return forms


# Values every test may use without creating them (tests/conftest.py and the conversation
# stack pass them as plain strings to the gateway and sign with them).
FIXED_SECRETS = (
    "test-auth-token-0123456789abcdef",
    "conversations-auth-token-0123456789",
    "admin-test-token",
    "session-test-secret",
)


class Registry:
    """Collects what the current test used, from the objects the gateway builds."""

    def __init__(self) -> None:
        self.used = Used()
        self._undo: list[Callable[[], None]] = []

    def reset(self) -> None:
        """Start a test."""
        self.used = Used()
        for secret in FIXED_SECRETS:
            self.used.secret(secret)

    def install(self) -> None:
        """Wrap the constructors that see sensitive values (undone by `uninstall`)."""
        self._wrap(SecretStr, lambda s: self.used.secret(s.get_secret_value()))
        self._wrap(Inbound, self._inbound)
        self._wrap(Outbound, lambda o: self.used.address(o.address))
        self._wrap(IntakeLead, self._intake)

    def uninstall(self) -> None:
        """Put the constructors back."""
        while self._undo:
            self._undo.pop()()

    def _inbound(self, message: Inbound) -> None:
        self.used.address(message.address)
        self.used.address(message.to)
        self.used.body(message.text)

    def _intake(self, lead: IntakeLead) -> None:
        self.used.address(lead.phone)
        self.used.address(lead.email)
        self.used.body(lead.message)

    def _wrap(self, cls: type[Any], seen: Callable[[Any], None]) -> None:
        original = cls.__init__

        def init(instance: Any, *args: Any, **kwargs: Any) -> None:
            original(instance, *args, **kwargs)
            try:
                seen(instance)
            except Exception:  # collecting must never break the test itself
                pass

        cls.__init__ = init
        self._undo.append(lambda: setattr(cls, "__init__", original))


# -- capture and scan ------------------------------------------------------------------------


class Capture(logging.Handler):
    """Keeps each record as the text a handler would write: message, args, exception, stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str, str]] = []
        self.records = 0
        self.chars = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = _FORMAT.format(record)
        except Exception:  # a broken format string still leaks its arguments
            text = f"{record.msg}"
        if record.args:
            # Arguments that the message did not interpolate are still on the record, where a
            # JSON or structured handler would write them.
            text += f"\n{record.args!r}"
        self.lines.append((record.name, record.levelname, text))
        self.records += 1
        self.chars += len(text)

    def take(self) -> list[tuple[str, str, str]]:
        """The lines since the last call."""
        lines, self.lines = self.lines, []
        return lines


@dataclass(frozen=True)
class Hit:
    """One sensitive value in one log record."""

    logger: str
    level: str
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.logger} {self.level}: {self.kind} {self.masked}"


def mask(value: str) -> str:
    """Enough of a value to find it in the test, not enough to use it."""
    if len(value) <= 6:
        return "*" * len(value)
    keep = min(4, len(value) // 4)
    return f"{value[:keep]}{'*' * (len(value) - 2 * keep)}{value[-keep:]}"


def scan(lines: Iterable[tuple[str, str, str]], used: Used) -> list[Hit]:
    """Every sensitive value in `lines` (name, level, text): by shape, then the test's own.

    A value is reported once per record, however many of its forms match there (a token and
    its secret half, an E.164 number and its digits).
    """
    lines = list(lines)
    hits: list[Hit] = []
    spans: list[tuple[int, int]] = []  # in `whole`, longest needle first

    def hit(index: int, start: int, end: int, kind: str, value: str) -> None:
        if any(s <= start and end <= e for s, e in spans):
            return
        spans.append((start, end))
        name, level, _ = lines[index]
        hits.append(Hit(name, level, kind, mask(value)))

    starts: list[int] = []
    offset = 0
    for _, _, text in lines:
        starts.append(offset)
        offset += len(text) + 1
    whole = "\0".join(text for _, _, text in lines)
    found: list[tuple[int, int, str, str]] = []
    for pattern, kind in ((E164, "phone"), (NATIONAL, "phone"), (EMAIL, "email")):
        found.extend((m.start(), m.end(), kind, m.group()) for m in pattern.finditer(whole))
    alnum = re.compile(r"[0-9A-Za-z]")
    for needle, kind in used.needles():
        at = whole.find(needle)
        while at >= 0:
            end = at + len(needle)
            # A phone in bare digits counts only as a whole number, not inside an id or a SID.
            if kind != "phone" or not (
                (at > 0 and alnum.match(whole[at - 1])) or
                (end < len(whole) and whole[end].isdigit())):
                found.append((at, end, kind, needle))
            at = whole.find(needle, end)
    for start, end, kind, value in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        hit(bisect.bisect_right(starts, start) - 1, start, end, kind, value)
    return sorted(set(hits), key=str)


# -- the plugin ------------------------------------------------------------------------------


@dataclass
class Totals:
    """Figures for the closing summary."""

    tests: int = 0
    records: int = 0
    chars: int = 0
    hits: int = 0
    failed: list[str] = field(default_factory=list)


class LogScan:
    """Per test: root at DEBUG, one capturing handler, a scan after each phase."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.capture = Capture()
        self.totals = Totals()
        # PRONTO_LOG_SCAN_DUMP=file writes every captured line there (to study what is logged).
        dump = os.environ.get("PRONTO_LOG_SCAN_DUMP")
        self.dump = open(dump, "a", encoding="utf-8") if dump else None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        root = logging.getLogger()
        level = root.level
        quiet_loggers()  # the product's setup, as at every start; a test may have loosened it
        self.registry.reset()
        self.capture.take()
        self.capture.records = self.capture.chars = 0
        root.addHandler(self.capture)
        root.setLevel(logging.DEBUG)
        try:
            return (yield)
        finally:
            root.removeHandler(self.capture)
            root.setLevel(level)
            self.totals.tests += 1
            self.totals.records += self.capture.records
            self.totals.chars += self.capture.chars

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        lines = self.capture.take()
        if self.dump is not None:
            for name, level, text in lines:
                self.dump.write(f"{item.nodeid} {call.when} {name} {level}: {text!r}\n")
        hits = scan(lines, self.registry.used)
        if not hits:
            return report
        self.totals.hits += len(hits)
        self.totals.failed.append(f"{item.nodeid} ({call.when})")
        text = "sensitive values in the logs (house rule 12):\n" + "\n".join(
            f"  {h}" for h in sorted(hits, key=str))
        if report.passed:
            report.outcome = "failed"
            report.longrepr = text
        else:
            report.sections.append(("log scan", text))
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        t = self.totals
        terminalreporter.write_sep("-", "log scan (root at DEBUG)")
        terminalreporter.write_line(
            f"log scan: {t.tests} tests, {t.records} records, {t.chars} chars scanned, "
            f"{t.hits} hits")
        for nodeid in t.failed:
            terminalreporter.write_line(f"  leak in {nodeid}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the scanner (one per session) and wrap the constructors it learns from."""
    plugin = LogScan()
    plugin.registry.install()
    config.pluginmanager.register(plugin, "log-scan")
    config.add_cleanup(plugin.registry.uninstall)
    if plugin.dump is not None:
        config.add_cleanup(plugin.dump.close)
