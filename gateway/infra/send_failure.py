"""A send that failed for good, as the outbox reports it to whoever acts on its meaning.

The outbox (infra) knows only that a send failed and the provider's code; what that means for
the lead and the agent (an opt-out at the carrier, a relay that never arrived) is decided
above it (`gateway.send_failures`), which the app sets as `Outbox.on_failure`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class SendFailure:
    """A message that will not reach its recipient.

    Attributes:
        message_id: the stored outbound message.
        lead_id: its lead (None for agent alerts).
        code: the provider's error code ("21610", "63016"…) or Pronto's reason ("stale").
        opted_out: the provider says the recipient opted out at the carrier.
    """

    message_id: int | None
    lead_id: int | None
    code: str | None
    opted_out: bool = False


FailureListener = Callable[[AsyncSession, SendFailure], Awaitable[None]]
