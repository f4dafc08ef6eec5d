"""SQL schema (SQLAlchemy 2). SQL is the source of truth; Redis only indexes and queues.

Changing a model means a new Alembic revision under `gateway/migrations/versions/`;
`tests/integration/test_migrations.py` fails when the two drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.messages import utcnow


class Base(DeclarativeBase):
    """Declarative base; all timestamps are timezone-aware UTC."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Lead(Base):
    """A prospect. One person across SMS and WhatsApp is one lead (same E.164 number)."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8), default="en")
    language_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    last_channel: Mapped[str | None] = mapped_column(String(16))
    last_address: Mapped[str | None] = mapped_column(String(200))
    queue_key: Mapped[str | None] = mapped_column(String(220))
    qualification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(64), index=True)
    """Where the lead came from: a channel ("sms", "whatsapp", "telegram", "webchat", "call")
    or an intake source ("website", "zillow", "realtor.com", …)."""
    campaign: Mapped[str | None] = mapped_column(String(128))
    listing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The listing the lead asked about: address, mls_id, url, price (any may be missing)."""
    timezone: Mapped[str | None] = mapped_column(String(64))
    """The lead's IANA time zone when known (quiet hours); else derived from the phone."""
    erased_at: Mapped[datetime | None]
    """Set when the lead's personal data was erased; the row stays as a tombstone."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Identity(Base):
    """How a lead is reached: ("phone", E.164), ("telegram", chat id), ("webchat", session)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "address", name="uq_identity_kind_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """A lead's conversation; `mode` says who answers: the bot or a human agent.

    status: "bot" (assistant answers), "pending" (handoff offered, waiting for accept),
    "pool" (nobody accepted; any team agent may claim), "agent" (an agent owns it), "closed".
    outcome (closed): "won", "lost", "no_answer" (the agent's DONE), "inactive" (auto-closed),
    "erased" (the lead's personal data was erased).
    """

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="bot")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    handoff_reason: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))
    last_lead_message_at: Mapped[datetime | None]
    last_agent_message_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    """Every message in or out, with its provider id and delivery status.

    direction: "in" or "out". author: "lead", "bot", "agent" or "system".
    status (out): "queued", "sent", "delivered", "read", "failed", "undelivered", "dry_run",
    "cancelled" (still queued or held when the lead was erased).
    bot_status (in): "pending" (Rasa not reached yet), "done", "skipped".
    claimed_by / claimed_until (out, queued): the process that will send it and its lease; once
    the lease lapses any process's outbox sweeper may claim and send it. Cleared once sent, so
    the index on `claimed_until` holds only the sends in flight.
    buttons (out): inline buttons as [label, data] pairs, kept so a resend is the same message.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_message_channel_provider"),
        Index("ix_messages_lead_created", "lead_id", "id"),
        # The stall sweep reads the few messages still waiting for the bot.
        Index("ix_messages_bot_status", "bot_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    bot_status: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(index=True)
    buttons: Mapped[list[list[str]] | None] = mapped_column(JSON)
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(8))
    """SMS encoding of an outbound text: "GSM-7" or "UCS-2" (segments counted for it)."""
    send_after: Mapped[datetime | None] = mapped_column(index=True)
    """A message Pronto started itself, held (status "held") until quiet hours end."""
    content_sid: Mapped[str | None] = mapped_column(String(64))
    """An approved template sent instead of the text (WhatsApp outside its 24-hour window);
    kept with its variables so a resend by the sweeper is the same template, never free text."""
    content_variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    send_started_at: Mapped[datetime | None]
    """When an outbox sweeper took the send over from a process that had left it (None: sent
    by the process that queued it); the sweeper asks the provider first whether it went out."""
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The lead's attachments (in): one entry each, in order, with "content_type", "bytes",
    "sha256" and "status": "pending" (stored, not fetched yet), "stored" (a file under
    var/media named by its sha256) or "refused:<reason>" (`gateway.infra.media`). Never the
    URL: Twilio's media URLs name the account."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Agent(Base):
    """A human agent, synced from config/agents.yml at start (keyed by `key`)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_lead_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """An offer of a lead to an agent and what became of it.

    status: "offered", "accepted", "passed", "expired", "taken" (another agent won),
    "released" (agent handed back with DONE), "reassigned".
    """

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    rule: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class Timer(Base):
    """A durable SLA timer; Redis holds only its index. status: "pending", "fired", "cancelled"."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_at: Mapped[datetime | None]


class AuditEvent(Base):
    """One state change, for the broker's audit trail. Never holds message bodies."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    type: Mapped[str] = mapped_column(String(48), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """The consent ledger: each basis on which Pronto may contact a lead, with its wording.

    kind: "first_inbound" (the lead wrote first), "webchat", "form", "portal", "call".
    """

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    wording: Mapped[str] = mapped_column(Text, default="")
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeRecord(Base):
    """One lead delivered by a form post, a lead email or a call, kept as it came.

    kind: "form", "email", "call". status: "accepted" (a lead record made or updated),
    "unparsed" (an email no parser understood: kept for an admin, never dropped).
    (source, external_id) is unique, so a repeated delivery finds its first record.
    """

    __tablename__ = "intake_records"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_intake_source_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[str | None] = mapped_column(Text)
    """The raw email (kept for unparsed ones only, so an admin can read it)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmDelivery(Base):
    """One event owed to one CRM endpoint: the durable outbox of the CRM push.

    Written by the audit listener (`gateway.crm.capture`) in the transaction of the state change
    it reports, so an event is owed iff that change committed. Holds ids and event facts, never
    message bodies; the lead's fields are read when it is delivered.
    source: "audit" (an `AuditEvent`) or "message" (a `Message`); source_id is that row's id.
    status: "pending", "delivered", "dead" (given up: max attempts, max age, or refused).
    Per (endpoint, lead) a delivery waits while an earlier one is pending (event order).
    claimed_by / claimed_until: the process delivering it and its lease.
    external_ref: what the CRM calls the lead once known (Follow Up Boss's person id).
    """

    __tablename__ = "crm_deliveries"
    __table_args__ = (
        Index("ix_crm_deliveries_status_due", "status", "next_attempt_at"),
        Index("ix_crm_deliveries_endpoint_lead", "endpoint", "lead_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(Integer)
    """No foreign key on purpose: the outbox never stands in the way of erasing a lead."""
    source: Mapped[str] = mapped_column(String(8))
    source_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appointment(Base):
    """A showing or consultation an agent set (`APPT <code> <when>`).

    status: "scheduled", "confirmed" (the prospect said so), "reschedule" (the prospect asked
    for another time: the agent was told), "cancelled".
    """

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    starts_at: Mapped[datetime]
    zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Feedback(Base):
    """One feedback question asked of a lead after a close, and its answer.

    kind: "csat" (1-5) or "nps" (0-10). score: None until answered.
    """

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(8))
    asked_at: Mapped[datetime]
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None]
