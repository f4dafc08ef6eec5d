"""Plain-text renderings of an event shared by the CRM adapters (FUB notes, lead emails).

Pure: envelopes in, text out. Message texts appear only when the envelope carries them (the
endpoint's `include_text`).
"""

from __future__ import annotations

from typing import Any

from gateway.domain.lead_summary import summarize

_SUBJECTS = {
    "lead.created": "New lead (Pronto)",
    "lead.qualified": "Qualified by Pronto",
    "handoff.offered": "Offered to an agent",
    "handoff.accepted": "Accepted by an agent",
    "escalation.step": "Escalation",
    "message.in": "Message from the lead",
    "message.out": "Message to the lead",
    "appointment.set": "Appointment set",
    "lead.closed": "Conversation closed",
    "opt_out": "Opted out of messages",
    "feedback": "Feedback",
}


def split_name(name: str | None) -> tuple[str, str]:
    """(first, last) of a full name; the last name is empty for a single word."""
    parts = (name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def summary(lead: dict[str, Any]) -> str:
    """One line: what the lead wants, as the agent's alert says it."""
    return summarize(
        lead.get("qualification") or {}, name=lead.get("name"),
        lead_language=str(lead.get("language") or "en"), channel=lead.get("channel"),
        score=lead.get("score"), language="en",
    )


def note_subject(envelope: dict[str, Any]) -> str:
    """A short title for the event."""
    return _SUBJECTS.get(str(envelope.get("type")), str(envelope.get("type")))


def note_body(envelope: dict[str, Any]) -> str | None:
    """The event as a few lines of text, or None when there is nothing worth noting."""
    event = envelope.get("type")
    lead = envelope.get("lead") or {}
    data = envelope.get("data") or {}
    agent = (envelope.get("agent") or {}).get("name")
    lines: list[str] = []
    if event in ("message.in", "message.out"):
        if "text" not in data:
            return None
        who = "Lead" if event == "message.in" else str(data.get("author", "pronto")).title()
        lines.append(f"{who} ({data.get('channel')}): {data['text']}")
    elif event in ("lead.created", "lead.qualified"):
        lines.append(summary(lead))
    elif event in ("handoff.offered", "handoff.accepted"):
        verb = "Offered to" if event == "handoff.offered" else "Accepted by"
        lines.append(f"{verb} {agent or 'an agent'}" + (
            f" (rule {data['rule']})" if data.get("rule") else ""))
    elif event == "escalation.step":
        step = str(data.get("audit_type", "")).split(".", 1)[-1].replace("_", " ")
        lines.append(f"Escalation step: {step}" + (f" ({agent})" if agent else ""))
    elif event == "lead.closed":
        lines.append(f"Closed: {data.get('outcome') or data.get('reason') or 'closed'}"
                     + (f" by {agent}" if agent else ""))
    elif event == "opt_out":
        lines.append(f"The lead opted out of messages ({data.get('reason') or 'STOP'}); "
                     "do not text them.")
    else:
        details = ", ".join(f"{k}: {v}" for k, v in data.items() if k != "audit_type")
        lines.append(f"{note_subject(envelope)}" + (f" — {details}" if details else ""))
    if lead.get("transcript_url"):
        lines.append(f"Transcript: {lead['transcript_url']}")
    return "\n".join(lines)
