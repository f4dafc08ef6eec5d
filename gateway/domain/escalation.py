"""The escalation ladders (pure): what happens when an agent does not accept or does not reply.

Accept ladder, per offer:  offered ─(half the deadline)→ re-alert the same agent once
  ─(deadline)→ reassign to the next eligible agent, up to `max_reassignments` times
  ─(then)→ alert the team lead, put the lead in the team's pool, and after hours tell the
  prospect when to expect a call.

Reply-lapse ladder, per unanswered lead message:  SLA passed → nudge the agent
  ─(escalate_after)→ alert the team lead ─(reassign_after, if enabled)→ reassign.

These functions take the current state and return decisions; `gateway.handoff.engine` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACCEPT_HALF = "handoff.accept_half"
ACCEPT_DEADLINE = "handoff.accept_deadline"
REPLY_LAPSE = "handoff.reply_lapse"
UNCLAIMED = "handoff.unclaimed_reminder"
"""The end of the accept ladder (team lead, pool) still has a deadline: a reminder, then the
configured last resort, then reminders until somebody accepts or the conversation closes."""
KINDS = (ACCEPT_HALF, ACCEPT_DEADLINE, REPLY_LAPSE, UNCLAIMED)

REASSIGN = "reassign"
TEAM_LEAD = "team_lead"
POOL = "pool"
TELL_PROSPECT = "tell_prospect"
NUDGE = "nudge"


@dataclass(frozen=True, slots=True)
class AcceptLadder:
    """Accept-deadline policy for one period (business hours or after hours)."""

    deadline: timedelta
    realert_at_half: bool = True
    max_reassignments: int = 2
    pool: bool = True


@dataclass(frozen=True, slots=True)
class ReplyLadder:
    """Reply-lapse policy for one period (business hours or after hours)."""

    sla: timedelta
    escalate_after: timedelta
    reassign: bool = False
    reassign_after: timedelta = timedelta(minutes=15)


def accept_timers(offered_at: datetime, ladder: AcceptLadder) -> list[tuple[str, datetime]]:
    """The timers an offer starts: (kind, due time)."""
    timers = [(ACCEPT_DEADLINE, offered_at + ladder.deadline)]
    if ladder.realert_at_half:
        timers.insert(0, (ACCEPT_HALF, offered_at + ladder.deadline / 2))
    return timers


def on_accept_deadline(
    reassignments: int, ladder: AcceptLadder, *, has_candidate: bool, business: bool
) -> tuple[str, ...]:
    """Steps to take when an offer's deadline passes unanswered.

    Args:
        reassignments: how many times this conversation has been reassigned already.
        ladder: the policy in force now.
        has_candidate: whether routing found another eligible agent.
        business: whether it is business hours now.
    """
    if reassignments < ladder.max_reassignments and has_candidate:
        return (REASSIGN,)
    return unclaimed_steps(ladder, business=business)


def unclaimed_steps(ladder: AcceptLadder, *, business: bool) -> tuple[str, ...]:
    """Steps when nobody (more) can be offered the lead: team lead, pool, prospect told."""
    steps = [TEAM_LEAD]
    if ladder.pool:
        steps.append(POOL)
    if not business:
        steps.append(TELL_PROSPECT)
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class LapseStep:
    """One reply-lapse step: the action now, and when (if ever) the next step is due."""

    action: str
    next_step: int | None
    next_in: timedelta | None


def reply_lapse_step(step: int, ladder: ReplyLadder) -> LapseStep:
    """What to do when the reply-lapse timer at `step` fires (0 = the SLA just passed)."""
    if step <= 0:
        return LapseStep(NUDGE, 1, ladder.escalate_after)
    if step == 1:
        if ladder.reassign:
            return LapseStep(TEAM_LEAD, 2, ladder.reassign_after)
        return LapseStep(TEAM_LEAD, None, None)
    return LapseStep(REASSIGN, None, None)


_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado",
           "el domingo"),
}
_REL = {"en": ("today", "tomorrow"), "es": ("hoy", "mañana")}


def describe_opening(opening: datetime, now: datetime, language: str) -> str:
    """Say when the office opens, in the lead's language: "tomorrow at 9:00 AM".

    Args:
        opening: the next opening, aware, in the office's time zone.
        now: the current time (aware, any zone).
        language: "en" or "es" (others fall back to English).
    """
    lang = language if language in _WEEKDAYS else "en"
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    if days in (0, 1):
        day = _REL[lang][days]
    else:
        day = _WEEKDAYS[lang][opening.weekday()]
    if lang == "es":
        at = "a la" if opening.hour in (1, 13) else "a las"
        return f"{day} {at} {opening.hour}:{opening.minute:02d}"
    hour12 = opening.hour % 12 or 12
    suffix = "AM" if opening.hour < 12 else "PM"
    return f"{day} at {hour12}:{opening.minute:02d} {suffix}"
