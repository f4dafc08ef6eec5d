"""Routing rules (pure): which agent(s) get a lead, and which rule chose them.

Order, each step narrowing the candidates only when it can:
1. eligible: active, takes leads, not already tried for this conversation, under the cap of
   open leads;
2. language: required when any eligible agent speaks the lead's language;
3. area: agents covering the lead's zip code, city or named area, when any do — chosen among
   the available agents when anyone is available, so area never beats availability;
4. availability: agents in working hours; after hours, the agents on call; when nobody is,
   the lead still goes to someone (rule "unavailable") and escalation tells the prospect;
5. round robin among the rest: the agent offered a lead least recently goes first.

The recorded rule names the steps that decided, e.g. "language+area+hours+round_robin".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.domain.schedule import WeeklySchedule
from gateway.domain.utc import as_utc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """What routing knows about an agent from the configuration.

    Attributes:
        key: the agent's stable key.
        languages: languages spoken.
        areas: normalised zip codes, cities and area names covered (named areas expanded).
        hours: working hours, or None (never "in hours").
        on_call: on-call windows, or None.
        cap: most open leads the agent may hold.
        team: the agent's team.
        receives_leads: False for people who only receive escalations.
    """

    key: str
    languages: tuple[str, ...]
    areas: tuple[str, ...] = ()
    hours: WeeklySchedule | None = None
    on_call: WeeklySchedule | None = None
    cap: int = 10
    team: str | None = None
    receives_leads: bool = True


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """Live state of an active agent, read from SQL.

    Attributes:
        open_leads: conversations the agent owns plus offers awaiting an answer.
        last_offered_at: when the agent was last offered a lead (round robin order).
    """

    open_leads: int = 0
    last_offered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What routing knows about the lead.

    Attributes:
        language: the lead's language.
        location: where they are looking (or selling).
        preferred: agents to offer first when eligible (the listing's agent).
        restrict: a source rule's agents: only they are considered when any is eligible.
        rule: that source rule's name, for the recorded routing rule.
    """

    language: str
    location: str | None = None
    preferred: tuple[str, ...] = ()
    restrict: frozenset[str] | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """Routing decision: agents to alert, in order (empty: nobody eligible), and the rule."""

    agents: tuple[str, ...]
    rule: str


def normalise_place(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces ("Coral Gables, FL")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def area_matches(areas: Iterable[str], location: str | None) -> bool:
    """Whether any (normalised) area term occurs as whole words in the lead's location."""
    if not location:
        return False
    padded = f" {normalise_place(location)} "
    return any(term and f" {term} " in padded for term in areas)


def availability(profile: AgentProfile, now: datetime) -> str | None:
    """"hours" when the agent is working at `now`, "on_call" when on call, else None."""
    if profile.hours is not None and profile.hours.contains(now):
        return "hours"
    if profile.on_call is not None and profile.on_call.contains(now):
        return "on_call"
    return None


def route(
    profiles: Iterable[AgentProfile],
    loads: Mapping[str, AgentLoad],
    lead: LeadFacts,
    now: datetime,
    *,
    exclude: frozenset[str] = frozenset(),
    fanout: int = 1,
) -> Route:
    """Choose the agent(s) for a lead.

    Args:
        profiles: configured agents.
        loads: live state of active agents by key; agents missing here are inactive.
        lead: the lead's language and location.
        now: the current time (aware).
        exclude: agent keys already tried for this conversation.
        fanout: how many agents to return (first-to-claim alerts several at once).

    Returns:
        The chosen agents in round-robin order and the rule that chose them; no agents when
        nobody is eligible.
    """
    pool = [
        p
        for p in profiles
        if p.key in loads
        and p.receives_leads
        and p.key not in exclude
        and loads[p.key].open_leads < p.cap
    ]
    if not pool:
        return Route((), "none_eligible")
    # The listing's own agent first, when they can take it (availability does not matter:
    # they know the property, and the ladder moves on if they do not accept).
    listing = [p for k in lead.preferred for p in pool if p.key == k]
    if listing:
        return Route((listing[0].key,), "listing_agent")
    steps: list[str] = []
    if lead.restrict is not None:
        chosen = [p for p in pool if p.key in lead.restrict]
        if chosen:
            pool = chosen
            steps.append(f"source_rule:{lead.rule or 'unnamed'}")

    speakers = [p for p in pool if lead.language in p.languages]
    if speakers:
        pool = speakers
        steps.append("language")

    # Availability filters before area narrows, so an off-duty agent who covers the area
    # never beats a working (or on-call) agent who does not; the rule still reads in the
    # documented order: language, area, availability.
    working = [p for p in pool if availability(p, now) == "hours"]
    on_call = [p for p in pool if availability(p, now) == "on_call"]
    available, when = (working, "hours") if working else (on_call, "on_call")
    if available:
        pool = available
    local = [p for p in pool if area_matches(p.areas, lead.location)]
    if local:
        pool = local
        steps.append("area")
    steps.append(when if available else "unavailable")  # nobody on: still alert someone

    ordered = sorted(pool, key=lambda p: (as_utc(loads[p.key].last_offered_at) or _EPOCH, p.key))
    if len(ordered) > 1:
        steps.append("round_robin")
    return Route(tuple(p.key for p in ordered[: max(1, fanout)]), "+".join(steps))
