"""Timelines in days from today to the start of what is meant.

Today is Tuesday 2026-12-01 (tests/conversations/README.md). Reference points: 2027-01-01 is
31 days away, 2027-02-01 62, 2027-03-01 90, 2027-06-01 182, 2027-03-20 (spring) 109.
"""

from __future__ import annotations

from datetime import date

import pytest

from actions.normalise import parse_timeline

TODAY = date(2026, 12, 1)  # a Tuesday

EN_CASES: list[tuple[str, int | None]] = [
    ("asap", 0),
    ("right now", 0),
    ("today", 0),
    ("tomorrow", 1),
    ("this week", 3),
    ("next week", 7),
    ("this month", 15),
    ("next month", 30),
    ("in 45 days", 45),
    ("in two weeks", 14),
    ("within 3 months", 90),
    ("in six months", 180),
    ("in a year", 365),
    ("in two years", 730),
    ("in a couple of weeks", 14),
    ("in a few days", 3),
    ("in a few months", 90),
    ("a month and a half", 45),
    ("in twenty-one days", 21),
    ("not now, maybe in 3 months", 90),
    ("by February 1st", 62),
    ("Feb 1", 62),
    ("1st of February", 62),
    ("February first", 62),
    ("Jan 15", 45),
    ("by january 15th, 2027", 45),
    ("2/15", 76),  # 2027-02-15
    ("12/15", 14),  # 2026-12-15
    ("end of the month", 30),  # 2026-12-31
    ("by the end of next month", 61),  # 2027-01-31
    ("end of the year", 30),
    ("on friday", 3),
    ("this saturday", 4),
    ("next monday", 6),
    ("tuesday", 7),  # today is Tuesday: the next one, never 0
    ("early March", 90),  # 2027-03-01
    ("mid March", 104),  # 2027-03-15
    ("late March", 114),  # 2027-03-25
    ("by June", 182),
    ("next year", 31),
    ("after the new year", 31),
    ("beginning of next year", 31),
    ("next spring", 109),
    ("this summer", 202),  # 2027-06-21
    ("soon", 30),
    ("not sure", None),
    # A rent amount per month is not a timeline.
    ("$2000 a month", None),
    ("two thousand a month", None),
    ("about 1800 monthly", None),
]

ES_CASES: list[tuple[str, int | None]] = [
    ("ya", 0),
    ("lo antes posible", 0),
    ("hoy", 0),
    ("mañana", 1),
    ("pasado mañana", 2),
    ("esta semana", 3),
    ("la semana que viene", 7),
    ("la próxima semana", 7),
    ("este mes", 15),
    ("el mes que viene", 30),
    ("el próximo mes", 30),
    ("en 45 días", 45),
    ("en dos semanas", 14),
    ("en tres meses", 90),
    ("en un mes y medio", 45),
    ("en un año", 365),
    ("en un par de meses", 60),
    ("en unos días", 3),
    ("en quince días", 15),
    ("dentro de seis meses", 180),
    ("ahora no, en 3 meses", 90),
    ("para el 20 de febrero", 81),  # 2027-02-20
    ("el 3 de marzo", 92),  # 2027-03-03
    ("15 de enero", 45),
    ("el primero de febrero", 62),
    ("1 de febrero", 62),
    ("el 24 de diciembre", 23),
    ("a fin de mes", 30),
    ("finales de mes", 30),
    ("a fin de año", 30),
    ("el viernes", 3),
    ("el próximo lunes", 6),
    ("este sábado", 4),
    ("el martes", 7),
    ("el domingo", 5),
    ("el viernes por la mañana", 3),
    ("principios de enero", 31),
    ("a mediados de enero", 45),  # 2027-01-15
    ("a finales de enero", 55),  # 2027-01-25
    ("para marzo", 90),
    ("en junio", 182),
    ("el año que viene", 31),
    ("después de año nuevo", 31),
    ("la próxima primavera", 109),
    ("pronto", 30),
    ("no sé", None),
    ("dos mil al mes", None),
    ("2 mil mensuales", None),
    ("$1,500 al mes", None),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_parse_timeline_en(text: str, expected: int | None) -> None:
    assert parse_timeline(text, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), ES_CASES)
def test_parse_timeline_es(text: str, expected: int | None) -> None:
    assert parse_timeline(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("15/02", "es", 76),  # day first in Spanish: 2027-02-15
        ("15/02", None, None),  # month first by default: there is no month 15
        ("15/02", "en", None),
        ("2/15", "en", 76),
        ("2/15", None, 76),
        ("1/2", "es", 62),  # 2027-02-01
        ("1/2", None, 32),  # 2027-01-02
    ],
)
def test_numeric_dates_follow_the_language(
    text: str, language: str | None, expected: int | None
) -> None:
    assert parse_timeline(text, TODAY, language) == expected


def test_today_is_injected() -> None:
    assert parse_timeline("by February 1st", date(2027, 1, 1)) == 31
    assert parse_timeline("el viernes", date(2026, 12, 4)) == 7  # a Friday: the next one
    assert parse_timeline("end of the month", date(2027, 2, 10)) == 18  # 2027-02-28
