"""Follow-up sequences as data: when each step is due and what it says. Pure.

A sequence is a list of steps, each due at an offset from the sequence's start ("10m", "1h",
"3d") or at a named moment ("next_morning": 9:30 the next day in the lead's zone). A step's
text is the first of its variants whose placeholders are all known, so "Still looking in
{location}, {first_name}?" is used only when both are, and a plainer variant otherwise.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.I)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
NEXT_MORNING = "next_morning"
MORNING = time(9, 30)


def parse_offset(text: str) -> timedelta:
    """"10m", "1h", "3d", "2w" → a timedelta.

    Raises:
        ValueError: not of that form.
    """
    m = _OFFSET.match(text)
    if not m:
        raise ValueError(f"{text!r}: expected a number and m, h, d or w (e.g. 10m, 3d)")
    return timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})


@dataclass(frozen=True, slots=True)
class Step:
    """One step: due `after` the start, or at `at` ("next_morning"); says `template`."""

    template: str
    after: timedelta | None = None
    at: str | None = None


def due_at(start_utc: datetime, step: Step, zone: str) -> datetime:
    """When `step` of a sequence started at `start_utc` is due (aware UTC)."""
    if step.after is not None:
        return start_utc + step.after
    if step.at == NEXT_MORNING:
        tz = ZoneInfo(zone)
        local = start_utc.astimezone(tz)
        morning = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=tz)
        return morning.astimezone(start_utc.tzinfo)
    raise ValueError(f"step {step.template}: neither an offset nor a known moment")


def placeholders(text: str) -> set[str]:
    """The `{names}` a text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def fill(variants: Sequence[str], facts: Mapping[str, str | None]) -> str | None:
    """The first variant whose placeholders are all known, filled; None when none fits."""
    known = {k: v for k, v in facts.items() if v}
    for variant in variants:
        if placeholders(variant) <= set(known):
            return variant.format_map(known)
    return None


def first_name(name: str | None) -> str | None:
    """The first word of a name, for a friendly nudge ("Maria" of "Maria Lopez")."""
    parts = (name or "").split()
    return parts[0][:40] if parts else None
