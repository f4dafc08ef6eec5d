"""What every CRM adapter shares: the item to deliver, the one error, the small Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.errors import ProntoError


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery as an adapter sees it.

    Attributes:
        delivery_id: the `CrmDelivery` id (receivers dedupe on it: `Pronto-Delivery`).
        event: the event name ("lead.qualified").
        envelope: the event as JSON-ready data (see `gateway.crm.envelope`).
        attempt: 1 for the first try.
        external_ref: what this CRM calls the lead, learnt from an earlier delivery.
    """

    delivery_id: int
    event: str
    envelope: dict[str, Any]
    attempt: int
    external_ref: str | None = None


class DeliveryFailed(ProntoError):
    """A delivery did not go through.

    Attributes:
        retryable: worth another try later (timeouts, 5xx, 429); otherwise it is a dead letter
            at once (the receiver refused it: another try would get the same answer).
        retry_after: the wait the receiver asked for, in seconds, if it said.
    """

    def __init__(self, detail: str, *, retryable: bool, retry_after: float | None = None
                 ) -> None:
        super().__init__(detail)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    """A CRM adapter: delivers one event, or raises `DeliveryFailed`."""

    async def deliver(self, item: Outgoing) -> str | None:
        """Deliver `item`; returns the CRM's reference for the lead when it learnt one."""
        ...


def http_failure(status: int, retry_after: str | None = None) -> DeliveryFailed:
    """The failure for an HTTP answer that is not 2xx, classified by meaning.

    408, 425, 429 and 5xx are transient; any other 4xx means the receiver refuses this
    request as it is (bad signature, unknown endpoint, invalid body): retrying cannot help.
    """
    wait: float | None = None
    if retry_after and retry_after.strip().isascii() and retry_after.strip().isdigit():
        wait = float(retry_after.strip())
    transient = status in (408, 425, 429) or status >= 500
    return DeliveryFailed(f"http {status}", retryable=transient, retry_after=wait)
