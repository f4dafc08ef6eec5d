"""Escalation ladders (pure) and schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain import escalation as esc
from gateway.domain.schedule import WeeklySchedule, parse_days, parse_span

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
LADDER = esc.AcceptLadder(timedelta(minutes=5), True, 2, True)


def test_accept_timers_half_and_deadline() -> None:
    assert esc.accept_timers(T0, LADDER) == [
        (esc.ACCEPT_HALF, T0 + timedelta(minutes=2.5)),
        (esc.ACCEPT_DEADLINE, T0 + timedelta(minutes=5)),
    ]
    no_half = esc.AcceptLadder(timedelta(minutes=10), realert_at_half=False)
    assert esc.accept_timers(T0, no_half) == [(esc.ACCEPT_DEADLINE, T0 + timedelta(minutes=10))]


def test_deadline_reassigns_then_team_lead_pool() -> None:
    assert esc.on_accept_deadline(0, LADDER, has_candidate=True, business=True) == (esc.REASSIGN,)
    assert esc.on_accept_deadline(1, LADDER, has_candidate=True, business=True) == (esc.REASSIGN,)
    assert esc.on_accept_deadline(2, LADDER, has_candidate=True, business=True) == (
        esc.TEAM_LEAD, esc.POOL)
    assert esc.on_accept_deadline(0, LADDER, has_candidate=False, business=False) == (
        esc.TEAM_LEAD, esc.POOL, esc.TELL_PROSPECT)
    no_pool = esc.AcceptLadder(timedelta(minutes=5), pool=False)
    assert esc.unclaimed_steps(no_pool, business=True) == (esc.TEAM_LEAD,)


def test_reply_lapse_ladder() -> None:
    ladder = esc.ReplyLadder(timedelta(minutes=15), timedelta(minutes=10), True,
                             timedelta(minutes=20))
    assert esc.reply_lapse_step(0, ladder) == esc.LapseStep(esc.NUDGE, 1, timedelta(minutes=10))
    assert esc.reply_lapse_step(1, ladder) == esc.LapseStep(esc.TEAM_LEAD, 2,
                                                            timedelta(minutes=20))
    assert esc.reply_lapse_step(2, ladder).action == esc.REASSIGN
    plain = esc.ReplyLadder(timedelta(minutes=15), timedelta(minutes=10))
    assert esc.reply_lapse_step(1, plain) == esc.LapseStep(esc.TEAM_LEAD, None, None)


def test_describe_opening() -> None:
    office = WeeklySchedule.parse("America/New_York", {"mon-fri": "09:00-18:00"})
    mon_8pm = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    opening = office.next_opening(mon_8pm)
    assert opening is not None
    assert esc.describe_opening(opening, mon_8pm, "en") == "tomorrow at 9:00 AM"
    assert esc.describe_opening(opening, mon_8pm, "es") == "mañana a las 9:00"
    fri_8pm = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    opening = office.next_opening(fri_8pm)
    assert opening is not None
    assert esc.describe_opening(opening, fri_8pm, "en") == "Monday at 9:00 AM"
    assert esc.describe_opening(opening, fri_8pm, "es") == "el lunes a las 9:00"
    early = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Monday 6:00 in Miami
    opening = office.next_opening(early)
    assert opening is not None and esc.describe_opening(opening, early, "en") == "today at 9:00 AM"


def test_schedule_windows_cross_midnight_and_time_zones() -> None:
    night = WeeklySchedule.parse("America/New_York", {"fri": "20:00-08:00"})
    assert night.contains(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))   # Fri 21:00 NY
    assert night.contains(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # Sat 07:00 NY
    assert not night.contains(datetime(2026, 11, 28, 14, 0, tzinfo=UTC))  # Sat 09:00 NY
    madrid = WeeklySchedule.parse("Europe/Madrid", {"mon-fri": ["09:00-14:00", "16:00-20:00"]})
    assert madrid.contains(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert not madrid.contains(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    assert parse_days("sat-mon") == frozenset({5, 6, 0})
    assert parse_days("lun-vie") == frozenset(range(5))
    assert parse_span("00:00-24:00") == (0, 1440)
    for bad in ("9-5", "10:00-10:00", "25:00-26:00"):
        with pytest.raises(ValueError):
            parse_span(bad)
    with pytest.raises(ValueError):
        parse_days("funday")
