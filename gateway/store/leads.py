"""SQL operations the pipeline needs: transactions with after-commit hooks, leads, messages,
audit events. Pure data access; decisions live in the domain modules."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.domain.delivery_status import supersedes
from gateway.messages import Inbound, utcnow
from gateway.store.models import (
    AuditEvent,
    Consent,
    Conversation,
    Identity,
    Lead,
    Message,
)
from gateway.store.unique import insert_unless_exists

log = logging.getLogger(__name__)
FIRST_INBOUND_BASIS = "The prospect wrote to us first; we answer on the same channel."
AfterCommit = Callable[[], Awaitable[None]]
_HOOKS = "pronto_after_commit"


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the session's transaction has committed (sends, Redis indexing).

    I/O that must not happen unless the state change is durable goes here, so a rolled-back
    decision never sends an alert.
    """
    session.info.setdefault(_HOOKS, []).append(hook)


def on_commit(session: AsyncSession, effect: Callable[[], None]) -> None:
    """Run a cheap synchronous `effect` (a metric) once the transaction has committed, so a
    rolled-back decision (a lost race) is never counted."""
    async def run() -> None:
        effect()

    after_commit(session, run)


def audit(
    session: AsyncSession,
    type_: str,
    *,
    lead_id: int | None = None,
    agent_id: int | None = None,
    at: datetime | None = None,
    **data: Any,
) -> None:
    """Record one audit event in the current transaction. Never pass message bodies."""
    session.add(
        AuditEvent(lead_id=lead_id, agent_id=agent_id, type=type_, data=data, at=at or utcnow())
    )
    if type_.startswith("escalation."):
        # Every rung of the ladder is audited through here: one place counts them all.
        on_commit(session, metrics.ESCALATIONS.labels(step=type_.removeprefix("escalation.")).inc)


_HOLDS_WRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("pronto_holds_write",
                                                                   default=False)
"""Set while this task runs a serialised transaction: a nested one must not wait for itself."""


