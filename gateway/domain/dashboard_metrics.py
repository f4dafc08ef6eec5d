"""The broker's numbers, computed from plain rows: response times, SLAs, percentiles.

Pure: every function takes values (rows, a schedule, `now`) and returns values; the dashboard's
queries fetch the rows. Definitions, so a broker can check them by hand:

- A lead's **start** is its first inbound message (or, for a form/portal/call lead that has not
  written, the moment the lead was recorded).
- **First bot reply**: the first outbound message written by the bot or sent automatically
  (author "bot" or "system": the instant acknowledgement counts, it is what the prospect sees).
- **First human reply**: the first outbound message written by an agent (author "agent"). Bot
  and human replies are never mixed: a bot answer never counts as an agent's response.
- **Time to accept**: from the first offer of the lead to an agent until an agent accepted.
- **Business / after hours**: by the office's business hours at the moment the clock started
  (the lead's start for replies, the first offer for accepts).
- **Percentiles** are nearest-rank: p90 of 10 values is the 9th smallest, always a value that
  was observed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from gateway.domain.schedule import WeeklySchedule

BOT_AUTHORS = frozenset({"bot", "system"})
HUMAN_AUTHORS = frozenset({"agent"})
METRICS = ("bot_reply", "human_reply", "accept")
BUCKETS = ("all", "business", "after_hours")


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One stored message, as the metrics need it."""

    lead_id: int
    direction: str
    author: str
    at: datetime
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class OfferRow:
    """One assignment (an offer of a lead to an agent) and what became of it."""

    lead_id: int
    agent_id: int
    status: str
    offered_at: datetime
    accepted_at: datetime | None = None
    """When the agent accepted (the `assignment.accepted` event), whatever happened later."""
    ended_at: datetime | None = None
    """When an accepted lead left the agent (released, reassigned, closed)."""
    rule: str = ""
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class LeadTiming:
    """The clocks of one lead, in seconds from its start (None: never happened)."""

    lead_id: int
    start: datetime
    bot_reply: float | None
    human_reply: float | None
    accept: float | None
    offered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Stat:
    """Count and nearest-rank p50/p90 of a set of durations in seconds."""

    count: int
    p50: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class Sla:
    """A deadline in minutes, in business hours and after hours."""

    business: float
    after_hours: float

    def seconds(self, business: bool) -> float:
        """The deadline in seconds for a clock started in (or out of) business hours."""
        return 60.0 * (self.business if business else self.after_hours)


