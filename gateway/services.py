"""The long-lived collaborators one worker needs, built once at start and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.channels.base import Channel
from gateway.config.settings import Settings
from gateway.config.templates import Templates
from gateway.domain.language.detector import LanguageDetector
from gateway.infra.bot_client import BotClient
from gateway.infra.outbound import Outbox
from gateway.infra.queue import InboundQueue
from gateway.infra.timers import Clock, Timers
from gateway.messages import Inbound
from gateway.store.leads import Store
from gateway.store.models import Agent, Conversation, Lead, Message


class HandoffService(Protocol):
    """What the pipeline asks of the handoff engine (implemented in `gateway.handoff.engine`)."""

    async def begin(
        self,
        session: AsyncSession,
        *,
        lead: Lead,
        conversation: Conversation,
        reason: str,
        payload: dict[str, Any],
    ) -> str:
        """Route the lead, alert the chosen agent(s), start the accept timers.

        Returns the name to show the lead in place of `{agent_name}`.
        """
        ...

    async def on_lead_message(
        self, session: AsyncSession, *, lead: Lead, conversation: Conversation, message: Message
    ) -> None:
        """The lead wrote while the conversation is not in bot mode: relay, start SLA timers."""
        ...

    async def on_agent_message(
        self, session: AsyncSession, *, agent: Agent, inbound: Inbound, message: Message
    ) -> None:
        """A registered agent wrote or pressed a button: commands, relay to the lead."""
        ...

    def register_timers(self, timers: Timers) -> None:
        """Register the handoff's timer kinds."""
        ...


class FollowUpService(Protocol):
    """What the pipeline and the handoff ask of follow-up (`gateway.followup.silent`)."""

    async def restart(self, session: AsyncSession, lead: Lead, conv: Conversation, *,
                      first: bool = False) -> None:
        """The assistant asked a question: the silent-lead sequence starts again (`first`: the
        lead's first answer, nothing pending to move)."""
        ...

    async def stop(self, session: AsyncSession, lead_id: int) -> None:
        """Cancel the lead's pending follow-ups."""
        ...

    async def went_cold(self, session: AsyncSession, lead: Lead) -> None:
        """Schedule the one later check-in for a lead that went cold."""
        ...


class AppointmentService(Protocol):
    """Appointments (`gateway.followup.appointments`)."""

    async def set_by_agent(self, session: AsyncSession, agent: Agent, code: str, when: str,
                           tell: Any) -> None:
        """`APPT <code> <when>` from an agent."""
        ...

    async def on_lead_reply(self, session: AsyncSession, lead: Lead, message: Message
                            ) -> str | None:
        """The prospect's answer about an upcoming appointment, if the message is one."""
        ...


class FeedbackService(Protocol):
    """Feedback after a close (`gateway.followup.feedback`)."""

    async def closed(self, session: AsyncSession, lead: Lead, agent_id: int | None,
                     conversation_id: int, outcome: str) -> None:
        """An agent closed a lead: schedule the questions."""
        ...

    async def on_lead_reply(self, session: AsyncSession, lead: Lead, message: Message) -> bool:
        """True when the message answered an open question (it goes no further)."""
        ...


@dataclass
class Services:
    """Everything the pipeline and the handoff engine use."""

    settings: Settings
    store: Store
    redis: aioredis.Redis
    queue: InboundQueue
    timers: Timers
    outbox: Outbox
    channels: Mapping[str, Channel]
    """Adapter per message channel ("sms", "whatsapp", "telegram", "webchat")."""
    bot: BotClient
    language: LanguageDetector
    templates: Templates
    clock: Clock
    handoff: HandoffService | None = None
    followup: FollowUpService | None = None
    appointments: AppointmentService | None = None
    feedback: FeedbackService | None = None
    extras: dict[str, Any] = field(default_factory=dict)
