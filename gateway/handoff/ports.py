"""What the agent-command and ladder-timer handlers need from the handoff engine.

`agent.py` and `timers.py` take a `HandoffPort` rather than the engine class itself, so the
engine imports them and nothing imports the engine back (no cycle). `engine.Handoff` is the one
implementation; the protocol is checked structurally by mypy where the engine passes itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.handoff import HandoffConfig
from gateway.domain import escalation as esc
from gateway.infra.timers import Timers
from gateway.messages import Button
from gateway.store.models import Agent, Assignment, Conversation, Lead

if TYPE_CHECKING:
    from gateway.services import Services


class HandoffPort(Protocol):
    """The engine's state and messaging helpers, as the handlers see them."""

    services: Services
    config: HandoffConfig
    timers: Timers

    async def next_round(
        self, session: AsyncSession, lead: Lead, conversation: Conversation, *, attempt: int
    ) -> list[Agent]:
        """Offer the lead to the next eligible agent(s), or escalate."""

    async def after_decline(self, session: AsyncSession, a: Assignment) -> None:
        """Next round after an offer expired or was passed."""

    async def alert(
        self, session: AsyncSession, agent: Agent, lead: Lead, code: str, template: str,
        *, buttons: bool = True, **extra: Any,
    ) -> None:
        """Send a lead alert to an agent."""

    async def tell_agent(
        self, session: AsyncSession, to: Agent, template: str, **values: Any
    ) -> None:
        """Send an agent a template in their language."""

    async def notify(
        self, session: AsyncSession, agent: Agent, text: str, *, lead_id: int | None = None,
        buttons: tuple[Button, ...] = (), single: bool = False,
    ) -> None:
        """Queue a message to an agent on their channels."""

    async def send_lead(
        self, session: AsyncSession, lead: Lead, conv: Conversation, template: str,
        **values: Any,
    ) -> None:
        """Send the lead a template in its language."""

    def agent_language(self, agent: Agent) -> str:
        """The language of an agent's alerts."""

    def link(self, lead_id: int) -> str:
        """The transcript link for agent alerts."""

    def reply_ladder(self, now: datetime) -> esc.ReplyLadder:
        """The reply-lapse ladder in force at `now`."""
