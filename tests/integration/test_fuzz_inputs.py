"""Fuzzing the provider-facing inputs with Hypothesis: Twilio (messages, status callbacks, voice;
signed and unsigned, undecodable and oversized bodies), Telegram updates with the right secret,
form leads with the intake key and lead emails with their secret. Every answer is 2xx/3xx/4xx,
never 5xx; the worker keeps running; forged requests store and queue nothing. One running stack
per test (see `fuzz_harness` for how Hypothesis drives it); each test prints its case count.
The web chat socket and the admin inputs are in `test_fuzz_inputs_chat_admin.py`."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.store.models import Lead, Message
from tests.conftest import ACCOUNT_SID, FROM_NUMBER, sign
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.fuzz_harness import (
    any_field,
    assert_alive,
    fuzz,
    json_values,
    nasty_text,
    no_5xx,
    small_text,
)

TG_SECRET = "tg-fuzz-secret_123"
INTAKE_KEY = "intake-fuzz-key-0123456789"
EMAIL_SECRET = "email-fuzz-secret-0123"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SID = st.from_regex(r"\A(SM|MM|SC|CA)[0-9a-f]{32}\Z")

# Twilio message webhook parameters: a well-formed message with some fields dropped and some
# replaced by junk (half the cases reach the pipeline), or any fields at all.
_fields = {
    "MessageSid": SID | any_field, "SmsSid": SID | any_field, "AccountSid": any_field,
    "From": st.sampled_from(["+13055550123", "whatsapp:+13055550124", "+5215512345678"])
    | any_field,
    "To": st.sampled_from([FROM_NUMBER, "whatsapp:+13055550199"]) | any_field,
    "Body": nasty_text, "NumMedia": st.sampled_from(["0", "1", "10", "11"]) | any_field,
    "MediaUrl0": any_field, "MediaUrl1": any_field, "ProfileName": any_field,
}
_well_formed = st.fixed_dictionaries({
    "MessageSid": SID, "AccountSid": st.just(ACCOUNT_SID),
    "From": st.sampled_from(["+13055550123", "whatsapp:+13055550124", "+5215512345678"]),
    "To": st.just(FROM_NUMBER), "Body": nasty_text, "NumMedia": st.just("0")})
_junk = st.fixed_dictionaries({}, optional=_fields)
_extra = st.dictionaries(small_text, any_field, max_size=3)
message_params = st.one_of(
    st.builds(lambda base, drop, junk: {k: v for k, v in {**base, **junk}.items()
                                        if k not in drop},
              _well_formed, st.sets(st.sampled_from(sorted(_fields)), max_size=2),
              st.dictionaries(st.sampled_from(sorted(_fields)), any_field, max_size=2)),
    st.builds(lambda junk, extra: {**extra, **junk}, _junk, _extra),
)
# A body no form parser should choke on: bytes, under a content type that may lie.
raw_bodies = st.tuples(
    st.binary(max_size=600) | st.sampled_from([b"\xff\xfe=\xff", b"Body=%FF%FE&From=\xc3",
                                               b"a" * 5000, b"=&=&&==", b"%" * 50]),
    st.sampled_from([
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=bogus",
        "application/x-www-form-urlencoded; charset=utf-16", "multipart/form-data",
        "multipart/form-data; boundary=xx", "application/json", "text/plain", ""]),
)


async def stored_in(stack: Any) -> list[Message]:
    async with stack.services.store.maker() as s:
        return list((await s.scalars(select(Message).where(Message.direction == "in"))).all())


async def queued_entries(stack: Any) -> int:
    redis, total = stack.services.redis, 0
    for key in await redis.keys("*"):
        if await redis.type(key) in (b"stream", "stream"):
            total += await redis.xlen(key)
    return total


async def post_form(stack: Any, path: str, params: dict[str, str], *, signed: bool,
                    signature: str | None = None) -> int:
    if signed:
        signature = sign(f"{stack.settings.public_url}{path}", params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    headers["Content-Type"] = "application/x-www-form-urlencoded"  # encoded as Twilio does
    body = urlencode(params).encode()
    async with stack.http.post(f"{stack.base}{path}", data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def post_raw(stack: Any, path: str, body: bytes, ctype: str,
                   headers: dict[str, str] | None = None) -> int:
    headers = {**({"Content-Type": ctype} if ctype else {}), **(headers or {})}
    async with stack.http.post(f"{stack.base}{path}", data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def test_fuzz_signed_twilio_messages(make_stack: Any,
                                           caplog: pytest.LogCaptureFixture) -> None:
    async with make_stack() as stack:
        async def case(params: dict[str, str]) -> int:
            return no_5xx(await post_form(stack, "/webhooks/twilio", params, signed=True))

        tally = await fuzz("twilio message (signed)", message_params, case)
        assert set(tally) <= {200, 400}
        await assert_alive(stack, caplog)
        # What got in is what was accepted: phones in E.164, never more rows than 200s.
        rows = await stored_in(stack)
        assert len(rows) <= tally[200] + 1
        assert all(E164.match(m.address) and m.channel in ("sms", "whatsapp") for m in rows)


async def test_fuzz_forged_twilio_webhooks_are_refused_and_store_nothing(
        make_stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    paths = st.sampled_from(["/webhooks/twilio", "/webhooks/twilio/status",
                             "/webhooks/twilio/voice", "/webhooks/twilio/voice/status"])
    forged = st.tuples(paths, message_params, st.none() | st.just("") | st.sampled_from(
        ["AAAA", "bm90IGEgc2lnbmF0dXJl", "é" * 10]) | st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
    async with make_stack() as stack:
        async def case(value: tuple[str, dict[str, str], str | None]) -> int:
            path, params, signature = value
            status = await post_form(stack, path, params, signed=False, signature=signature)
            assert status == 403, status  # read, checked, refused: never accepted, never 5xx
            return status

        await fuzz("twilio forged signature", forged, case)
        # Raw bodies (bad UTF-8, lying content types): a 4xx, signed or not.
        async def raw_case(value: tuple[str, tuple[bytes, str]]) -> int:
            path, (body, ctype) = value
            sig = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
            status = no_5xx(await post_raw(stack, path, body, ctype, sig))
            assert status >= 400
            return status

        await fuzz("twilio raw bodies", st.tuples(paths, raw_bodies), raw_case)
        assert await stored_in(stack) == []
        assert await queued_entries(stack) == 0
        await assert_alive(stack, caplog)


async def test_fuzz_signed_twilio_status_and_voice(make_stack: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    statuses = st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"])
    status_params = st.fixed_dictionaries({}, optional={
        "MessageSid": st.just("KNOWN") | SID | any_field, "MessageStatus": statuses | any_field,
        "SmsStatus": any_field, "ErrorCode": st.sampled_from(["21610", "30003"]) | any_field,
        "From": any_field, "AccountSid": any_field})
    voice_params = st.fixed_dictionaries({}, optional={
        "CallSid": SID | any_field, "From": st.just("+13055550142") | any_field,
        "To": st.just(FROM_NUMBER) | any_field, "AccountSid": st.just(ACCOUNT_SID),
        "DialCallStatus": st.sampled_from(["no-answer", "busy", "failed", "completed"])
        | any_field, "RecordingUrl": st.just("https://api.twilio.com/rec/RE1") | any_field,
        "RecordingDuration": any_field})
    async with make_stack() as stack:
        await stack.sms("hello")
        [sent] = await stack.twilio.wait_for("+13055550123")

        async def status_case(params: dict[str, str]) -> int:
            if params.get("MessageSid") == "KNOWN":
                params = {**params, "MessageSid": sent.sid}
            return no_5xx(await post_form(stack, "/webhooks/twilio/status", params, signed=True))

        await fuzz("twilio status (signed)", status_params, status_case)

        async def voice_case(value: tuple[str, dict[str, str]]) -> int:
            path, params = value
            return no_5xx(await post_form(stack, path, params, signed=True))

        paths = st.sampled_from(["/webhooks/twilio/voice", "/webhooks/twilio/voice/status"])
        await fuzz("twilio voice (signed)", st.tuples(paths, voice_params), voice_case)
        async with stack.services.store.maker() as s:
            statuses_stored = set((await s.scalars(select(Message.status).where(
                Message.direction == "out"))).all())
            phones = set((await s.scalars(select(Lead.phone))).all())
        # A status callback only ever stores one of Twilio's statuses.
        assert statuses_stored <= {"queued", "sent", "delivered", "undelivered", "failed",
                                   "read", "dry_run", "refused"}
        assert all(p is None or E164.match(p) for p in phones)
        await assert_alive(stack, caplog)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def _update_shapes(fake: FakeTelegram) -> st.SearchStrategy[Any]:
    """Updates as Telegram sends them with fields replaced by junk, and any JSON at all."""
    def mutate(base: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
        node = json.loads(json.dumps(base))
        target = node
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = value
        return dict(node)

    paths = st.sampled_from([
        ["update_id"], ["message"], ["message", "text"], ["message", "chat"],
        ["message", "chat", "id"], ["message", "from"], ["message", "date"],
        ["message", "message_id"], ["message", "reply_to_message"], ["callback_query"],
        ["callback_query", "data"], ["edited_message"], ["message", "caption"]])
    ids = st.integers(min_value=1, max_value=2**31)
    base = st.builds(lambda uid, chat, text: {**fake.message_update(chat, text), "update_id": uid},
                     ids, st.integers(min_value=-(2**52), max_value=2**52), nasty_text)
    button = st.builds(lambda uid, data: {**fake.callback_update(7101, data), "update_id": uid},
                       ids, nasty_text)
    mutated = st.builds(mutate, base | button, paths, json_values)
    return base | button | mutated | json_values


async def test_fuzz_telegram_updates(make_stack: Any, fake_telegram: FakeTelegram,
                                     caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_telegram
    settings = {"telegram_bot_token": fake.token, "telegram_webhook_secret": TG_SECRET,
                "telegram_api_url": fake.url}
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    bodies = st.one_of(
        _update_shapes(fake).map(lambda u: json.dumps(u).encode()),
        st.binary(max_size=300), st.just(b"[" * 5000 + b"]" * 5000),
        st.just(b'{"update_id": 1, "message": ' * 3000 + b"}" * 3000),
    )
    async with make_stack(**settings) as stack:
        async def case(body: bytes) -> int:
            return no_5xx(await post_raw(stack, "/webhooks/telegram", body,
                                         "application/json", headers))

        tally = await fuzz("telegram update (secret)", bodies, case)
        assert set(tally) <= {200, 400}
        await assert_alive(stack, caplog)


async def test_fuzz_form_leads_and_lead_emails(make_stack: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    fields = st.fixed_dictionaries({"source": st.just("website") | json_values}, optional={
        "external_id": json_values, "name": json_values | nasty_text,
        "phone": st.just("+13055550155") | any_field | json_values,
        "email": st.just("ana@example.com") | any_field, "message": json_values | nasty_text,
        "listing": json_values | st.fixed_dictionaries({}, optional={
            "price": json_values, "address": json_values, "mls_id": json_values}),
        "language": json_values | st.sampled_from(["en", "es", "ES-mx", "fr"]),
        "page_url": json_values, "campaign": json_values,
        "consent": json_values | st.fixed_dictionaries({"text": nasty_text}, optional={
            "given_at": json_values | st.sampled_from(["2026-01-01T10:00:00", "yesterday"])}),
    })
    valid = st.fixed_dictionaries({
        "source": st.just("website"), "name": nasty_text, "message": nasty_text,
        "phone": st.sampled_from(["+13055550155", "(305) 555-0156", "305.555.0157"]),
        "consent": st.builds(lambda t: {"text": t or "ok"}, nasty_text)})
    # Half well-formed with one or two fields swapped for junk, so the accept path is reached.
    mixed = st.builds(lambda base, junk: {**base, **junk}, valid, fields.map(
        lambda d: dict(list(d.items())[1:3])))
    lead_bodies = (valid | mixed | fields).map(lambda d: json.dumps(d).encode()) | json_values.map(
        lambda v: json.dumps(v).encode()) | st.binary(max_size=300) | st.just(b"[" * 20000)
    async with make_stack(intake_token=INTAKE_KEY, email_webhook_secret=EMAIL_SECRET) as stack:
        auth = {"Authorization": f"Bearer {INTAKE_KEY}"}

        async def lead_case(body: bytes) -> int:
            return no_5xx(await post_raw(stack, "/api/leads", body, "application/json", auth))

        tally = await fuzz("form lead (intake key)", lead_bodies, lead_case)
        assert set(tally) <= {200, 201, 401, 413, 415, 422}

        emails = st.one_of(nasty_text.map(str.encode), st.binary(max_size=800), st.builds(
            lambda subject, body: (f"From: Zillow <leads@zillow.com>\r\nSubject: {subject}\r\n"
                                   f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
                                   ).encode("utf-8", "surrogatepass"), nasty_text, nasty_text))

        async def email_case(value: tuple[bytes, bool]) -> int:
            raw, as_file = value
            form = aiohttp.FormData()
            if as_file:  # as a file part (multipart), else a text field
                form.add_field("email", io.BytesIO(raw), filename="lead.eml")
            else:
                form.add_field("email", raw.decode("utf-8", "replace"))
            async with stack.http.post(f"{stack.base}/webhooks/email", data=form,
                                       headers={"X-Pronto-Email-Secret": EMAIL_SECRET}) as resp:
                await resp.read()
                return no_5xx(resp.status)

        await fuzz("lead email (secret)", st.tuples(emails, st.booleans()), email_case)
        async def raw_email(value: tuple[bytes, str]) -> int:
            body, ctype = value
            return no_5xx(await post_raw(stack, "/webhooks/email", body, ctype,
                                         {"X-Pronto-Email-Secret": EMAIL_SECRET}))

        await fuzz("lead email raw bodies", raw_bodies, raw_email)
        async with stack.services.store.maker() as s:
            phones = set((await s.scalars(select(Lead.phone))).all())
            leads = int(await s.scalar(select(func.count()).select_from(Lead)) or 0)
        assert all(p is None or E164.match(p) for p in phones)
        assert leads <= tally[201] + 1 + 200  # at most one per accepted form or email
        await assert_alive(stack, caplog)


async def test_oversize_bodies_get_413_on_every_route(make_stack: Any, fake_telegram: Any,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Every route that takes a body answers 413 past the 1 MiB cap (`client_max_size`), with
    credentials (so the body is read) and without, chunked or with a Content-Length."""
    fake = fake_telegram
    async with make_stack(intake_token=INTAKE_KEY, email_webhook_secret=EMAIL_SECRET,
                          telegram_bot_token=fake.token, telegram_webhook_secret=TG_SECRET,
                          telegram_api_url=fake.url) as stack:
        creds = {"Authorization": "Bearer admin-test-token", "X-Twilio-Signature": "x",
                 "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                 "X-Pronto-Email-Secret": EMAIL_SECRET}
        posts = sorted({re.sub(r"\{[^}]+\}", "1", r.resource.canonical.replace("{name}", name))
                        for r in stack.app.router.routes() for name in ("twilio", "telegram")
                        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.resource})
        assert {"/webhooks/twilio", "/api/leads", "/webhooks/email"} <= set(posts)
        big = b"Body=" + b"a" * (1024**2 + 10)
        answers: dict[tuple[str, str, str], int] = {}
        for path in posts:
            for ctype in ("application/x-www-form-urlencoded", "application/json"):
                for chunked in (False, True):
                    auth = {**creds, "Authorization": f"Bearer {INTAKE_KEY}"} if (
                        path == "/api/leads") else creds

                    async def chunks() -> AsyncIterator[bytes]:
                        for i in range(0, len(big), 65536):
                            yield big[i:i + 65536]

                    async with stack.http.post(f"{stack.base}{path}",
                                               data=chunks() if chunked else io.BytesIO(big),
                                               headers={**auth, "Content-Type": ctype}) as resp:
                        await resp.read()
                        answers[(path, ctype, "chunked" if chunked else "length")] = resp.status
        # Admin actions that answer before reading the body (an unknown id: 404) need not read
        # it; every webhook and intake route must, and refuse it whole.
        json_routes = ("/webhooks/telegram", "/api/leads")
        natural = {k for k in answers if k[0] not in ("/webhooks/telegram/status",) and (
            k[0].startswith(("/webhooks", "/api/"))) and (k[1] == "application/json") == (
            k[0] in json_routes)}
        wrong = {k: v for k, v in answers.items() if v >= 500 or (k in natural and v != 413)}
        assert not wrong, wrong
        assert len(natural) >= 2 * 7, sorted(natural)
        await assert_alive(stack, caplog)
