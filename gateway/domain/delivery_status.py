"""Which delivery status a callback may set: providers send them out of order (Twilio says so:
a `sent` can reach us after `delivered`), and a stage once reached is not undone.

Pure: no I/O.
"""

from __future__ import annotations

_STAGE = {
    "accepted": 1, "scheduled": 1, "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivery_unknown": 4, "partially_delivered": 4,
    "delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5,
    "read": 6,
}
"""Twilio's message statuses by stage (WhatsApp's `read` after `delivered`)."""


def supersedes(new: str, old: str | None) -> bool:
    """Whether a callback's `new` status replaces the stored `old` one: a later stage, or the
    same stage (the later word on it). A status without a stage (Pronto's own, or one a
    provider adds) neither blocks nor is blocked."""
    a, b = _STAGE.get(new), _STAGE.get(old or "")
    return a is None or b is None or a >= b
