"""Signed JSON webhooks: the envelope POSTed to the endpoint's URL.

Headers: `Pronto-Signature: t=…,v1=…` (see `gateway.crm.signing`), `Pronto-Event` (the event
name) and `Pronto-Delivery` (the delivery id, the same on every retry, for receivers to
dedupe on). Any 2xx is success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import aiohttp

from gateway.config.crm import Endpoint
from gateway.crm.base import DeliveryFailed, Outgoing, http_failure
from gateway.crm.signing import HEADER, signature_header

USER_AGENT = "Pronto-CRM/1"


def encode(envelope: object) -> bytes:
    """The JSON body: compact and UTF-8 (receivers verify these exact bytes)."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    """Delivers events to a signed webhook endpoint."""

    def __init__(self, endpoint: Endpoint, http: aiohttp.ClientSession, *, timeout: float,
                 wall: Callable[[], float] = time.time) -> None:
        """Create the sender.

        Args:
            endpoint: the endpoint (URL and signing secret).
            http: the shared HTTP client.
            timeout: seconds one attempt may take.
            wall: Unix time for the signature (real time even when tests move the
                scheduling clock: receivers check it against theirs).
        """
        self.endpoint, self.http, self.wall = endpoint, http, wall
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, item: Outgoing) -> str | None:
        """POST the signed envelope; raises `DeliveryFailed` unless the answer is 2xx."""
        body = encode(item.envelope)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            HEADER: signature_header(self.endpoint.secret.get_secret_value(), body,
                                     int(self.wall())),
            "Pronto-Event": item.event,
            "Pronto-Delivery": str(item.delivery_id),
        }
        try:
            async with self.http.post(self.endpoint.url, data=body, headers=headers,
                                      timeout=self.timeout, allow_redirects=False) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return None
                raise http_failure(resp.status, resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(type(exc).__name__, retryable=True) from None
