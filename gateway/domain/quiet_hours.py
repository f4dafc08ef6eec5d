"""Quiet hours for messages Pronto starts itself (pure): when may a first touch go out?

Only messages Pronto *initiates* (first touches of form leads, follow-ups, reminders, nudges)
are held; a reply to a message the prospect just sent is never held (DESIGN.md §1.8, see
`gateway.domain.outbound_gate`). The rules are data (`config/compliance.yml`, loaded by
`gateway.config.compliance`): a national window (TCPA: 8:00-21:00 in the called party's local
time) and stricter state windows and per-24-hour caps. A state can only make the national
window narrower, never wider, because federal law applies in every state.

Times are judged by the lead's *wall clock*: "not before 8:00" means 8:00 on the lead's clock
whatever the UTC offset is that day, so a daylight-saving change moves the UTC instant, not
the rule. Nothing here reads a clock; callers pass `now_utc`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

Span = tuple[int, int]
"""A daily window in minutes after local midnight, start inclusive, end exclusive (<= 1440)."""

NATIONAL_WINDOW: Span = (8 * 60, 21 * 60)
"""TCPA, 47 CFR 64.1200(c)(1): no solicitation before 8 a.m. or after 9 p.m. local time."""

# phonenumbers' English geocoder names US area codes either by state ("Florida") or by city and
# state code ("Miami, FL"); two states carry a qualifier. This is geography, not policy, so it
# lives in code; which states are strict is policy and lives in config/compliance.yml.
US_STATES: Mapping[str, str] = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "District of Columbia": "DC", "Washington D.C.": "DC",
}
STATE_CODES: frozenset[str] = frozenset(US_STATES.values())
_CITY_STATE = re.compile(r",\s*([A-Z]{2})$")
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StatePolicy:
    """One state's stricter rules, as written in config/compliance.yml.

    Attributes:
        window: the state's daily window, or None to keep the national one.
        days: per-weekday overrides (Monday = 0): a span, or None for no starts that day.
        max_starts_per_24h: at most this many initiated messages on one subject in any
            24 hours, or None for no cap.
    """

    window: Span | None = None
    days: Mapping[int, Span | None] = field(default_factory=dict)
    max_starts_per_24h: int | None = None


@dataclass(frozen=True, slots=True)
class QuietRules:
    """The national window and the states' stricter policies (keys: 2-letter codes)."""

    window: Span = NATIONAL_WINDOW
    states: Mapping[str, StatePolicy] = field(default_factory=dict)

    def policy(self, state: str | None) -> StatePolicy | None:
        """The policy of `state` (any case), or None when the state has no stricter rule."""
        return self.states.get(state.upper()) if state else None

    def span(self, state: str | None, weekday: int) -> Span | None:
        """The allowed window on `weekday` (Monday = 0) for a lead in `state`; None: closed.

        The state's span is intersected with the national one: a state can narrow it only.
        """
        policy = self.policy(state)
        if policy is None:
            return self.window
        if weekday in policy.days:
            own = policy.days[weekday]
            if own is None:
                return None
        else:
            own = policy.window or self.window
        start, end = max(own[0], self.window[0]), min(own[1], self.window[1])
        return (start, end) if start < end else None

    def cap(self, state: str | None) -> int | None:
        """The per-24-hour cap of initiated messages on one subject for `state`, if any."""
        policy = self.policy(state)
        return policy.max_starts_per_24h if policy else None


def lead_zone(phone_e164: str | None, known_zone: str | None, default_zone: str) -> str:
    """The IANA time zone to judge a lead's quiet hours in.

    A zone the lead record knows (from an address or a form) wins; else the phone number's
    zone when phonenumbers gives exactly one (most US area codes; not toll-free numbers or area
    codes split across zones); else `default_zone` (the office's zone). A known zone that is
    not a valid IANA name is ignored rather than raised: a bad value typed into a form must not
    stop the outbound path.

    Args:
        phone_e164: the lead's phone number in E.164, if any.
        known_zone: a zone recorded for the lead, if any.
        default_zone: the fallback, a valid IANA name.

    Returns:
        An IANA time zone name.
    """
    if known_zone and _valid_zone(known_zone):
        return known_zone
    number = _parse(phone_e164)
    if number is not None:
        zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
        if len(zones) == 1 and _valid_zone(zones[0]):
            return zones[0]
    return default_zone


def lead_state(phone_e164: str | None) -> str | None:
    """The US state (2-letter code) of a phone number's area code; None when not known.

    Uses phonenumbers' geocoder rather than an area-code table in config/compliance.yml:
    the geocoder covers every US area code, including the overlays added every year (a table
    of our own would go stale silently and a new Florida overlay would escape the Florida
    rules), and it is refreshed with each phonenumbers release. Only numbers phonenumbers
    assigns to the US count (not Puerto Rico, Canada or other NANP regions); toll-free and
    non-geographic numbers have no state.

    An area code is where the number was issued, not where the person lives; a caller that
    knows the lead's address state should prefer it.

    Args:
        phone_e164: the lead's phone number in E.164, if any.

    Returns:
        A code like "FL", or None.
    """
    number = _parse(phone_e164)
    if number is None or phonenumbers.region_code_for_number(number) != "US":
        return None
    description = geocoder.description_for_number(number, "en").strip()
    if not description:
        return None
    match = _CITY_STATE.search(description)
    if match and match.group(1) in STATE_CODES:
        return match.group(1)
    return US_STATES.get(description)


