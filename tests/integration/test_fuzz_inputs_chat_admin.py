"""Fuzzing the web chat socket (`GET /chat/ws`: hello, frames, origins) and the admin inputs
(`/admin/api/messages` query, `/admin/leads/{id}`, `/admin/api/leads/{id}`) with Hypothesis on
one running stack per test (see `fuzz_harness`). The socket answers every frame or closes
cleanly, never with a handler crash; admin answers are 2xx/3xx/4xx, never 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import strategies as st

from tests.integration.fuzz_harness import (
    any_field,
    assert_alive,
    fuzz,
    json_values,
    nasty_text,
    no_5xx,
)

BEARER = {"Authorization": "Bearer admin-test-token"}
SENTINEL = json.dumps({"type": "message", "id": 5})
"""A frame the socket always answers with `bad_frame`: what was sent before it was handled."""

frames = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries({"type": st.sampled_from(["message", "contact", "ping", "hello"])
                           | nasty_text}, optional={
        "id": st.from_regex(r"\A[A-Za-z0-9_-]{8,64}\Z") | json_values,
        "text": nasty_text | json_values, "phone": any_field | json_values,
        "email": any_field | json_values}).map(json.dumps),
    nasty_text, st.just("[" * 7000), st.binary(max_size=200),
)
hellos = st.one_of(
    st.just({"type": "hello", "token": None}),
    st.fixed_dictionaries({"type": st.just("hello") | nasty_text}, optional={
        "token": json_values | st.sampled_from(["abcdefgh.é", "abcdefgh.xyz", ".", "a.b.c"])
        | nasty_text, "after": json_values | st.sampled_from(["0-0", "99999999999999-1"])}),
    json_values,
)


async def test_fuzz_webchat_socket(make_stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with make_stack() as stack:
        url = f"{stack.base}/chat/ws"

        async def case(value: tuple[Any, list[str | bytes]]) -> str:
            hello, sent = value
            async with stack.http.ws_connect(url, headers={"Origin": stack.base}) as ws:
                await ws.send_str(json.dumps(hello))
                first = await ws.receive(timeout=5)
                if first.type != aiohttp.WSMsgType.TEXT:
                    return "closed at hello"  # not a hello: the socket closes, cleanly
                assert json.loads(first.data)["type"] == "session"
                for frame in sent:
                    if isinstance(frame, bytes):
                        await ws.send_bytes(frame)
                    else:
                        await ws.send_str(frame)
                await ws.send_str(SENTINEL)
                while True:
                    msg = await ws.receive(timeout=5)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                            aiohttp.WSMsgType.CLOSING), msg
                        return f"closed {ws.close_code}"
                    frame = json.loads(msg.data)
                    if frame.get("type") == "error" and frame.get("id") is None and (
                            frame.get("code") == "bad_frame"):
                        return "answered"

        tally = await fuzz("web chat socket", st.tuples(hellos, st.lists(frames, max_size=3)),
                           case)
        assert tally["answered"] > 50
        assert set(tally) <= {"answered", "closed at hello", "closed 1009"}

        origins = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                          max_size=40) | st.sampled_from(["http://[", "http://[::1", "null",
                                                          "file://", "http://a:b:c"])

        async def origin_case(origin: str) -> int:
            async with stack.http.get(url, headers={"Origin": origin, "Connection": "Upgrade",
                                                    "Upgrade": "websocket",
                                                    "Sec-WebSocket-Version": "13",
                                                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
                                      ) as resp:
                return no_5xx(resp.status)

        await fuzz("web chat origin", origins, origin_case)
        await assert_alive(stack, caplog)


async def test_fuzz_admin_inputs(make_stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    numbers = st.sampled_from(["1", "0", "-1", "1.5", "1e3", "٣", "99999999999999999999",
                               "9223372036854775808", " 1", "0x10", ""]) | any_field
    queries = st.dictionaries(st.sampled_from(["lead_id", "after_id", "direction", "address",
                                               "limit", "e", "s", "token", "page", "q"]),
                              numbers, max_size=4)
    paths = st.sampled_from(["/admin/api/messages", "/admin/leads/{}", "/admin/api/leads/{}",
                             "/admin/leads"])
    async with make_stack() as stack:
        await stack.sms("hello")  # one lead with messages, so lookups find something
        await stack.twilio.wait_for("+13055550123")

        async def case(value: tuple[str, str, dict[str, str], bool]) -> int:
            path, ident, query, signed_in = value
            target = path.format(quote(ident, safe=""))
            qs = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())
            url = f"{stack.base}{target}?{qs}"
            async with stack.http.get(url, allow_redirects=False,
                                      headers=BEARER if signed_in else {}) as resp:
                await resp.read()
                status = no_5xx(resp.status)
                # Unauthenticated: refused, whatever the input (aiohttp itself answers 400 to
                # a request line over 8 KiB before any handler runs).
                if not signed_in and "token" not in query and len(url) < 8000:
                    assert status in (401, 403, 404), (target, status)
                return status

        await fuzz("admin inputs", st.tuples(paths, numbers, queries, st.booleans()), case)
        await assert_alive(stack, caplog)