@dataclass(slots=True)
class AgentStanding:
    """One agent's record against the response standard."""

    agent_id: int
    offers: int = 0
    accepted: int = 0
    accepted_in_sla: int = 0
    accept_breaches: list[int] = field(default_factory=list)
    """Lead ids whose offer to this agent expired or was accepted late."""
    replies_due: int = 0
    replied_in_sla: int = 0
    reply_breaches: list[int] = field(default_factory=list)
    """Lead ids with a prospect wait this agent left past the reply SLA."""
    accept_latencies: list[float] = field(default_factory=list)
    expired: int = 0
    passed: int = 0

    @property
    def accept_share(self) -> float | None:
        """Share of decided offers accepted within the SLA (None: none decided)."""
        decided = self.accepted_in_sla + len(self.accept_breaches)
        return self.accepted_in_sla / decided if decided else None

    @property
    def reply_share(self) -> float | None:
        """Share of prospect waits answered within the reply SLA (None: none due)."""
        return self.replied_in_sla / self.replies_due if self.replies_due else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (`p` in 0..100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def stat(values: Sequence[float]) -> Stat:
    """Count, p50 and p90 of durations."""
    return Stat(len(values), percentile(values, 50), percentile(values, 90))


def lead_timing(
    lead_id: int,
    created_at: datetime,
    messages: Iterable[MessageRow],
    offers: Iterable[OfferRow],
) -> LeadTiming:
    """The start, first bot reply, first human reply and accept of one lead."""
    ordered = sorted(messages, key=lambda m: m.at)
    first_in = next((m.at for m in ordered if m.direction == "in"), None)
    start = first_in or created_at
    first_bot = next((m.at for m in ordered
                      if m.direction == "out" and m.author in BOT_AUTHORS and m.at >= start), None)
    first_human = next((m.at for m in ordered if m.direction == "out"
                        and m.author in HUMAN_AUTHORS and m.at >= start), None)
    offer_list = sorted(offers, key=lambda o: o.offered_at)
    offered = offer_list[0].offered_at if offer_list else None
    accepted = min((o.accepted_at for o in offer_list
                    if o.accepted_at is not None and o.status != "taken"), default=None)
    return LeadTiming(
        lead_id, start,
        _secs(start, first_bot), _secs(start, first_human),
        _secs(offered, accepted) if offered else None, offered,
    )


def _secs(a: datetime, b: datetime | None) -> float | None:
    return None if b is None else max(0.0, (b - a).total_seconds())


def _clock_start(t: LeadTiming, metric: str) -> datetime | None:
    return t.offered_at if metric == "accept" else t.start


def response_stats(
    timings: Iterable[LeadTiming], hours: WeeklySchedule
) -> dict[str, dict[str, Stat]]:
    """For each metric, Stat over all leads, those that started in business hours, and after."""
    values: dict[str, dict[str, list[float]]] = {m: {b: [] for b in BUCKETS} for m in METRICS}
    for t in timings:
        for metric in METRICS:
            v: float | None = getattr(t, metric)
            started = _clock_start(t, metric)
            if v is None or started is None:
                continue
            bucket = "business" if hours.contains(started) else "after_hours"
            values[metric]["all"].append(v)
            values[metric][bucket].append(v)
    return {m: {b: stat(vs) for b, vs in by.items()} for m, by in values.items()}


def daily_stats(
    timings: Iterable[LeadTiming], hours: WeeklySchedule, metric: str, days: Sequence[date]
) -> list[tuple[date, Stat, Stat]]:
    """Per local day (the office's zone): (day, business Stat, after-hours Stat) of `metric`."""
    per: dict[date, dict[bool, list[float]]] = {d: {True: [], False: []} for d in days}
    for t in timings:
        v: float | None = getattr(t, metric)
        started = _clock_start(t, metric)
        if v is None or started is None:
            continue
        day = hours.local(started).date()
        if day in per:
            per[day][hours.contains(started)].append(v)
    return [(d, stat(per[d][True]), stat(per[d][False])) for d in days]


def waiting_since(timing_start: datetime, now: datetime) -> float:
    """Seconds a lead has waited (never negative)."""
    return max(0.0, (now - timing_start).total_seconds())


def standards(
    offers: Iterable[OfferRow],
    messages: Iterable[MessageRow],
    hours: WeeklySchedule,
    accept_sla: Sla,
    reply_sla: Sla,
    now: datetime,
) -> dict[int, AgentStanding]:
    """Each agent's record: offers accepted within the accept SLA, waits within the reply SLA.

    An offer still open and inside its deadline is not counted yet; one open past it counts as
    a breach. "taken" (another agent won a first-to-claim race) and "passed" (declined at once)
    are neither. A *wait* starts when the agent accepts and whenever the prospect writes while
    no wait is open; the agent's next message ends it. A wait is in the SLA when it ended
    within the reply SLA (by business hours at its start); an open wait past it is a breach.
    """
    out: dict[int, AgentStanding] = {}
    owners: dict[int, list[tuple[int, datetime, datetime | None]]] = {}
    for o in offers:
        s = out.setdefault(o.agent_id, AgentStanding(o.agent_id))
        if o.status == "taken":
            continue
        deadline = accept_sla.seconds(hours.contains(o.offered_at))
        s.offers += 1
        if o.accepted_at is not None:
            latency = (o.accepted_at - o.offered_at).total_seconds()
            s.accepted += 1
            s.accept_latencies.append(latency)
            if latency <= deadline:
                s.accepted_in_sla += 1
            else:
                s.accept_breaches.append(o.lead_id)
            owners.setdefault(o.lead_id, []).append((o.agent_id, o.accepted_at, o.ended_at))
        elif o.status == "expired":
            s.expired += 1
            s.accept_breaches.append(o.lead_id)
        elif o.status == "passed":
            s.passed += 1
        elif o.status == "offered" and (now - o.offered_at).total_seconds() > deadline:
            s.accept_breaches.append(o.lead_id)
    by_lead: dict[int, list[MessageRow]] = {}
    for m in messages:
        by_lead.setdefault(m.lead_id, []).append(m)
    for lead_id, spans in owners.items():
        for agent_id, since, until in spans:
            _waits(out[agent_id], lead_id, since, until, by_lead.get(lead_id, []), hours,
                   reply_sla, now)
    return out


def _waits(s: AgentStanding, lead_id: int, since: datetime, until: datetime | None,
           msgs: list[MessageRow], hours: WeeklySchedule, sla: Sla, now: datetime) -> None:
    """Count the prospect's waits while `s`'s agent owned the lead (see `standards`)."""
    wait: datetime | None = since
    breached = False
    for m in sorted(msgs, key=lambda x: x.at):
        if m.at < since or (until is not None and m.at > until):
            continue
        if m.direction == "in" and wait is None:
            wait = m.at
        elif m.direction == "out" and m.author in HUMAN_AUTHORS and wait is not None:
            s.replies_due += 1
            if (m.at - wait).total_seconds() <= sla.seconds(hours.contains(wait)):
                s.replied_in_sla += 1
            else:
                breached = True
            wait = None
    end = until or now
    if wait is not None and (end - wait).total_seconds() > sla.seconds(hours.contains(wait)):
        s.replies_due += 1
        breached = True
    if breached:
        s.reply_breaches.append(lead_id)


def lead_status(conv_status: str | None, opted_out: bool, escalated: bool,
                bot_replied: bool) -> str:
    """The inbox status of a lead.

    Returns:
        One of "new", "qualifying", "waiting", "with_agent", "escalated", "closed",
        "opted_out".
    """
    if opted_out:
        return "opted_out"
    if conv_status == "closed":
        return "closed"
    if conv_status == "agent":
        return "with_agent"
    if conv_status == "pool" or (conv_status == "pending" and escalated):
        return "escalated"
    if conv_status == "pending":
        return "waiting"
    return "qualifying" if bot_replied else "new"


FUNNEL = ("inbound", "qualified", "handed_off", "accepted", "appointment", "won")


def funnel(stages: dict[str, set[int]], groups: dict[int, str]) -> dict[str, dict[str, int]]:
    """Counts per funnel stage, per group (a source or a language) and in total ("all").

    Args:
        stages: lead ids that reached each stage of `FUNNEL`.
        groups: each lead's group.
    """
    out: dict[str, dict[str, int]] = {"all": dict.fromkeys(FUNNEL, 0)}
    for lead_id, g in groups.items():
        row = out.setdefault(g, dict.fromkeys(FUNNEL, 0))
        for stage in FUNNEL:
            if lead_id in stages.get(stage, set()):
                row[stage] += 1
                out["all"][stage] += 1
    return out


def human_duration(seconds: float | None) -> str:
    """"42 s", "3.5 min", "31 min", "2.1 h", "3.0 d"; "—" for None."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 600:
        return f"{seconds / 60:.1f} min"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def day_range(last: date, n: int) -> list[date]:
    """The `n` days ending with `last`, oldest first."""
    return [last - timedelta(days=i) for i in range(n - 1, -1, -1)]
