"""A safe fetcher for a lead's attachments (MMS, WhatsApp images): issue 13's media rule.

What it guarantees, each hop of a redirect chain judged again (`gateway.domain.media_policy`):

- HTTPS only, to a host on the provider's allowlist (Twilio: api.twilio.com, *.twiliocdn.com),
  on an allowed port (443), with no credentials inside the URL;
- the host is resolved here and every address vetted (no loopback, private, link-local,
  multicast, reserved or unspecified address); the connection goes to exactly the addresses
  vetted, through a resolver that answers nothing else, so DNS cannot change its answer
  between the check and the connect (rebinding);
- redirects are followed by hand, at most `max_redirects`;
- a size cap, on Content-Length and on the bytes actually streamed; a total time cap over the
  whole chain; an allowlist of media types;
- HTTP Basic credentials (account SID and token) go to api.twilio.com only, never to the CDN
  a redirect leads to.

Every refusal is a `MediaRefused` with a short `reason`; neither the exception nor the logs
carry the URL (Twilio's media URLs hold the account SID) or anything of the lead.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from gateway.domain.media_policy import (
    ALLOWED_TYPES,
    CREDENTIAL_HOSTS,
    REDIRECT_STATUSES,
    TWILIO_MEDIA_HOSTS,
    address_refusal,
    media_type,
    parse_target,
    sends_credentials,
    type_refusal,
    url_refusal,
)
from gateway.errors import ProntoError

Resolve = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves (host, port) to IP address strings; injectable so tests route names locally."""
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_REDIRECTS = 3
_CHUNK = 64 * 1024