class Store:
    """Owns the session factory; hands out transactions."""

    def __init__(
        self, maker: async_sessionmaker[AsyncSession], *, serialize_writes: bool = False
    ) -> None:
        """Create the store.

        Args:
            maker: the session factory.
            serialize_writes: run this process's transactions one at a time (SQLite). SQLite
                has one writer at a time; without this, concurrent transactions of one
                process wait for its lock in SQLite's busy handler, which sleeps up to 100 ms
                a try on a worker thread, and under load the waits, not the work, make the
                latency. Queued on an asyncio lock instead, each starts the moment the last
                commits. Reads (`maker()`) are not serialised: WAL lets them run alongside.
        """
        self.maker = maker
        self._writes = asyncio.Lock() if serialize_writes else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction; after it commits, its after-commit hooks run in order (outside it,
        and outside the write lock: a hook may open transactions of its own)."""
        async with self._write_lock():
            async with self.maker() as session:
                async with session.begin():
                    yield session
                hooks: list[AfterCommit] = session.info.pop(_HOOKS, [])
        for hook in hooks:
            try:
                await hook()
            except Exception:  # one failed effect must not hide the others
                log.exception("after-commit hook failed")

    @asynccontextmanager
    async def _write_lock(self) -> AsyncIterator[None]:
        """SQLite's one writer at a time (`serialize_writes`), taken once per task: a write
        inside a transaction this task holds does not wait for itself."""
        if self._writes is None or _HOLDS_WRITE.get():
            yield
            return
        async with self._writes:
            token = _HOLDS_WRITE.set(True)
            try:
                yield
            finally:
                _HOLDS_WRITE.reset(token)

    @property
    def engine(self) -> AsyncEngine:
        """The engine behind the sessions."""
        engine = self.maker.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        return engine

    async def write_one(self, statement: Executable) -> int:
        """Run one write statement in its own transaction, as one round trip (AUTOCOMMIT: no
        BEGIN and COMMIT of their own); returns the rows it matched. For a write that needs
        nothing else in its transaction, on a hot path (recording a send's outcome)."""
        async with self._write_lock(), self.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return int((await auto.execute(statement)).rowcount)

    async def read_first(self, statement: Executable,
                         params: dict[str, Any] | None = None) -> Any:
        """The first row of one read statement with its `params` (None when there is none),
        outside any transaction: one round trip. A session's read costs three with asyncpg
        (BEGIN, the query, ROLLBACK), and on a hot path (the acknowledgement lane) those were
        most of it.
        """
        async with self.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return (await auto.execute(statement, params)).first()


async def find_or_create_lead(
    session: AsyncSession, inbound: Inbound, default_language: str
) -> tuple[Lead, bool]:
    """The lead behind an identity, created on first contact. Returns (lead, created)."""
    lead = (await session.execute(_by_identity(inbound))).scalars().first()
    if lead is not None:
        _seen_on(lead, inbound)
        return lead, False
    return await _create_lead(session, inbound, default_language)


async def find_or_create_lead_in_conversation(
    session: AsyncSession, inbound: Inbound, default_language: str
) -> tuple[Lead, Conversation, bool]:
    """`find_or_create_lead` and `current_conversation` in one: a known lead and its open
    conversation are one query (not two), and a new lead's conversation is created without
    looking for one. A conversation opened here is opened by the lead's message, and stored
    with it as the last one (no UPDATE after the INSERT). Returns (lead, conversation, created).
    """
    q = (_by_identity(inbound).add_columns(Conversation)
         .outerjoin(Conversation, _open_of(Lead.id)).order_by(Conversation.id.desc()).limit(1))
    row = (await session.execute(q)).first()
    if row is not None:
        lead, conv = row
        _seen_on(lead, inbound)
        at = inbound.received_at
        return lead, conv if conv is not None else await _open(session, lead, at), False
    lead, created = await _create_lead(session, inbound, default_language, audited=False)
    if not created:
        return lead, await current_conversation(session, lead), False
    # The lead's `lead.created` is audited after the conversation's flush, not before it:
    # the two audit rows (created, opened) go in one INSERT at the message's flush, one
    # statement fewer a new lead.
    return lead, await _open(session, lead, inbound.received_at, created_from=inbound), True


async def lead_with_conversation(
    session: AsyncSession, lead_id: int
) -> tuple[Lead, Conversation | None] | None:
    """A lead and its open conversation (None when it has none) in one query; None when the
    lead is gone."""
    q = (select(Lead, Conversation).outerjoin(Conversation, _open_of(Lead.id))
         .where(Lead.id == lead_id).order_by(Conversation.id.desc()).limit(1))
    row = (await session.execute(q)).first()
    return None if row is None else (row[0], row[1])


def _by_identity(inbound: Inbound) -> Select[Lead]:
    return (
        select(Lead)
        .join(Identity, Identity.lead_id == Lead.id)
        .where(Identity.kind == inbound.identity_kind, Identity.address == inbound.address)
    )


def _open_of(lead_id: Any) -> Any:
    """The join condition of a lead's conversations that are not closed."""
    return and_(Conversation.lead_id == lead_id, Conversation.status != "closed")


def _seen_on(lead: Lead, inbound: Inbound) -> None:
    lead.last_channel = inbound.channel
    lead.last_address = inbound.address


def _audit_created(session: AsyncSession, lead: Lead, inbound: Inbound) -> None:
    """The audit event of a lead created from `inbound`."""
    audit(session, "lead.created", lead_id=lead.id, channel=inbound.channel)


async def _create_lead(
    session: AsyncSession, inbound: Inbound, default_language: str, *, audited: bool = True
) -> tuple[Lead, bool]:
    """A new lead behind the inbound's identity (created False: another process made it
    first). `audited` False leaves the `lead.created` event to the caller (`_audit_created`)."""
    lead = Lead(
        phone=inbound.address if inbound.identity_kind == "phone" else None,
        language=default_language,
        last_channel=inbound.channel,
        last_address=inbound.address,
        queue_key=inbound.queue_key,
        name=inbound.profile_name,
        qualification={},
        source=inbound.channel,
    )
    session.add(lead)
    await session.flush()
    identity = Identity(lead_id=lead.id, kind=inbound.identity_kind, address=inbound.address)
    if await insert_unless_exists(session, identity) is None:
        # Another process created the identity first: per-person serialisation makes this
        # rare (only after a partition handover), but stay correct.
        await session.delete(lead)
        lead2 = (await session.execute(_by_identity(inbound))).scalars().one()
        _seen_on(lead2, inbound)
        return lead2, False
    if audited:
        _audit_created(session, lead, inbound)
    # The consent ledger: the person wrote to us first, on this channel.
    session.add(Consent(lead_id=lead.id, kind="first_inbound", channel=inbound.channel,
                        source=inbound.channel, wording=FIRST_INBOUND_BASIS,
                        given_at=inbound.received_at))
    return lead, True


async def current_conversation(session: AsyncSession, lead: Lead) -> Conversation:
    """The lead's open conversation, created when there is none."""
    q = (
        select(Conversation)
        .where(_open_of(lead.id))
        .order_by(Conversation.id.desc())
    )
    conv = (await session.execute(q)).scalars().first()
    return conv if conv is not None else await _open(session, lead)


async def _open(session: AsyncSession, lead: Lead, lead_message_at: datetime | None = None,
                *, created_from: Inbound | None = None) -> Conversation:
    """Open a conversation for a lead that has none (`lead_message_at`: opened by the lead's
    message received then; `created_from`: the lead was created from it, not audited yet)."""
    conv = Conversation(lead_id=lead.id, status="bot", last_lead_message_at=lead_message_at)
    session.add(conv)
    await session.flush()
    if created_from is not None:
        _audit_created(session, lead, created_from)
    audit(session, "conversation.opened", lead_id=lead.id, conversation_id=conv.id)
    return conv


async def find_message(session: AsyncSession, channel: str, provider_id: str) -> Message | None:
    """A stored message by its provider id (dedupe)."""
    q = select(Message).where(Message.channel == channel, Message.provider_id == provider_id)
    return (await session.execute(q)).scalars().first()


async def pending_bot_messages(session: AsyncSession, lead_id: int) -> list[Message]:
    """Inbound messages of a lead not yet answered by the bot, oldest first."""
    q = (
        select(Message)
        .where(
            Message.lead_id == lead_id,
            Message.direction == "in",
            Message.bot_status == "pending",
        )
        .order_by(Message.id)
    )
    return list((await session.execute(q)).scalars())


async def update_status(
    session: AsyncSession, channel_names: frozenset[str], provider_id: str, status: str,
    error_code: str | None,
) -> tuple[Message | None, bool]:
    """Apply a delivery status callback to the stored outbound message. Returns the message
    (None when no row has this provider id yet) and whether the status was applied (not
    when the message is at a later stage already: `domain.delivery_status`)."""
    q = select(Message).where(
        Message.channel.in_(channel_names), Message.provider_id == provider_id
    )
    msg = (await session.execute(q)).scalars().first()
    if msg is None:
        return None, False
    if not supersedes(status, msg.status):
        return msg, False
    msg.status = status
    if error_code:
        msg.error_code = error_code
    return msg, True


async def mark_opted_out(session: AsyncSession, lead_id: int, reason: str) -> None:
    """Mark a lead opted out (STOP or a provider's opted-out error)."""
    now = utcnow()
    res = await session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.opted_out.is_(False))
        .values(opted_out=True, opted_out_at=now)
    )
    audit(session, "lead.opted_out", lead_id=lead_id, reason=reason, at=now)
    if res.rowcount == 1:  # type: ignore[attr-defined]  # counted once, not per repeat
        on_commit(session, metrics.OPT_OUTS.labels(reason=reason.split(":")[0]).inc)
