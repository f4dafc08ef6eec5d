"""DESIGN §1.9 as a check: every waiting state has a next step, every queued send an owner.

`violations(...)` reads SQL (and Redis, when given the timers and the queue) and lists what
breaks the invariant, one line per finding with ids only; `assert_invariants(...)` fails a
test with that list. Call it at a quiet point of a scenario (nothing mid-processing).

- A conversation waiting for an agent or the pool (status "pending"/"pool") has an owner
  (`agent_id`) or a pending timer.
- A conversation with the bot that has an unanswered inbound message (`bot_status` "pending")
  has a pending timer (the bot retry) or an event still in the inbound queue.
- No outbound message stays "queued" and unsent (no provider id; Twilio's own "queued" has
  one) longer than the outbox lease: a live process sends it.
- Every pending SQL timer is in the Redis index (due or claimed), so it will fire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.domain.utc import as_utc
from gateway.infra.outbound import LEASE_SECONDS
from gateway.infra.queue import InboundQueue
from gateway.infra.timers import Timers
from gateway.messages import utcnow
from gateway.store.leads import Store
from gateway.store.models import Conversation, Message, Timer


async def violations(
    store: Store,
    *,
    timers: Timers | None = None,
    queue: InboundQueue | None = None,
    outbox_lease: timedelta = timedelta(seconds=LEASE_SECONDS),
    now: datetime | None = None,
) -> list[str]:
    """What breaks the invariant right now (empty when it holds).

    Args:
        store: the SQL store.
        timers: when given, pending timers are checked against its Redis index.
        queue: when given, queued inbound events count as the owner of an unanswered message.
        outbox_lease: how long a queued send may wait (the outbox's lease).
        now: wall-clock now (message timestamps are wall-clock).
    """
    now = now or utcnow()
    found: list[str] = []
    async with store.maker() as s:
        pending_timers = (await s.execute(
            select(Timer.id, Timer.lead_id).where(Timer.status == "pending"))).all()
        timed_leads = {lead for _, lead in pending_timers if lead is not None}
        waiting = (await s.execute(
            select(Conversation).where(Conversation.status.in_(("pending", "pool"))))).scalars()
        for conv in waiting:
            if conv.agent_id is None and conv.lead_id not in timed_leads:
                found.append(f"conversation {conv.id} (lead {conv.lead_id}) is {conv.status} "
                             "with no pending timer and no owner")
        unanswered = (await s.execute(
            select(Message.id, Message.lead_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.direction == "in", Message.bot_status == "pending",
                   Conversation.status == "bot"))).all()
        in_queue = await queue.depth() if queue is not None else 0
        for mid, lead in unanswered:
            if lead not in timed_leads and not in_queue:
                found.append(f"message {mid} (lead {lead}) waits for the bot with no pending "
                             "timer and nothing queued")
        queued = (await s.execute(
            select(Message.id, Message.lead_id, Message.created_at)
            .where(Message.direction == "out", Message.status == "queued",
                   Message.provider_id.is_(None)))).all()
        for mid, lead, created in queued:
            if now - as_utc(created) > outbox_lease:
                found.append(f"outbound message {mid} (lead {lead}) queued for "
                             f"{(now - as_utc(created)).total_seconds():.0f}s")
    if timers is not None and pending_timers:
        indexed = {int(x) for x in await timers.redis.zrange(timers.zset, 0, -1)}
        indexed |= {int(x) for x in await timers.redis.zrange(timers.claimed, 0, -1)}
        for tid, lead in pending_timers:
            if tid not in indexed:
                found.append(f"timer {tid} (lead {lead}) is pending but not in the Redis index")
    return found


async def assert_invariants(
    store: Store,
    *,
    timers: Timers | None = None,
    queue: InboundQueue | None = None,
    outbox_lease: timedelta = timedelta(seconds=LEASE_SECONDS),
    now: datetime | None = None,
) -> None:
    """Fail with every violation found (see `violations`)."""
    found = await violations(store, timers=timers, queue=queue, outbox_lease=outbox_lease,
                             now=now)
    assert not found, "invariant broken:\n" + "\n".join(found)