class MediaRefused(ProntoError):
    """A media URL was not fetched, for `reason`.

    Reasons: "malformed", "scheme", "userinfo", "host", "port" (the URL); "address" (a
    resolved address is not public; `detail` names its class), "resolve" (no address);
    "redirects" (too many, or a redirect without a Location); "content_type"; "too_large";
    "timeout"; "http_<status>"; "unreachable" (connection or TLS failure).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"media refused: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Fetched:
    """One fetched attachment."""

    content_type: str
    body: bytes
    sha256: str


async def system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host` (TCP), in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedResolver(AbstractResolver):
    """aiohttp's resolver for one fetch: it answers only the addresses the fetcher vetted for
    a host, so the connector can reach nothing the rules did not pass."""

    def __init__(self) -> None:
        self.vetted: dict[tuple[str, int], list[str]] = {}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = self.vetted.get((host.rstrip(".").lower(), port))
        if not addresses:
            raise OSError(f"{host} was not vetted")  # aiohttp turns it into a connector error
        return [ResolveResult(
            hostname=host, host=a, port=port,
            family=socket.AF_INET6 if ":" in a else socket.AF_INET,
            proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        """Nothing to release."""


class MediaFetcher:
    """Fetches one media URL under the rules above; one instance serves many fetches."""

    def __init__(
        self,
        *,
        hosts: Sequence[str] = TWILIO_MEDIA_HOSTS,
        credentials: tuple[str, str] | None = None,
        credential_hosts: Collection[str] = CREDENTIAL_HOSTS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        allowed_types: Collection[str] = ALLOWED_TYPES,
        resolve: Resolve = system_resolve,
        ssl_context: ssl.SSLContext | None = None,
        ports: Collection[int] = (443,),
        allow_networks: Sequence[str] = (),
    ) -> None:
        """Configure the rules.

        Args:
            hosts: the provider's media hosts (`name` or `*.domain`).
            credentials: (account SID, auth token) sent as HTTP Basic to `credential_hosts`.
            credential_hosts: the only hosts that get `credentials`.
            max_bytes: the size cap of one attachment.
            timeout: the time cap, seconds, of one fetch with all its redirects.
            max_redirects: redirects followed before giving up.
            allowed_types: the media types stored.
            resolve: the resolver (tests route provider names to a local fake).
            ssl_context: TLS trust (default: the system's CAs; tests pass a test CA).
            ports: allowed ports (443; tests add the fake's port).
            allow_networks: networks exempt from the address rule. Test-only: the settings
                never set it, so by default loopback and private addresses are refused.
        """
        self.hosts = tuple(hosts)
        self.credentials = credentials
        self.credential_hosts = frozenset(h.lower() for h in credential_hosts)
        self.max_bytes, self.timeout, self.max_redirects = max_bytes, timeout, max_redirects
        self.allowed_types = frozenset(allowed_types)
        self.resolve = resolve
        self.ssl_context = ssl_context
        self.ports = frozenset(ports)
        self.allow_networks = tuple(allow_networks)

    async def fetch(self, url: str) -> Fetched:
        """Fetch `url`, following redirects under the rules.

        Raises:
            MediaRefused: a rule refused the URL, a hop or the response, or the fetch failed.
        """
        pinned = _PinnedResolver()
        connector = aiohttp.TCPConnector(resolver=pinned, use_dns_cache=False,
                                         ssl=self.ssl_context or True, force_close=True)
        try:
            async with asyncio.timeout(self.timeout):
                # No cookies kept and no proxy from the environment: each hop is exactly the
                # request judged here.
                async with aiohttp.ClientSession(
                        connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                        trust_env=False, auto_decompress=True) as session:
                    return await self._follow(session, pinned, url)
        except TimeoutError:
            raise MediaRefused("timeout") from None
        except aiohttp.ClientError as exc:
            raise MediaRefused("unreachable", type(exc).__name__) from None
        except ValueError:  # a URL or Location yarl cannot take
            raise MediaRefused("malformed") from None

    async def _follow(self, session: aiohttp.ClientSession, pinned: _PinnedResolver,
                      url: str) -> Fetched:
        for _hop in range(self.max_redirects + 1):
            await self._vet(pinned, url)
            headers = {"Accept-Encoding": "identity", "User-Agent": "Pronto-media/1"}
            if self.credentials is not None and sends_credentials(url, self.credential_hosts):
                sid, token = self.credentials
                headers["Authorization"] = "Basic " + base64.b64encode(
                    f"{sid}:{token}".encode()).decode()
            async with session.get(URL(url, encoded=True), headers=headers,
                                   allow_redirects=False) as resp:
                if resp.status in REDIRECT_STATUSES:
                    location = resp.headers.get("Location")
                    if not location:
                        raise MediaRefused("redirects", "no location")
                    url = str(resp.url.join(URL(location, encoded=True)))
                    continue
                if resp.status != 200:
                    raise MediaRefused(f"http_{resp.status}")
                return await self._body(resp)
        raise MediaRefused("redirects", f"more than {self.max_redirects}")

    async def _vet(self, pinned: _PinnedResolver, url: str) -> None:
        """Judge one hop's URL and addresses; pin the addresses for the connector."""
        refusal = url_refusal(url, self.hosts, self.ports)
        if refusal is not None:
            raise MediaRefused(refusal)
        target = parse_target(url)
        assert target is not None  # url_refusal returned None
        try:
            addresses = list(await self.resolve(target.host, target.port))
        except OSError:
            raise MediaRefused("resolve") from None
        if not addresses:
            raise MediaRefused("resolve")
        for address in addresses:
            # Any bad address refuses the host: a name that resolves partly inside the network
            # is not the provider's CDN.
            bad = address_refusal(address, self.allow_networks)
            if bad is not None:
                raise MediaRefused("address", bad)
        pinned.vetted[(target.host, target.port)] = addresses

    async def _body(self, resp: aiohttp.ClientResponse) -> Fetched:
        if type_refusal(resp.headers.get("Content-Type"), self.allowed_types):
            raise MediaRefused("content_type", media_type(resp.headers.get("Content-Type")))
        if resp.content_length is not None and resp.content_length > self.max_bytes:
            raise MediaRefused("too_large", "content-length")
        digest, parts, size = hashlib.sha256(), [], 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:  # a server that lies about, or omits, its length
                raise MediaRefused("too_large", "streamed")
            digest.update(chunk)
            parts.append(chunk)
        return Fetched(media_type(resp.headers.get("Content-Type")), b"".join(parts),
                       digest.hexdigest())
