"""Which questions the qualification form asks, and the handoff payload it produces.

Pure functions over plain slot values; the Rasa actions in ``actions.actions`` call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from actions.normalise import (
    clean_location,
    clean_name,
    parse_bedrooms,
    parse_budget,
    parse_financing,
    parse_timeline,
)
from actions.score import Qualification, lead_score

GOALS = {"buy": "buy", "sell": "sell", "rent": "rent"}
"""Intents that name the prospect's goal, and the goal each names."""
FACTS = ("lead_intent", "location", "bedrooms", "budget", "timeline", "financing", "name")
HANDOFF_REASONS = ("qualified", "request_human", "listing_question", "declined")
FORM_SLOTS = FACTS  # the name tests and older callers use


def required_slots(lead_intent: str | None) -> list[str]:
    """The form's questions, in order, for a prospect's goal.

    Bedrooms are asked of buyers and renters; financing of buyers only. A listing question is
    handed off at once, so only the goal and the name would be asked.

    Args:
        lead_intent: "buy", "sell", "rent", "listing" or ``None`` (not known yet).

    Returns:
        Slot names in the order they are asked.
    """
    if lead_intent == "listing":
        return ["lead_intent", "name"]
    slots = ["lead_intent", "location"]
    if lead_intent in (None, "buy", "rent"):
        slots.append("bedrooms")
    slots += ["budget", "timeline"]
    if lead_intent in (None, "buy"):
        slots.append("financing")
    slots.append("name")
    return slots


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def build_lead(slots: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """Build the normalised ``lead`` object of the handoff payload from raw slot values.

    Args:
        slots: Slot values from the tracker (raw answers; they are normalised here again so
            the payload never depends on which path filled a slot).
        today: Reference date for timelines (tests inject it).

    Returns:
        The lead: intent, location, budget_min, budget_max, timeline_days, timeline_text,
        financing, bedrooms, name, language, score, listing_ref, wants_showing.
    """
    intent = _as_text(slots.get("lead_intent"))
    location_raw = _as_text(slots.get("location"))
    location = clean_location(location_raw) if location_raw else None
    budget_text = _as_text(slots.get("budget"))
    budget = parse_budget(budget_text, intent) if budget_text else None
    budget_min, budget_max = budget if budget else (None, None)
    timeline_text = _as_text(slots.get("timeline"))
    timeline_days = parse_timeline(timeline_text, today) if timeline_text else None
    financing_text = _as_text(slots.get("financing"))
    financing = (parse_financing(financing_text) if financing_text else None) or "unknown"
    bedrooms_text = _as_text(slots.get("bedrooms"))
    bedrooms = parse_bedrooms(bedrooms_text) if bedrooms_text else None
    name_text = _as_text(slots.get("name"))
    name = clean_name(name_text) if name_text else None
    wants_showing = bool(slots.get("wants_showing"))
    language = _as_text(slots.get("language")) or "en"
    score = lead_score(
        Qualification(
            intent=intent,
            location=location,
            budget_min=budget_min,
            budget_max=budget_max,
            timeline_days=timeline_days,
            financing=financing,
            name=name,
            wants_showing=wants_showing,
        )
    )
    return {
        "intent": intent,
        "location": location,
        "budget_min": budget_min,
        "budget_max": budget_max,
        "budget_text": budget_text,
        "timeline_days": timeline_days,
        "timeline_text": timeline_text,
        "financing": financing,
        "bedrooms": bedrooms,
        "name": name,
        "language": language,
        "score": score,
        "listing_ref": _as_text(slots.get("listing_ref")),
        "wants_showing": wants_showing,
    }
