"""The outbound gate (pure): may this message go to this lead now? (DESIGN.md §1.8)

Every message out passes here, whoever wrote it. The rules, in the order they are applied:

1. Opt-out. An opted-out lead gets nothing, except the one confirmation of the opt-out that
   carriers expect right after STOP.
2. Rate cap. At most `max_per_lead_per_hour` messages of any kind to one lead in an hour, so
   a runaway loop (a bot answering itself, a retry storm) cannot send a thousand texts. Over
   the cap the message is refused, not held: holding would only queue the runaway.
3. Quiet hours. A message Pronto starts itself (first touch, follow-up, reminder, feedback)
   waits for the lead's window and the state's per-24-hour cap
   (`gateway.domain.quiet_hours`). A reply to a message the prospect just sent, and the
   opt-out confirmation, are never held: the prospect is awake and waiting.

The gate decides; the caller acts: Send now, Hold until `until` (re-queue a durable timer),
or Refuse (record why, never retry). The WhatsApp 24-hour window and consent records are
checked by the caller for now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Literal

from gateway.domain.quiet_hours import QuietRules, next_allowed

DEFAULT_MAX_PER_HOUR = 30


class Kind(Enum):
    """What a message is, for the gate."""

    REPLY = "reply"
    """An answer to a message the prospect just sent (bot, agent, acknowledgement)."""
    INITIATED = "initiated"
    """A message Pronto starts itself: first touch, follow-up, reminder, nudge, feedback."""
    CONFIRMATION = "confirmation"
    """The one compliance confirmation of an opt-out (the answer to STOP)."""


@dataclass(frozen=True, slots=True)
class GateInput:
    """The message asking to go out.

    Attributes:
        kind: reply, initiated message or compliance confirmation.
    """

    kind: Kind


@dataclass(frozen=True, slots=True)
class GateLead:
    """What the gate needs to know of the lead.

    Attributes:
        opted_out: the lead has opted out (STOP, a revocation, or the provider said so).
        zone: the lead's IANA time zone (`gateway.domain.quiet_hours.lead_zone`).
        state: the lead's US state code (address, else `lead_state` of the phone), or None.
        recent_initiated_utc: when Pronto started messages to the lead on this subject (the
            last 24 hours are enough), for the states that cap them.
        sent_last_hour: messages of every kind sent to the lead in the last hour.
    """

    opted_out: bool
    zone: str
    state: str | None = None
    recent_initiated_utc: Sequence[datetime] = field(default_factory=tuple)
    sent_last_hour: int = 0


@dataclass(frozen=True, slots=True)
class GateRules:
    """The gate's rules, from config/compliance.yml (`gateway.config.compliance`).

    Attributes:
        quiet: the quiet-hours windows and per-24-hour caps.
        max_per_lead_per_hour: the per-lead outbound cap, every kind of message.
    """

    quiet: QuietRules = field(default_factory=QuietRules)
    max_per_lead_per_hour: int = DEFAULT_MAX_PER_HOUR


@dataclass(frozen=True, slots=True)
class Send:
    """Send the message now."""


@dataclass(frozen=True, slots=True)
class Hold:
    """Do not send yet; try again at `until` (aware, UTC).

    Attributes:
        until: the first instant the message may go.
        reason: "quiet_hours" (outside the lead's window) or "start_cap" (the state's
            per-24-hour cap of initiated messages is reached).
    """

    until: datetime
    reason: Literal["quiet_hours", "start_cap"]


@dataclass(frozen=True, slots=True)
class Refuse:
    """Never send this message.

    Attributes:
        reason: "opted_out" or "rate_cap".
    """

    reason: Literal["opted_out", "rate_cap"]


Decision = Send | Hold | Refuse


def decide(msg: GateInput, lead: GateLead, now_utc: datetime, rules: GateRules) -> Decision:
    """Decide whether `msg` may go to `lead` at `now_utc`.

    Args:
        msg: the message's kind.
        lead: the lead's opt-out state, zone, state and recent sends.
        now_utc: the present (aware).
        rules: the gate's rules.

    Returns:
        Send(), Hold(until, reason) or Refuse(reason); see the module docstring for the order.

    Raises:
        ValueError: `now_utc` or a recent send time is naive.
    """
    if lead.opted_out and msg.kind is not Kind.CONFIRMATION:
        return Refuse("opted_out")
    if lead.sent_last_hour >= rules.max_per_lead_per_hour:
        return Refuse("rate_cap")
    if msg.kind is not Kind.INITIATED:
        return Send()
    until = next_allowed(now_utc, lead.zone, lead.state, rules.quiet, lead.recent_initiated_utc)
    if until == now_utc:
        return Send()
    # Name the rule that holds it: the window when the window alone would hold it.
    window_only = next_allowed(now_utc, lead.zone, lead.state, rules.quiet)
    return Hold(until, "quiet_hours" if window_only > now_utc else "start_cap")
