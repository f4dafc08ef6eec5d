"""The agent directory on real SQL: who is an agent is read once in a while, and a stale entry
never makes a message an agent's."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from gateway.messages import Inbound
from gateway.store.agent_directory import AgentDirectory
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.leads import Store
from gateway.store.models import Agent
from tests.integration.handoff_harness import reset_database

PHONE, CHAT = "+13055550999", "4242"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    if os.environ.get("TEST_DATABASE_URL"):
        await reset_database(url)
    await migrate(url)
    engine = make_engine(url)
    yield Store(make_sessionmaker(engine))
    await engine.dispose()


def _sms(phone: str) -> Inbound:
    return Inbound(channel="sms", address=phone, text="hi", provider_id="SM1",
                   received_at=datetime(2026, 12, 1, tzinfo=UTC))


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _add(store: Store, key: str, phone: str | None, chat: str | None = None) -> int:
    async with store.transaction() as s:
        agent = Agent(key=key, name=key.title(), phone=phone, telegram_chat_id=chat, active=True)
        s.add(agent)
        await s.flush()
        return agent.id


async def test_agents_are_found_by_phone_and_telegram_chat(store: Store) -> None:
    ana = await _add(store, "ana", PHONE, CHAT)
    directory = AgentDirectory()
    async with store.maker() as s:
        found = await directory.find(s, _sms(PHONE))
        assert found is not None and found.id == ana
        chat = Inbound(channel="telegram", address=CHAT, text="hi", provider_id="1",
                       received_at=datetime(2026, 12, 1, tzinfo=UTC))
        found = await directory.find(s, chat)
        assert found is not None and found.id == ana
        assert await directory.find(s, _sms("+13055550100")) is None  # a lead


async def test_an_agent_made_inactive_since_the_read_is_not_an_agent(store: Store) -> None:
    await _add(store, "ana", PHONE)
    directory = AgentDirectory(ttl_seconds=3600)
    async with store.maker() as s:
        assert await directory.find(s, _sms(PHONE)) is not None
    async with store.transaction() as s:
        await s.execute(update(Agent).values(active=False))
    async with store.maker() as s:
        assert await directory.find(s, _sms(PHONE)) is None  # checked against the row


async def test_a_new_agent_is_seen_after_the_ttl(store: Store) -> None:
    ticks = Ticks()
    directory = AgentDirectory(ttl_seconds=30, clock=ticks)
    async with store.maker() as s:
        assert await directory.find(s, _sms(PHONE)) is None
    ben = await _add(store, "ben", PHONE)
    ticks.now = 10
    async with store.maker() as s:
        assert await directory.find(s, _sms(PHONE)) is None  # within the TTL: the old read
    ticks.now = 31
    async with store.maker() as s:
        found = await directory.find(s, _sms(PHONE))
        assert found is not None and found.id == ben


async def test_the_ack_lane_knows_leads_and_active_agents_by_their_address(
        store: Store) -> None:
    """The lane's one plain-SQL look (`ack_lane._known`), on SQLite and PostgreSQL alike."""
    from gateway.ack_lane import _known
    from gateway.store.models import Identity, Lead

    await _add(store, "ana", PHONE, CHAT)
    gone = await _add(store, "bo", "+13055550998", "4343")
    async with store.transaction() as s:
        await s.execute(update(Agent).where(Agent.id == gone).values(active=False))
        lead = Lead(phone="+13055550997")
        s.add(lead)
        await s.flush()
        s.add(Identity(lead_id=lead.id, kind="phone", address="+13055550997"))
        s.add(Identity(lead_id=lead.id, kind="webchat", address="w-1"))

    def inbound(channel: str, address: str) -> Inbound:
        return Inbound(channel=channel, address=address, text="hi", provider_id="X1",
                       received_at=datetime(2026, 12, 1, tzinfo=UTC))

    async def known(channel: str, address: str) -> bool:
        return await store.read_first(*_known(inbound(channel, address))) is not None

    assert await known("sms", PHONE) and await known("whatsapp", PHONE)  # an agent
    assert await known("telegram", CHAT)  # an agent's chat
    assert await known("sms", "+13055550997") and await known("webchat", "w-1")  # a lead
    assert not await known("sms", "+13055550998")  # an agent no longer active
    assert not await known("telegram", "4343")
    assert not await known("sms", "+13055550996") and not await known("webchat", "w-2")
    assert not await known("webchat", PHONE)  # an agent's phone is no web-chat session
