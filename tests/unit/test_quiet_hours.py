"""Quiet hours (pure): the national window, the stricter states, caps, zones and DST.

The rules come from the shipped config/compliance.yml, so removing a state's line there (or
the code that applies it) fails a test here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config.compliance import load_compliance_config
from gateway.domain.quiet_hours import (
    QuietRules,
    StatePolicy,
    is_allowed,
    lead_state,
    lead_zone,
    next_allowed,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = load_compliance_config(ROOT / "config" / "compliance.yml").quiet
NY = "America/New_York"
CHI = "America/Chicago"
MIAMI = "+13055550101"


def at(zone: str, y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A wall-clock time in `zone`, as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local(t: datetime, zone: str) -> datetime:
    return t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


# -- the national window (TCPA 8:00-21:00) ---------------------------------------------------


def test_inside_the_national_window_is_now() -> None:
    now = at(NY, 2026, 6, 10, 20, 59)  # Wednesday, New York (no stricter rule)
    assert next_allowed(now, NY, "NY", RULES) == now


def test_before_8_waits_for_8_the_same_day() -> None:
    now = at(NY, 2026, 6, 10, 7, 59)
    assert local(next_allowed(now, NY, "NY", RULES), NY) == datetime(2026, 6, 10, 8, 0)


def test_21_00_is_too_late_everywhere() -> None:
    now = at(NY, 2026, 6, 10, 21, 0)
    assert local(next_allowed(now, NY, None, RULES), NY) == datetime(2026, 6, 11, 8, 0)


def test_follow_up_due_22_00_in_miami_goes_at_8_next_day_local() -> None:
    zone, state = lead_zone(MIAMI, None, CHI), lead_state(MIAMI)
    assert (zone, state) == (NY, "FL")
    due = at(zone, 2026, 6, 10, 22, 0)
    assert local(next_allowed(due, zone, state, RULES), NY) == datetime(2026, 6, 11, 8, 0)


def test_result_is_aware_utc() -> None:
    out = next_allowed(at(NY, 2026, 6, 10, 23), NY, None, RULES)
    assert out.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_allowed(datetime(2026, 6, 10, 12), NY, None, RULES)
    with pytest.raises(ValueError, match="naive"):
        next_allowed(at(NY, 2026, 6, 10, 12), NY, "FL", RULES, [datetime(2026, 6, 10, 9)])


# -- stricter states -------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["FL", "OK", "MD", "MS", "NJ"])
def test_20_00_is_already_too_late_in_the_8_to_8_states(state: str) -> None:
    assert is_allowed(at(NY, 2026, 6, 10, 19, 59), NY, state, RULES)
    out = next_allowed(at(NY, 2026, 6, 10, 20, 0), NY, state, RULES)
    assert local(out, NY) == datetime(2026, 6, 11, 8, 0)


def test_state_codes_are_case_insensitive() -> None:
    assert not is_allowed(at(NY, 2026, 6, 10, 20, 30), NY, "fl", RULES)


def test_connecticut_8_30_waits_for_9_00() -> None:
    out = next_allowed(at(NY, 2026, 6, 10, 8, 30), NY, "CT", RULES)
    assert local(out, NY) == datetime(2026, 6, 10, 9, 0)


def test_connecticut_ends_at_20_00() -> None:
    out = next_allowed(at(NY, 2026, 6, 10, 20, 0), NY, "CT", RULES)
    assert local(out, NY) == datetime(2026, 6, 11, 9, 0)


def test_texas_sunday_10_00_waits_for_noon() -> None:
    out = next_allowed(at(CHI, 2026, 6, 14, 10, 0), CHI, "TX", RULES)  # Sunday
    assert local(out, CHI) == datetime(2026, 6, 14, 12, 0)


def test_texas_late_saturday_waits_for_sunday_noon_not_8() -> None:
    out = next_allowed(at(CHI, 2026, 6, 13, 22, 0), CHI, "TX", RULES)
    assert local(out, CHI) == datetime(2026, 6, 14, 12, 0)


def test_texas_saturday_morning_and_sunday_noon_are_allowed() -> None:
    assert is_allowed(at(CHI, 2026, 6, 13, 10, 0), CHI, "TX", RULES)
    assert is_allowed(at(CHI, 2026, 6, 14, 12, 0), CHI, "TX", RULES)
    assert is_allowed(at(CHI, 2026, 6, 14, 20, 30), CHI, "TX", RULES)  # national end kept


def test_sunday_morning_is_fine_outside_texas() -> None:
    assert is_allowed(at("America/Los_Angeles", 2026, 6, 14, 10), "America/Los_Angeles", "CA",
                      RULES)


def test_without_the_config_florida_gets_only_the_national_window() -> None:
    # The state rules are data: the code alone knows none.
    assert is_allowed(at(NY, 2026, 6, 10, 20, 30), NY, "FL", QuietRules())


def test_a_state_window_cannot_widen_the_national_one() -> None:
    rules = QuietRules(states={"XX": StatePolicy(window=(6 * 60, 23 * 60))})
    assert not is_allowed(at(NY, 2026, 6, 10, 7, 0), NY, "XX", rules)
    assert not is_allowed(at(NY, 2026, 6, 10, 21, 30), NY, "XX", rules)


def test_a_closed_day_is_skipped() -> None:
    rules = QuietRules(states={"XX": StatePolicy(days={6: None})})
    out = next_allowed(at(NY, 2026, 6, 13, 22, 0), NY, "XX", rules)  # Saturday night
    assert local(out, NY) == datetime(2026, 6, 15, 8, 0)  # Monday


# -- at most 3 starts per 24 h on one subject (Florida, Oklahoma) ----------------------------


@pytest.mark.parametrize("state", ["FL", "OK"])
def test_fourth_start_waits_until_the_oldest_of_the_last_3_is_24h_old(state: str) -> None:
    starts = [at(NY, 2026, 6, 10, h) for h in (13, 14, 15)]
    out = next_allowed(at(NY, 2026, 6, 10, 16), NY, state, RULES, starts)
    assert out == starts[0] + timedelta(hours=24)


def test_cap_counts_only_the_last_24_hours() -> None:
    starts = [at(NY, 2026, 6, 9, 9), at(NY, 2026, 6, 10, 9), at(NY, 2026, 6, 10, 10)]
    now = at(NY, 2026, 6, 10, 11)
    assert next_allowed(now, NY, "FL", RULES, starts) == now


def test_cap_uses_the_oldest_of_the_last_3_when_there_are_more() -> None:
    starts = [at(NY, 2026, 6, 10, h) for h in (9, 10, 11, 12)]
    out = next_allowed(at(NY, 2026, 6, 10, 13), NY, "FL", RULES, starts)
    assert out == at(NY, 2026, 6, 11, 10)


def test_cap_release_outside_the_window_waits_for_the_next_window() -> None:
    # Three starts at 20:30-20:50 New York time (sent while the lead's zone was thought to be
    # Chicago's): the release, 20:30 the next day, is past Florida's 20:00, so 08:00 after it.
    starts = [at(NY, 2026, 6, 10, 20, m) for m in (30, 40, 50)]
    out = next_allowed(at(NY, 2026, 6, 10, 20, 55), NY, "FL", RULES, starts)
    assert local(out, NY) == datetime(2026, 6, 12, 8, 0)


def test_states_without_a_cap_send_a_fourth() -> None:
    starts = [at(NY, 2026, 6, 10, h) for h in (13, 14, 15)]
    now = at(NY, 2026, 6, 10, 16)
    assert next_allowed(now, NY, "CT", RULES, starts) == now
    assert next_allowed(now, NY, "MD", RULES, starts) == now


# -- daylight saving ---------------------------------------------------------------------------


def test_spring_forward_8_00_is_8_00_on_the_new_clock() -> None:
    # Saturday 2026-03-07 22:00 EST; clocks go forward on Sunday at 02:00.
    out = next_allowed(at(NY, 2026, 3, 7, 22), NY, "FL", RULES)
    assert out == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT (UTC-4)


def test_fall_back_8_00_is_8_00_on_the_new_clock() -> None:
    out = next_allowed(at(NY, 2026, 10, 31, 22), NY, "FL", RULES)
    assert out == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST (UTC-5)


def test_a_window_starting_in_the_spring_gap_opens_at_the_jump() -> None:
    rules = QuietRules(window=(2 * 60 + 30, 21 * 60))
    out = next_allowed(datetime(2026, 3, 8, 6, 0, tzinfo=UTC), NY, None, rules)  # 01:00 EST
    assert out == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT, the first 02:30-or-later


def test_a_window_starting_in_the_repeated_hour_opens_at_its_first_occurrence() -> None:
    rules = QuietRules(window=(1 * 60 + 30, 21 * 60))
    out = next_allowed(datetime(2026, 11, 1, 4, 30, tzinfo=UTC), NY, None, rules)  # 00:30 EDT
    assert out == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST


# -- lead zone and state ------------------------------------------------------------------------


def test_lead_zone_known_zone_wins() -> None:
    assert lead_zone(MIAMI, "America/Denver", CHI) == "America/Denver"


def test_lead_zone_from_the_phone_then_the_default() -> None:
    assert lead_zone(MIAMI, None, CHI) == NY
    assert lead_zone("+13105550101", None, NY) == "America/Los_Angeles"
    assert lead_zone("+18005550101", None, CHI) == CHI  # toll-free: many zones
    assert lead_zone("+447911123456", None, CHI) == CHI  # several UK zones
    assert lead_zone("not a phone", None, CHI) == CHI
    assert lead_zone(None, None, CHI) == CHI


def test_lead_zone_ignores_an_invalid_known_zone() -> None:
    assert lead_zone(MIAMI, "Mars/Olympus", CHI) == NY


@pytest.mark.parametrize(
    ("phone", "state"),
    [
        (MIAMI, "FL"),
        ("+18505550101", "FL"),
        ("+12035550101", "CT"),
        ("+14055550101", "OK"),
        ("+14105550101", "MD"),
        ("+16015550101", "MS"),
        ("+12015550101", "NJ"),
        ("+15125550101", "TX"),
        ("+19155550101", "TX"),
        ("+12125550101", "NY"),  # "New York, NY": city form
        ("+14155550101", "CA"),  # "San Francisco, CA"
        ("+12065550101", "WA"),  # "Washington State"
        ("+12025550101", "DC"),  # "Washington D.C."
        ("+18005550101", None),  # toll-free
        ("+17875550101", None),  # Puerto Rico is not a state
        ("+447911123456", None),
        ("+1305", None),
        (None, None),
    ],
)
def test_lead_state(phone: str | None, state: str | None) -> None:
    assert lead_state(phone) == state


# -- properties ----------------------------------------------------------------------------------

ZONES = [NY, CHI, "America/Los_Angeles", "America/Phoenix", "Europe/London", "Asia/Kolkata",
         "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia", "America/Havana"]
STATES = [None, "FL", "OK", "MD", "MS", "NJ", "CT", "TX", "NY"]
instants = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@st.composite
def situations(draw: st.DrawFn) -> tuple[datetime, str, str | None, list[datetime]]:
    now = draw(instants)
    starts = draw(st.lists(st.integers(0, 48 * 60), max_size=6))
    return (
        now,
        draw(st.sampled_from(ZONES)),
        draw(st.sampled_from(STATES)),
        [now - timedelta(minutes=m) for m in starts],
    )


def _inside(t: datetime, zone: str, state: str | None) -> bool:
    wall = t.astimezone(ZoneInfo(zone))
    span = RULES.span(state, wall.weekday())
    minute = wall.hour * 60 + wall.minute + wall.second / 60 + wall.microsecond / 6e7
    return span is not None and span[0] <= minute < span[1] and 8 * 60 <= minute < 21 * 60


@settings(max_examples=300, deadline=None)
@given(situations())
def test_next_allowed_is_never_before_now_and_inside_the_window(
    case: tuple[datetime, str, str | None, list[datetime]],
) -> None:
    now, zone, state, starts = case
    out = next_allowed(now, zone, state, RULES, starts)
    assert out >= now
    assert _inside(out, zone, state)
    cap = RULES.cap(state)
    if cap is not None:
        assert sum(1 for s in starts if s > out - timedelta(hours=24)) < cap


@settings(max_examples=300, deadline=None)
@given(situations())
def test_next_allowed_is_idempotent(case: tuple[datetime, str, str | None, list[datetime]]) -> None:
    now, zone, state, starts = case
    once = next_allowed(now, zone, state, RULES, starts)
    assert next_allowed(once, zone, state, RULES, starts) == once


@settings(max_examples=300, deadline=None)
@given(situations())
def test_next_allowed_is_the_first_allowed_instant(
    case: tuple[datetime, str, str | None, list[datetime]],
) -> None:
    now, zone, state, starts = case
    out = next_allowed(now, zone, state, RULES, starts)
    if out > now:
        before = out - timedelta(seconds=1)
        assert before < now or not is_allowed(before, zone, state, RULES, starts)