def next_allowed(
    now_utc: datetime,
    zone: str,
    state: str | None,
    rules: QuietRules,
    recent_starts_utc: Sequence[datetime] = (),
) -> datetime:
    """The first instant at or after `now_utc` when Pronto may start a message to this lead.

    Args:
        now_utc: the present (aware).
        zone: the lead's IANA time zone (see `lead_zone`).
        state: the lead's US state code (see `lead_state`), or None.
        rules: the quiet-hours rules.
        recent_starts_utc: the times (aware) of messages Pronto started to this lead on the
            same subject; only those of the last 24 hours matter, and only where the state
            caps them (the 4th start in 24 h waits until the oldest of the last 3 is 24 h old).

    Returns:
        `now_utc` (in UTC) when sending now is allowed, else the next allowed instant (aware,
        UTC). Always inside the window on the lead's wall clock and within the cap.

    Raises:
        ValueError: `now_utc` or a start is naive, or the rules leave no day open.
    """
    _require_aware(now_utc)
    for start in recent_starts_utc:
        _require_aware(start)
    tz = ZoneInfo(zone)
    cap = rules.cap(state)
    t = now_utc.astimezone(UTC)
    # Both steps only move forward and each one's condition, once met, stays met after the
    # other moves (fewer starts fall inside the 24 h as time passes), so this settles in a
    # couple of rounds; the bound only guards against a bug.
    for _ in range(16):
        moved = _open_window(_after_cap(t, cap, recent_starts_utc), tz, state, rules)
        if moved == t:
            return t
        t = moved
    raise RuntimeError("next_allowed did not settle")  # pragma: no cover


def is_allowed(
    now_utc: datetime,
    zone: str,
    state: str | None,
    rules: QuietRules,
    recent_starts_utc: Sequence[datetime] = (),
) -> bool:
    """Whether Pronto may start a message to this lead at `now_utc` (see `next_allowed`)."""
    return next_allowed(now_utc, zone, state, rules, recent_starts_utc) == now_utc


def _after_cap(t: datetime, cap: int | None, starts: Sequence[datetime]) -> datetime:
    """The first instant >= t at which fewer than `cap` starts lie in the last 24 hours."""
    if cap is None:
        return t
    # Starts later than t (clock skew between workers) count too: they were sent.
    inside = sorted(s.astimezone(UTC) for s in starts if s > t - _DAY)
    if len(inside) < cap:
        return t
    # At T, the starts in (T - 24h, ...] number fewer than cap exactly when the
    # (n - cap + 1)-th oldest is 24 h old: with cap 3 and 3 starts, the oldest of the three.
    return max(t, inside[len(inside) - cap] + _DAY)


def _open_window(t: datetime, tz: ZoneInfo, state: str | None, rules: QuietRules) -> datetime:
    """`t` when inside the day's window on the lead's wall clock, else the next window start."""
    local = t.astimezone(tz)
    span = rules.span(state, local.weekday())
    if span is not None and _inside(local, span):
        return t
    for offset in range(9):
        day = local.date() + timedelta(days=offset)
        span = rules.span(state, day.weekday())
        if span is None:
            continue
        start = _first_instant_at(day, span[0], tz)
        if start > t:
            return start
    raise ValueError(f"quiet-hours rules for {state or 'the default'} leave no day open")


def _inside(local: datetime, span: Span) -> bool:
    micros = ((local.hour * 60 + local.minute) * 60 + local.second) * 10**6 + local.microsecond
    return span[0] * 60 * 10**6 <= micros < span[1] * 60 * 10**6


def _first_instant_at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) whose wall clock in `tz` reads `day` at `minute` or later.

    A wall time that occurs twice (clocks going back) gives its first occurrence. A wall time
    that does not exist (clocks jumping forward over it) gives the instant of the jump: the
    first moment the clock reads later than the wanted time.
    """
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    tries = [wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [u for u in tries if _wall(u, tz) == wall]
    if real:
        return min(real)
    # In a gap: fold=1 reads before the wanted time and fold=0 after it. Bisect to the
    # second (transitions fall on whole seconds) for the jump.
    lo, hi = min(tries), max(tries)
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
        if _wall(mid, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def _wall(u: datetime, tz: ZoneInfo) -> datetime:
    return u.astimezone(tz).replace(tzinfo=None)


def _parse(phone_e164: str | None) -> phonenumbers.PhoneNumber | None:
    if not phone_e164:
        return None
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _require_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t!r} is a naive datetime; pass an aware (UTC) time")
