"""The media rule against a real local HTTPS server (`tests.fakes.media_server`): the fetcher
follows Twilio's redirect to its CDN and refuses every way out of the rule; through the
pipeline an MMS is stored by content hash and recorded on the message, and a refused one is
recorded while the bot answers all the same.

Loopback is reachable here only because each fetcher is built with `allow_networks` naming
127.0.0.1; the settings never set it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from gateway.infra.media import MediaFetcher, MediaRefused
from gateway.media_intake import FETCHER
from gateway.store.models import AuditEvent, Message
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, wait_until
from tests.fakes.media_server import PNG, FakeMedia, routing_resolver

PHONE = "+13055550123"


@pytest.fixture
async def fake() -> AsyncIterator[FakeMedia]:
    server = await FakeMedia(ACCOUNT_SID, AUTH_TOKEN).start()
    try:
        yield server
    finally:
        await server.stop()


def fetcher(fake: FakeMedia, **overrides: Any) -> MediaFetcher:
    """A fetcher as production builds it, plus only what reaching the fake needs."""
    values: dict[str, Any] = {
        "credentials": (ACCOUNT_SID, AUTH_TOKEN), "resolve": routing_resolver(),
        "ssl_context": fake.client_ssl, "ports": (fake.port,),
        "allow_networks": ("127.0.0.1/32",),
    }
    return MediaFetcher(**(values | overrides))


async def refused(fetch: MediaFetcher, url: str) -> MediaRefused:
    # The outer bound keeps a test whose rule was removed from hanging until the suite's timeout.
    with pytest.raises(MediaRefused) as info:
        await asyncio.wait_for(fetch.fetch(url), 8)
    return info.value


async def test_twilio_media_is_fetched_through_its_redirect_to_the_cdn(fake: FakeMedia) -> None:
    got = await fetcher(fake).fetch(fake.twilio_url())
    assert got.content_type == "image/png"
    assert got.body == PNG
    assert got.sha256 == hashlib.sha256(PNG).hexdigest()
    assert [s.host for s in fake.seen] == ["api.twilio.com", "media.twiliocdn.com"]


async def test_credentials_go_to_api_twilio_com_and_never_to_the_cdn(fake: FakeMedia) -> None:
    await fetcher(fake).fetch(fake.twilio_url())
    (api,) = fake.seen_on("api.twilio.com")
    assert api.authorization.startswith("Basic ")
    (cdn,) = fake.seen_on("media.twiliocdn.com")
    assert cdn.authorization == ""


async def test_credentials_are_not_forwarded_to_another_host_either(fake: FakeMedia) -> None:
    # evil.example is on this fetcher's list only to prove the header rule stands by itself.
    fake.redirects["ME9"] = fake.url("evil.example", "/files/photo.png")
    hosts = ("api.twilio.com", "*.twiliocdn.com", "evil.example")
    await fetcher(fake, hosts=hosts).fetch(fake.twilio_url("ME9"))
    assert fake.seen_on("evil.example")[0].authorization == ""


@pytest.mark.parametrize("target", [
    "https://127.0.0.1:{port}/files/photo.png",
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://10.0.0.5:{port}/files/photo.png",
    "https://[::1]:{port}/files/photo.png",
])
async def test_a_redirect_to_an_inside_address_is_refused(fake: FakeMedia, target: str
                                                          ) -> None:
    fake.redirects["ME7"] = target.format(port=fake.port)
    exc = await refused(fetcher(fake), fake.twilio_url("ME7"))
    assert exc.reason == "host"
    assert [s.host for s in fake.seen] == ["api.twilio.com"]  # nothing after the redirect


@pytest.mark.parametrize(("address", "kind"), [
    ("169.254.169.254", "link_local"), ("10.0.0.5", "private"), ("192.168.0.10", "private")])
async def test_a_redirect_to_a_cdn_name_resolving_inside_is_refused(
        fake: FakeMedia, address: str, kind: str) -> None:
    # The CDN's own name, pointed inside (DNS poisoned, or a rebinding name): the address rule
    # is judged again on the redirect hop.
    resolve = routing_resolver({"mms.twiliocdn.com": [address]})
    fake.redirects["ME6"] = fake.url("mms.twiliocdn.com", "/files/photo.png")
    exc = await refused(fetcher(fake, resolve=resolve), fake.twilio_url("ME6"))
    assert (exc.reason, exc.detail) == ("address", kind)


async def test_loopback_is_refused_without_the_explicit_test_network(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake, allow_networks=()), fake.twilio_url())
    assert (exc.reason, exc.detail) == ("address", "loopback")
    assert fake.seen == []


async def test_the_connection_goes_to_the_address_vetted(fake: FakeMedia) -> None:
    # A rebinding resolver: a public-looking answer for the check would be useless if the
    # connector asked DNS again. Each hop is resolved exactly once, by the fetcher.
    asked: list[str] = []
    base = routing_resolver()

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if asked.count(host) > 1:
            return ["10.0.0.5"]
        return await base(host, port)

    await fetcher(fake, resolve=resolve).fetch(fake.twilio_url())
    assert asked == ["api.twilio.com", "media.twiliocdn.com"]


async def test_http_is_refused(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake), fake.twilio_url().replace("https://", "http://"))
    assert exc.reason == "scheme"
    assert fake.seen == []


async def test_a_redirect_to_http_is_refused(fake: FakeMedia) -> None:
    fake.redirects["ME5"] = fake.url("media.twiliocdn.com", "/files/photo.png", scheme="http")
    exc = await refused(fetcher(fake), fake.twilio_url("ME5"))
    assert exc.reason == "scheme"


async def test_another_host_is_refused(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake), fake.url("evil.example", "/files/photo.png"))
    assert exc.reason == "host"
    assert fake.seen == []


async def test_a_redirect_to_another_host_is_refused(fake: FakeMedia) -> None:
    fake.redirects["ME4"] = fake.url("evil.example", "/files/photo.png")
    exc = await refused(fetcher(fake), fake.twilio_url("ME4"))
    assert exc.reason == "host"
    assert fake.seen_on("evil.example") == []


async def test_redirects_are_bounded(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake), fake.url("mms.twiliocdn.com", "/redirect-loop"))
    assert exc.reason == "redirects"
    assert len(fake.seen) == 4  # the first request and three redirects


async def test_over_size_by_content_length_is_refused_before_the_body(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake), fake.url("media.twiliocdn.com", "/declares-huge"))
    assert (exc.reason, exc.detail) == ("too_large", "content-length")


async def test_a_server_streaming_past_the_cap_is_cut_off(fake: FakeMedia) -> None:
    exc = await refused(fetcher(fake, max_bytes=200_000),
                        fake.url("media.twiliocdn.com", "/streams-forever"))
    assert (exc.reason, exc.detail) == ("too_large", "streamed")


async def test_a_slow_server_hits_the_time_cap(fake: FakeMedia) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    exc = await refused(fetcher(fake, timeout=0.6), fake.url("media.twiliocdn.com", "/drips"))
    assert exc.reason == "timeout"
    assert loop.time() - started < 3


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml"])
async def test_a_type_outside_the_list_is_refused(fake: FakeMedia, content_type: str) -> None:
    fake.files["page"] = (content_type, b"<svg onload=alert(1)></svg>")
    exc = await refused(fetcher(fake), fake.url("media.twiliocdn.com", "/files/page"))
    assert exc.reason == "content_type"


async def test_a_certificate_from_another_ca_is_refused(fake: FakeMedia) -> None:
    import ssl

    exc = await refused(fetcher(fake, ssl_context=ssl.create_default_context()),
                        fake.twilio_url())
    assert exc.reason == "unreachable"


# -- through the pipeline -------------------------------------------------------------------


async def media_of(stack: Any, sid: str) -> list[dict[str, Any]] | None:
    async with stack.services.store.maker() as s:
        msg = await s.scalar(select(Message).where(Message.provider_id == sid))
        return None if msg is None else msg.media


async def settled(stack: Any, sid: str) -> list[dict[str, Any]]:
    async def done() -> bool:
        media = await media_of(stack, sid)
        return bool(media) and all(e["status"] != "pending" for e in media or [])

    await wait_until(done, timeout=15, what="media fetched")
    media = await media_of(stack, sid)
    assert media is not None
    return media


async def test_an_mms_is_stored_by_content_hash_and_recorded(make_stack: Any, fake: FakeMedia
                                                             ) -> None:
    async with make_stack() as stack:
        stack.services.extras[FETCHER] = fetcher(fake)
        sid = "MM" + "c" * 32
        await stack.sms("here is the house", sid=sid,
                        extra={"NumMedia": "1", "MediaUrl0": fake.twilio_url(),
                               "MediaContentType0": "image/png"})
        await stack.twilio.wait_for(PHONE)  # the bot answered
        (entry,) = await settled(stack, sid)
        digest = hashlib.sha256(PNG).hexdigest()
        assert entry == {"content_type": "image/png", "bytes": len(PNG), "sha256": digest,
                         "status": "stored"}
        assert (stack.settings.media_dir / digest).read_bytes() == PNG
        async with stack.services.store.maker() as s:
            event = await s.scalar(select(AuditEvent).where(AuditEvent.type == "message.media"))
        assert event is not None
        assert event.data["stored"] == 1
        assert "twilio" not in str(event.data)  # ids and counts, never the URL


async def test_a_refused_mms_is_recorded_and_the_bot_answers(make_stack: Any, fake: FakeMedia,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    async with make_stack() as stack:
        stack.services.extras[FETCHER] = fetcher(fake)
        fake.redirects["ME3"] = "https://169.254.169.254/latest/meta-data/"
        sid = "MM" + "d" * 32
        caplog.set_level("INFO", logger="gateway.media_intake")
        await stack.sms("photo attached", sid=sid,
                        extra={"NumMedia": "2", "MediaUrl0": fake.twilio_url("ME3"),
                               "MediaUrl1": "http://api.twilio.com/2010-04-01/x"})
        await stack.twilio.wait_for(PHONE)
        media = await settled(stack, sid)
        assert [e["status"] for e in media] == ["refused:host", "refused:scheme"]
        assert all(e["sha256"] is None for e in media)
        assert not stack.settings.media_dir.exists()
        logs = " ".join(r.getMessage() for r in caplog.records)
        assert "refused: host" in logs
        assert ACCOUNT_SID not in logs and PHONE not in logs and "169.254" not in logs


async def test_the_bot_answers_before_a_slow_attachment_is_fetched(make_stack: Any,
                                                                   fake: FakeMedia) -> None:
    async with make_stack() as stack:
        stack.services.extras[FETCHER] = fetcher(fake, timeout=3.0)
        sid = "MM" + "e" * 32
        await stack.sms("see the video", sid=sid,
                        extra={"NumMedia": "1",
                               "MediaUrl0": fake.url("media.twiliocdn.com", "/drips")})
        sent = await stack.twilio.wait_for(PHONE)
        assert sent[0].body.startswith("Hi! I'm the assistant")  # the bot, not the ack
        assert [e["status"] for e in await media_of(stack, sid) or []] == ["pending"]
        assert [e["status"] for e in await settled(stack, sid)] == ["refused:timeout"]


async def test_the_dashboard_serves_a_stored_attachment_safely(make_stack: Any,
                                                               fake: FakeMedia) -> None:
    async with make_stack() as stack:
        stack.services.extras[FETCHER] = fetcher(fake)
        sid = "MM" + "f" * 32
        await stack.sms("photo", sid=sid, extra={"NumMedia": "1", "MediaUrl0": fake.twilio_url()})
        await settled(stack, sid)
        async with stack.services.store.maker() as s:
            msg = await s.scalar(select(Message).where(Message.provider_id == sid))
        assert msg is not None and msg.lead_id is not None
        path = f"/admin/leads/{msg.lead_id}/media/{msg.id}/0"
        auth = {"Authorization": "Bearer admin-test-token"}
        async with stack.http.get(stack.base + path, headers=auth) as resp:
            body = await resp.read()
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "image/png"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in resp.headers["Content-Security-Policy"]
        assert body == PNG
        async with stack.http.get(stack.base + path) as resp:
            assert resp.status == 401  # the admin token, or the agent's signed link
        other = f"/admin/leads/{msg.lead_id + 1}/media/{msg.id}/0"
        for wrong in (other, path[:-1] + "1"):
            async with stack.http.get(stack.base + wrong, headers=auth) as resp:
                assert resp.status == 404
        async with stack.http.get(f"{stack.base}/admin/leads/{msg.lead_id}",
                                  headers=auth) as resp:
            assert path in await resp.text()  # the conversation view links it


async def test_erasing_the_lead_deletes_its_attachment_files(make_stack: Any, fake: FakeMedia
                                                             ) -> None:
    from gateway.governance import Governance

    async with make_stack() as stack:
        stack.services.extras[FETCHER] = fetcher(fake)
        sid = "MM" + "e" * 32
        await stack.sms("the kitchen", sid=sid,
                        extra={"NumMedia": "1", "MediaUrl0": fake.twilio_url(),
                               "MediaContentType0": "image/png"})
        (entry,) = await settled(stack, sid)
        path = stack.settings.media_dir / entry["sha256"]
        assert path.exists()
        s = stack.services
        result = await Governance(s.store, s.redis, s.clock,
                                  media_dir=s.settings.media_dir).erase(PHONE, by="test")
        assert not path.exists()
        assert result.counts["media_files"] == 1 and result.counts["attachments"] == 1
        assert await media_of(stack, sid) is None  # the record of it goes too
