"""Which inbound addresses are agents': read once in a while, not on every message.

Every inbound message asks whether its sender is an agent (an agent's reply is relayed, a
lead's is answered). The agents come from config/agents.yml, synced into SQL when a process
starts (`sync_agents`), and change only then, so asking SQL on every message is one round
trip spent on an answer that almost never changes. The directory keeps the active agents'
phones and Telegram chats and reads them again after `ttl_seconds` (a process started with
a new agents.yml is seen by the others within that). A match is loaded fresh from SQL and
checked again, so a stale entry can never relay a message from an agent made inactive.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import Inbound
from gateway.store.models import Agent

TTL_SECONDS = 30.0


class AgentDirectory:
    """The active agents' addresses, cached per process."""

    def __init__(self, ttl_seconds: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Create an empty directory (filled on first use).

        Args:
            ttl_seconds: How long a read of the agents is used before the next.
            clock: Monotonic seconds (tests move it).
        """
        self.ttl = ttl_seconds
        self.clock = clock
        self._read_at: float | None = None
        self._ids: dict[tuple[str, str], int] = {}

    async def find(self, session: AsyncSession, inbound: Inbound) -> Agent | None:
        """The active agent who wrote, if the sender is an agent's phone or Telegram chat."""
        key = _key(inbound)
        if key is None:
            return None
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl:
            await self._read(session)
            self._read_at = now
        agent_id = self._ids.get(key)
        if agent_id is None:
            return None
        agent = await session.get(Agent, agent_id)
        if agent is None or not agent.active or _address(agent, key[0]) != key[1]:
            self._read_at = None  # changed since the read: read again next time
            return None
        return agent

    async def _read(self, session: AsyncSession) -> None:
        rows = await session.execute(
            select(Agent.id, Agent.phone, Agent.telegram_chat_id).where(Agent.active.is_(True)))
        ids: dict[tuple[str, str], int] = {}
        for agent_id, phone, chat in rows:
            if phone:
                ids[("phone", phone)] = agent_id
            if chat:
                ids[("telegram", chat)] = agent_id
        self._ids = ids


def _key(inbound: Inbound) -> tuple[str, str] | None:
    if inbound.identity_kind == "phone":
        return ("phone", inbound.address)
    if inbound.channel == "telegram":
        return ("telegram", inbound.address)
    return None


def _address(agent: Agent, kind: str) -> str | None:
    return agent.phone if kind == "phone" else agent.telegram_chat_id
