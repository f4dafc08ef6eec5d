"""Appointment times typed by agents and prospects' replies (pure), English and Spanish.

"Now" is Tuesday 2026-12-01 10:00 in New York unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain.appointment_time import format_when, parse_appointment_reply, parse_when

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=NY)  # a Tuesday


def ny(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the examples of the brief
        ("tomorrow 5pm", ny(2026, 12, 2, 17)),
        ("tomorrow at 5:30 pm", ny(2026, 12, 2, 17, 30)),
        ("today 17:00", ny(2026, 12, 1, 17)),
        ("mañana a las 5", ny(2026, 12, 2, 17)),
        ("mañana a las 5 de la tarde", ny(2026, 12, 2, 17)),
        ("mañana 17:30", ny(2026, 12, 2, 17, 30)),
        ("hoy a las 6pm", ny(2026, 12, 1, 18)),
        ("sat 10am", ny(2026, 12, 5, 10)),
        ("saturday 10", ny(2026, 12, 5, 10)),
        ("sábado 10am", ny(2026, 12, 5, 10)),
        ("el sábado a las 10", ny(2026, 12, 5, 10)),
        ("next tuesday 3pm", ny(2026, 12, 8, 15)),
        ("el próximo martes a las 3", ny(2026, 12, 8, 15)),
        ("dec 5 2pm", ny(2026, 12, 5, 14)),
        ("5 de diciembre a las 2", ny(2026, 12, 5, 14)),
        ("12/5 14:00", ny(2026, 12, 5, 14)),
        ("2026-12-05 14:00", ny(2026, 12, 5, 14)),
        ("in 2 hours", ny(2026, 12, 1, 12)),
        ("en 2 horas", ny(2026, 12, 1, 12)),
        # case, accents and punctuation do not matter
        ("TOMORROW 5PM", ny(2026, 12, 2, 17)),
        ("Manana a las 5", ny(2026, 12, 2, 17)),
        ("sabado, 10 a.m.", ny(2026, 12, 5, 10)),
        ("mañana a las 5 p. m.", ny(2026, 12, 2, 17)),
        ("tomorrow @ 5pm", ny(2026, 12, 2, 17)),
        ("5pm tomorrow", ny(2026, 12, 2, 17)),
        ("Dec. 5, 2pm", ny(2026, 12, 5, 14)),
        ("2026-12-05T14:00", ny(2026, 12, 5, 14)),
        ("mañana 17.30", ny(2026, 12, 2, 17, 30)),
        # am/pm without a marker: 1–7 is pm, 8–11 am, qualifiers decide
        ("tomorrow at 9", ny(2026, 12, 2, 9)),
        ("tomorrow at 7", ny(2026, 12, 2, 19)),
        ("tomorrow at 12", ny(2026, 12, 2, 12)),
        ("mañana a las 5 de la mañana", ny(2026, 12, 2, 5)),
        ("mañana por la mañana a las 9", ny(2026, 12, 2, 9)),
        ("mañana a las 8 de la noche", ny(2026, 12, 2, 20)),
        ("tomorrow at 6 in the morning", ny(2026, 12, 2, 6)),
        ("tomorrow evening at 7", ny(2026, 12, 2, 19)),
        ("mañana 05:30", ny(2026, 12, 2, 5, 30)),  # zero-padded: 24-hour clock
        ("mañana a las 17h", ny(2026, 12, 2, 17)),
        ("tomorrow 12am", ny(2026, 12, 2, 0)),
        ("tomorrow noon", ny(2026, 12, 2, 12)),
        ("mañana al mediodía", ny(2026, 12, 2, 12)),
        ("tonight at 8", ny(2026, 12, 1, 20)),
        ("esta noche a las 8", ny(2026, 12, 1, 20)),
        ("esta tarde a las 4", ny(2026, 12, 1, 16)),
        # number words and Spanish fractions
        ("mañana a las cinco y media", ny(2026, 12, 2, 17, 30)),
        ("mañana a la una", ny(2026, 12, 2, 13)),
        ("mañana a las 4 y cuarto", ny(2026, 12, 2, 16, 15)),
        ("tomorrow at five", ny(2026, 12, 2, 17)),
        # relative days and durations
        ("pasado mañana a las 11", ny(2026, 12, 3, 11)),
        ("day after tomorrow 11am", ny(2026, 12, 3, 11)),
        ("in 3 days at 4pm", ny(2026, 12, 4, 16)),
        ("en 3 días a las 4", ny(2026, 12, 4, 16)),
        ("in 45 minutes", ny(2026, 12, 1, 10, 45)),
        ("in an hour", ny(2026, 12, 1, 11)),
        ("en una hora", ny(2026, 12, 1, 11)),
        ("en media hora", ny(2026, 12, 1, 10, 30)),
        ("in half an hour", ny(2026, 12, 1, 10, 30)),
        # weekdays
        ("tuesday 3pm", ny(2026, 12, 1, 15)),  # today: the time is still ahead
        ("tuesday 9am", ny(2026, 12, 8, 9)),  # today's 9am is gone: next week
        ("el martes a las 9", ny(2026, 12, 8, 9)),
        ("this saturday 10am", ny(2026, 12, 5, 10)),
        ("el sábado que viene a las 10", ny(2026, 12, 5, 10)),
        ("next saturday 10am", ny(2026, 12, 5, 10)),
        ("mon 9am", ny(2026, 12, 7, 9)),
        ("wed 4pm", ny(2026, 12, 2, 16)),
        ("miércoles a las 4", ny(2026, 12, 2, 16)),
        ("vie 11am", ny(2026, 12, 4, 11)),
        ("domingo 1pm", ny(2026, 12, 6, 13)),
        ("on friday at 2:15pm", ny(2026, 12, 4, 14, 15)),
        ("mar 10am", ny(2026, 12, 8, 10)),  # a lone "mar" is martes
        # calendar dates
        ("december 5th at 2pm", ny(2026, 12, 5, 14)),
        ("el 5 de diciembre a las 2", ny(2026, 12, 5, 14)),
        ("5 dic 14:00", ny(2026, 12, 5, 14)),
        ("mar 5 2pm", ny(2027, 3, 5, 14)),  # "mar 5" is March 5
        ("nov 30 2pm", ny(2027, 11, 30, 14)),  # passed this year: next year
        ("1/15 10am", ny(2027, 1, 15, 10)),
        ("25/12 10am", ny(2026, 12, 25, 10)),  # only day/month can be meant
        ("12/5/2026 2pm", ny(2026, 12, 5, 14)),
        ("12/5/26 2pm", ny(2026, 12, 5, 14)),
        ("dec 5 2026 2pm", ny(2026, 12, 5, 14)),
        ("5 de diciembre de 2026 a las 2", ny(2026, 12, 5, 14)),
        ("sat dec 5 10am", ny(2026, 12, 5, 10)),  # weekday and date agree
        ("Sat Dec 5 at 10:00 AM", ny(2026, 12, 5, 10)),  # format_when's own English
        ("sáb 5 de dic a las 10:00", ny(2026, 12, 5, 10)),  # and its Spanish
        ("dec 1 3pm", ny(2026, 12, 1, 15)),  # today, still ahead
        # a time alone: its next occurrence
        ("5pm", ny(2026, 12, 1, 17)),
        ("a las 5", ny(2026, 12, 1, 17)),
        ("9am", ny(2026, 12, 2, 9)),
        ("at 10:30", ny(2026, 12, 1, 10, 30)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    got = parse_when(text, NOW)
    assert got == expected
    assert got is not None and got.utcoffset() == expected.utcoffset() and got.tzinfo is NY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",  # no time: never guessed
        "el sábado",
        "dec 5",
        "soon",
        "whenever works",
        "tomorrow 5pm or friday",  # two candidates
        "tomorrow 5pm 6pm",
        "tomorrow saturday 10am",
        "sat dec 6 10am",  # Dec 6 is a Sunday
        "5pm de la mañana",  # contradiction
        "tomorrow 17pm",
        "tomorrow 25:00",
        "tomorrow 5:75",
        "today 9am",  # already gone
        "dec 1 9am",  # today's date, time gone: a typo, not next year
        "2026-11-30 14:00",  # explicit past date
        "2027-12-05 14:00",  # more than a year ahead
        "in 10000 hours",
        "in 0 hours",
        "feb 30 3pm",
        "13/13 10am",
        "tomorrow 5pm at 123 main st",  # leftover words
        "mar",
        "call me at 305 555 0101",
        "tomorrow morning",  # a part of day is not a time
        "once",
        "10",  # a bare number needs a day beside it
    ],
)
def test_parse_when_refuses(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_once_is_eleven_outside_english() -> None:
    assert parse_when("mañana a las once", NOW, "es") == ny(2026, 12, 2, 11)
    assert parse_when("tomorrow at once", NOW, "en") is None


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("tomorrow 5pm", datetime(2026, 12, 1, 10))


def test_one_year_limit_and_rolling() -> None:
    assert parse_when("dec 1 9:59am", NOW) is None
    assert parse_when("2027-12-01 09:59", NOW) == ny(2027, 12, 1, 9, 59)  # just under a year
    assert parse_when("2027-12-01 10:01", NOW) is None
    late = datetime(2026, 12, 30, 12, tzinfo=NY)
    assert parse_when("jan 2 10am", late) == ny(2027, 1, 2, 10)
    assert parse_when("el 2 de enero a las 10", late) == ny(2027, 1, 2, 10)


def test_a_weekday_late_in_the_day_is_next_week() -> None:
    evening = datetime(2026, 12, 5, 18, tzinfo=NY)  # Saturday 18:00
    assert parse_when("sat 10am", evening) == ny(2026, 12, 12, 10)
    assert parse_when("sat 7pm", evening) == ny(2026, 12, 5, 19)
    assert parse_when("next sat 7pm", evening) == ny(2026, 12, 12, 19)
    assert parse_when("5pm", evening) == ny(2026, 12, 6, 17)  # tomorrow


# --- DST: wall time is kept; durations are real elapsed time ---------------------------------
# (Subtracting two datetimes of one zone gives wall-clock difference, hence the UTC below.)


def test_tomorrow_across_fall_back_keeps_wall_time() -> None:
    now = datetime(2026, 10, 31, 10, tzinfo=NY)  # EDT; clocks go back on Nov 1
    got = parse_when("tomorrow 10am", now)
    assert got == ny(2026, 11, 1, 10)
    assert got is not None and got.utcoffset() == timedelta(hours=-5)
    assert got.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=25)


def test_tomorrow_across_spring_forward_keeps_wall_time() -> None:
    now = datetime(2027, 3, 13, 10, tzinfo=NY)  # EST; clocks go forward on Mar 14
    got = parse_when("mañana a las 10", now)
    assert got == ny(2027, 3, 14, 10)
    assert got is not None and got.utcoffset() == timedelta(hours=-4)
    assert got.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=23)


def test_time_in_the_spring_forward_gap_moves_forward() -> None:
    now = datetime(2027, 3, 13, 10, tzinfo=NY)
    got = parse_when("tomorrow 2:30am", now)
    assert got is not None and got.replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)


def test_duration_across_spring_forward_is_elapsed_time() -> None:
    now = datetime(2027, 3, 14, 1, 30, tzinfo=NY)
    got = parse_when("in 2 hours", now)
    assert got is not None and got.replace(tzinfo=None) == datetime(2027, 3, 14, 4, 30)
    assert got.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=2)


def test_other_zone() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    now = datetime(2026, 3, 28, 12, tzinfo=madrid)  # Spain moves forward on Mar 29
    got = parse_when("mañana a las 12", now, "es")
    assert got == datetime(2026, 3, 29, 12, tzinfo=madrid)
    assert got is not None and got.utcoffset() == timedelta(hours=2)


# --- format_when ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "language", "expected"),
    [
        (ny(2026, 12, 5, 10), "en", "Sat Dec 5 at 10:00 AM"),
        (ny(2026, 12, 5, 10), "es", "sáb 5 de dic a las 10:00"),
        (ny(2026, 12, 2, 17, 30), "en", "Wed Dec 2 at 5:30 PM"),
        (ny(2026, 12, 2, 17, 30), "es", "mié 2 de dic a las 17:30"),
        (ny(2027, 1, 4, 12), "en", "Mon Jan 4 at 12:00 PM"),
        (ny(2027, 1, 4, 0, 15), "en", "Mon Jan 4 at 12:15 AM"),
        (ny(2027, 1, 4, 13), "es", "lun 4 de ene a las 13:00"),
        (ny(2027, 1, 4, 1), "es", "lun 4 de ene a la 1:00 de la mañana"),
        (ny(2027, 8, 1, 7, 5), "es-MX", "dom 1 de ago a las 7:05 de la mañana"),
        (ny(2026, 12, 1, 15), "pt", "Tue Dec 1 at 3:00 PM"),  # unknown: English
    ],
)
def test_format_when(dt: datetime, language: str, expected: str) -> None:
    assert format_when(dt, language) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=364 * 24 * 60), st.sampled_from(["en", "es"]))
def test_format_when_reads_back(minutes: int, language: str) -> None:
    """What a confirmation says is what parse_when reads (wall time; the repeated hour of
    fall-back reads as its first occurrence)."""
    dt = (NOW + timedelta(minutes=minutes)).astimezone(NY)
    got = parse_when(format_when(dt, language), NOW, language)
    assert got is not None and got.replace(tzinfo=None) == dt.replace(tzinfo=None)


_FRAGMENTS = ["tomorrow", "mañana", "hoy", "sat", "next", "el", "martes", "a las", "at", "5",
              "10", "17:30", "pm", "am", "de la tarde", "de la mañana", "dec", "12/5", "in",
              "2", "hours", "2026-12-05", "y media", "noon", "25", "0", "99", "/", ":", "-"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40),
                 st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map(" ".join)))
def test_parse_when_never_raises_and_stays_in_range(text: str) -> None:
    got = parse_when(text, NOW)
    assert got is None or (NOW < got <= NOW.replace(year=2027) and got.tzinfo is NY)


# --- the prospect's reply -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C", "confirm"),
        ("c.", "confirm"),
        ("confirm", "confirm"),
        ("Confirmed!", "confirm"),
        ("yes", "confirm"),
        ("Y", "confirm"),
        ("confirmo", "confirm"),
        ("sí", "confirm"),
        ("Si, gracias", "confirm"),
        ("ok see you then", "confirm"),
        ("see you later", "confirm"),
        ("sounds good 👍", "confirm"),
        ("👍", "confirm"),
        ("perfecto, nos vemos", "confirm"),
        ("ahí estaré", "confirm"),
        ("de acuerdo", "confirm"),
        ("yes, I'll be there at 5", "confirm"),  # a time, but no question
        ("can we do 6 instead?", "reschedule"),
        ("could we move it to saturday", "reschedule"),
        ("¿podemos cambiarlo a las 6?", "reschedule"),
        ("otro día", "reschedule"),
        ("I need to reschedule", "reschedule"),
        ("can we do it later", "reschedule"),
        ("how about tomorrow?", "reschedule"),
        ("saturday?", "reschedule"),
        ("mejor el sábado a las 10?", "reschedule"),
        ("I can't make it, can we do 6?", "reschedule"),  # reschedule beats cancel
        ("no puedo a esa hora, ¿otra hora?", "reschedule"),
        ("yes but can we make it 7 instead", "reschedule"),
        ("cancel", "cancel"),
        ("CANCEL please", "cancel"),
        ("I can't make it", "cancel"),
        ("cancela", "cancel"),
        ("cancelen la cita", "cancel"),
        ("no puedo ir", "cancel"),
        ("no voy a poder ir", "cancel"),
        ("never mind, we found a place", "cancel"),
        ("ya no me interesa", "cancel"),
        ("no", None),  # decided: neither cancel nor move; goes to the agent as text
        ("nope", None),
        ("not sure", None),
        ("I can't confirm yet", None),
        ("please don't cancel", None),
        ("what's the address?", None),
        ("is there parking?", None),
        ("thanks", None),
        ("I can't wait!", None),
        ("no puedo esperar", None),
        ("si puedo voy", None),  # "si" is "if" here
        ("", None),
    ],
)
def test_parse_appointment_reply(text: str, expected: str | None) -> None:
    assert parse_appointment_reply(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from([None, "en", "es"]))
def test_parse_appointment_reply_never_raises(text: str, language: str | None) -> None:
    assert parse_appointment_reply(text, language) in (None, "confirm", "reschedule", "cancel")
