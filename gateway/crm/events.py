"""Which state changes are CRM events: audit types and messages mapped to event names.

Pure: values in, names out. The audit trail is the one source (every state change writes an
audit event through `gateway.store.leads.audit`), so a new step reaches the CRM by adding
its audit type here.
"""

from __future__ import annotations

AUDIT_EVENTS: dict[str, str] = {
    "lead.created": "lead.created",
    "handoff.requested": "lead.qualified",
    "assignment.offered": "handoff.offered",
    "assignment.accepted": "handoff.accepted",
    "conversation.closed": "lead.closed",
    "lead.opted_out": "opt_out",
    "appointment.set": "appointment.set",
    "feedback.received": "feedback",
}
"""Audit type → CRM event, for the types mapped one to one."""

STEP_PREFIXES: tuple[str, ...] = ("escalation.", "reply_lapse.")
"""Every rung of both ladders (accept deadline and reply lapse) is an `escalation.step`; its
audit type travels along as `data.audit_type` (e.g. "escalation.team_lead")."""


def event_for_audit(audit_type: str) -> str | None:
    """The CRM event an audit type reports, or None when the CRM does not hear of it."""
    if audit_type in AUDIT_EVENTS:
        return AUDIT_EVENTS[audit_type]
    if audit_type.startswith(STEP_PREFIXES):
        return "escalation.step"
    return None


def event_for_message(
    direction: str, author: str, *, lead_id: int | None, agent_id: int | None
) -> str | None:
    """`message.in` / `message.out` for a message between Pronto and a lead, else None.

    Only the conversation with the prospect counts: an agent's own messages to Pronto
    (commands, replies before they are relayed) and Pronto's alerts to agents (author
    "system" with an agent) are internal.
    """
    if lead_id is None:
        return None
    if direction == "in":
        return "message.in" if author == "lead" else None
    if direction == "out":
        to_agent = author == "system" and agent_id is not None
        return None if to_agent else "message.out"
    return None
