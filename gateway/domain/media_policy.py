"""Which media URL Pronto may fetch, and from which address: the pure decisions behind
`gateway.infra.media` (issue 13's media rule).

A lead's attachment is fetched only from the provider's own hosts, over HTTPS, from a public
address; every redirect hop is judged again. The provider's credentials go to its API host
only, never to the CDN it redirects to. Each function returns a refusal reason (a short token
the message record and the logs carry) or None when the value is acceptable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

TWILIO_MEDIA_HOSTS = ("api.twilio.com", "*.twiliocdn.com")
"""Twilio serves `MediaUrl{i}` from its API and redirects to its CDN (media./mms.twiliocdn.com)."""
CREDENTIAL_HOSTS = frozenset({"api.twilio.com"})
"""The only host that may see the account SID and auth token (HTTP Basic)."""
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

ALLOWED_TYPES = frozenset({
    # Images a phone sends; never SVG (it is a document that can run script when served back).
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif",
    # Voice notes and audio clips (WhatsApp sends OGG/Opus, iPhones AMR/AAC/MP4).
    "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav",
    "audio/x-wav", "audio/webm",
    # Short videos.
    "video/mp4", "video/3gpp", "video/quicktime", "video/webm",
    # Documents a buyer sends an agent: a pre-approval letter, a contact card.
    "application/pdf", "text/vcard", "text/x-vcard",
})
"""Media types Pronto stores; anything else (HTML, scripts, archives, SVG) is refused."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split into what the rules look at (scheme and host lower-cased)."""

    scheme: str
    host: str
    port: int
    has_userinfo: bool


def parse_target(url: str) -> Target | None:
    """Split `url`; None when it is not a URL with a host (malformed, or a bad port)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return None
    scheme = parts.scheme.lower()
    default = 443 if scheme == "https" else 80
    return Target(scheme, host, port if port is not None else default,
                  parts.username is not None or parts.password is not None)


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether `host` matches one of `patterns`: an exact name, or `*.domain` for any name
    under that domain (not the domain itself, and never a name that merely ends alike:
    `eviltwiliocdn.com` is not under `twiliocdn.com`)."""
    host = host.rstrip(".").lower()
    if not host.isascii():
        return False  # an IDN look-alike is never the provider's host
    for pattern in patterns:
        p = pattern.strip().rstrip(".").lower()
        if p.startswith("*."):
            if host.endswith(p[1:]) and len(host) > len(p) - 1:
                return True
        elif p and host == p:
            return True
    return False


def url_refusal(url: str, hosts: Iterable[str], ports: Collection[int]) -> str | None:
    """Why `url` may not be fetched (or None): "malformed", "scheme" (not HTTPS), "userinfo"
    (credentials inside the URL), "host" (not a provider host), "port"."""
    target = parse_target(url)
    if target is None:
        return "malformed"
    if target.scheme != "https":
        return "scheme"
    if target.has_userinfo:
        return "userinfo"
    if not host_allowed(target.host, hosts):
        return "host"
    if target.port not in ports:
        return "port"
    return None


def address_class(address: str) -> str | None:
    """The class that makes `address` unfit to fetch from, or None for a public address.

    Classes: "loopback", "private", "link_local" (169.254/16 holds cloud metadata services),
    "multicast", "reserved", "unspecified", "not_global" (shared, documentation, benchmark…),
    "malformed". An IPv4 address mapped into IPv6 is judged as the IPv4 address it is.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "malformed"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    checks = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
              ("link_local", ip.is_link_local), ("multicast", ip.is_multicast),
              ("reserved", ip.is_reserved), ("private", ip.is_private),
              ("not_global", not ip.is_global))
    return next((name for name, hit in checks if hit), None)


def address_refusal(address: str, allow_networks: Iterable[str] = ()) -> str | None:
    """`address_class(address)`, unless an explicitly allowed network holds the address.

    `allow_networks` exists for tests that run a fake media server on 127.0.0.1; the settings
    never fill it, so production refuses loopback and private addresses without exception.
    """
    refusal = address_class(address)
    if refusal is None or refusal == "malformed":
        return refusal
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    for network in allow_networks:
        if ip in ipaddress.ip_network(network, strict=False):
            return None
    return refusal


def sends_credentials(url: str, credential_hosts: Collection[str] = CREDENTIAL_HOSTS) -> bool:
    """Whether the provider's credentials may go with a request to `url`: HTTPS to a
    credential host only (a redirect to the CDN, or anywhere else, gets none)."""
    target = parse_target(url)
    return (target is not None and target.scheme == "https" and not target.has_userinfo
            and target.host in credential_hosts)


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header ("image/jpeg; x=1" → "image/jpeg")."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def type_refusal(content_type: str | None, allowed: Collection[str] = ALLOWED_TYPES
                 ) -> str | None:
    """"content_type" when the response's media type is not one Pronto stores, else None."""
    return None if media_type(content_type) in allowed else "content_type"
