"""The media rule's decisions (`gateway.domain.media_policy`): each test fails if its rule goes."""

from __future__ import annotations

import pytest

from gateway.domain.media_policy import (
    TWILIO_MEDIA_HOSTS,
    address_class,
    address_refusal,
    host_allowed,
    sends_credentials,
    type_refusal,
    url_refusal,
)
from gateway.infra.media import MediaFetcher, MediaRefused, _PinnedResolver

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


@pytest.mark.parametrize("host", ["api.twilio.com", "media.twiliocdn.com", "mms.twiliocdn.com",
                                  "a.b.twiliocdn.com", "API.Twilio.com", "media.twiliocdn.com."])
def test_provider_hosts_are_allowed(host: str) -> None:
    assert host_allowed(host, TWILIO_MEDIA_HOSTS)


@pytest.mark.parametrize("host", [
    "twiliocdn.com",  # the wildcard covers names under the domain, not the domain itself
    "eviltwiliocdn.com", "twiliocdn.com.evil.example", "api.twilio.com.evil.example",
    "evil-api.twilio.com", "twilio.com", "127.0.0.1", "169.254.169.254", "localhost",
    "medіa.twiliocdn.com",  # a Cyrillic і: an IDN look-alike
])
def test_other_hosts_are_refused(host: str) -> None:
    assert not host_allowed(host, TWILIO_MEDIA_HOSTS)


@pytest.mark.parametrize(("url", "reason"), [
    (TWILIO, None),
    ("http://api.twilio.com/2010-04-01/x", "scheme"),
    ("ftp://api.twilio.com/x", "scheme"),
    ("https://AC1:token@api.twilio.com/x", "userinfo"),
    ("https://evil.example/x", "host"),
    ("https://127.0.0.1/x", "host"),
    ("https://[::1]/x", "host"),
    ("https://api.twilio.com:8443/x", "port"),
    ("https://api.twilio.com:99999/x", "malformed"),
    ("not a url", "malformed"),
    ("", "malformed"),
])
def test_url_rules(url: str, reason: str | None) -> None:
    assert url_refusal(url, TWILIO_MEDIA_HOSTS, {443}) == reason


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged as the IPv4 address
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"),
    ("fd00::1", "private"), ("::ffff:10.1.2.3", "private"),
    ("169.254.169.254", "link_local"), ("fe80::1", "link_local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("100.64.0.1", "not_global"),  # carrier-grade NAT: shared, not public
    ("nonsense", "malformed"),
])
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert address_class(address) == kind
    assert address_refusal(address) == kind


@pytest.mark.parametrize("address", ["54.172.60.1", "3.5.140.2", "2600:1f18::1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_class(address) is None


def test_loopback_only_through_an_explicit_network() -> None:
    assert address_refusal("127.0.0.1") == "loopback"
    assert address_refusal("127.0.0.1", ["127.0.0.1/32"]) is None
    # The exemption is that network only: nothing else private comes with it.
    assert address_refusal("127.0.0.2", ["127.0.0.1/32"]) == "loopback"
    assert address_refusal("169.254.169.254", ["127.0.0.1/32"]) == "link_local"


def test_the_fetcher_allows_no_network_by_default() -> None:
    assert MediaFetcher().allow_networks == ()


@pytest.mark.parametrize(("url", "sends"), [
    (TWILIO, True),
    ("https://API.TWILIO.COM/x", True),
    ("https://media.twiliocdn.com/x", False),
    ("https://mms.twiliocdn.com/x", False),
    ("https://evil.example/x", False),
    ("http://api.twilio.com/x", False),
    ("https://u:p@api.twilio.com/x", False),
])
def test_credentials_go_to_api_twilio_com_only(url: str, sends: bool) -> None:
    assert sends_credentials(url) is sends


@pytest.mark.parametrize(("content_type", "ok"), [
    ("image/jpeg", True), ("IMAGE/PNG; charset=binary", True), ("audio/ogg", True),
    ("video/mp4", True), ("application/pdf", True), ("text/vcard", True),
    ("image/svg+xml", False), ("text/html", False), ("application/octet-stream", False),
    ("application/zip", False), ("", False), (None, False),
])
def test_content_types(content_type: str | None, ok: bool) -> None:
    assert (type_refusal(content_type) is None) is ok


async def test_the_connectors_resolver_answers_only_vetted_hosts() -> None:
    pinned = _PinnedResolver()
    pinned.vetted[("media.twiliocdn.com", 443)] = ["54.172.60.1"]
    got = await pinned.resolve("media.twiliocdn.com", 443)
    assert [r["host"] for r in got] == ["54.172.60.1"]
    assert got[0]["hostname"] == "media.twiliocdn.com"  # TLS checks the name, not the address
    with pytest.raises(OSError):
        await pinned.resolve("evil.example", 443)
    with pytest.raises(OSError):
        await pinned.resolve("media.twiliocdn.com", 8443)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://api.twilio.com/x", "scheme"), ("https://evil.example/x", "host"),
    ("https://127.0.0.1/x", "host"), ("https://u:p@api.twilio.com/x", "userinfo"),
])
async def test_the_fetcher_refuses_before_resolving(url: str, reason: str) -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["54.172.60.1"]

    with pytest.raises(MediaRefused) as info:
        await MediaFetcher(resolve=resolve).fetch(url)
    assert info.value.reason == reason
    assert asked == []
    assert "api.twilio.com/x" not in str(info.value)  # never the URL


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("10.0.0.5", "private"), ("169.254.169.254", "link_local")])
async def test_the_fetcher_refuses_a_provider_name_resolving_inside(address: str, kind: str
                                                                    ) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["54.172.60.1", address]  # one bad address is enough

    with pytest.raises(MediaRefused) as info:
        await MediaFetcher(resolve=resolve).fetch("https://media.twiliocdn.com/f.png")
    assert (info.value.reason, info.value.detail) == ("address", kind)
