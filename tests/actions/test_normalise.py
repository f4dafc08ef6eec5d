"""Normalisation of free-form answers: the values the handoff carries."""

from __future__ import annotations

from datetime import date

import pytest

from actions.normalise import (
    budget_with_context,
    clean_location,
    clean_name,
    is_unknown_answer,
    parse_bedrooms,
    parse_budget,
    parse_financing,
    parse_timeline,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "lead_intent", "expected"),
    [
        ("400k", "buy", (400_000, 400_000)),
        ("$1.2M", "buy", (1_200_000, 1_200_000)),
        ("350,000", "buy", (350_000, 350_000)),
        ("400 mil", "buy", (400_000, 400_000)),
        ("medio millón", "buy", (500_000, 500_000)),
        ("entre 300 y 350 mil", "buy", (300_000, 350_000)),
        ("between 300 and 350k", "buy", (300_000, 350_000)),
        ("300-350k", "buy", (300_000, 350_000)),
        ("1 to 1.5M", "sell", (1_000_000, 1_500_000)),
        ("under 400k", "buy", (None, 400_000)),
        ("hasta 2 millones", "buy", (None, 2_000_000)),
        ("menos de 300 mil", "buy", (None, 300_000)),
        ("at least 300k", "buy", (300_000, None)),
        ("desde 250 mil", "buy", (250_000, None)),
        ("around $450,000", "buy", (450_000, 450_000)),
        ("1,5 millones", "sell", (1_500_000, 1_500_000)),
        ("un millón y medio", "sell", (1_500_000, 1_500_000)),
        ("350.000 dólares", "buy", (350_000, 350_000)),
        ("trescientos cincuenta mil", "buy", (350_000, 350_000)),
        ("half a million", "buy", (500_000, 500_000)),
        (".5M", "sell", (500_000, 500_000)),
        # Bare numbers: thousands for purchases and sales, as written for monthly rent.
        ("400", "buy", (400_000, 400_000)),
        ("1.2", "sell", (1_200_000, 1_200_000)),
        ("1800", "rent", (1_800, 1_800)),
        ("$2,500 a month", None, (2_500, 2_500)),
        ("2500/mo", "buy", (2_500, 2_500)),
        ("3 mil al mes", "rent", (3_000, 3_000)),
    ],
)
def test_parse_budget(text: str, lead_intent: str | None, expected: tuple[int, int]) -> None:
    assert parse_budget(text, lead_intent) == expected


@pytest.mark.parametrize("text", ["not sure", "no sé", "whatever works", ""])
def test_parse_budget_without_amount(text: str) -> None:
    assert parse_budget(text, "buy") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ASAP", 0),
        ("asap pls", 0),
        ("ya", 0),
        ("lo antes posible", 0),
        ("in 3 months", 90),
        ("en 2 meses", 60),
        ("en seis meses", 180),
        ("within 30 days", 30),
        ("in 2 weeks", 14),
        ("en tres semanas", 21),
        ("in a couple of months", 60),
        ("un par de meses", 60),
        ("3-6 months", 90),
        ("next month", 30),
        ("el mes que viene", 30),
        ("tomorrow", 1),
        # From 2026-11-23: spring starts 2027-03-20, summer 2027-06-21, June 1 2027.
        ("next spring", 117),
        ("la próxima primavera", 117),
        ("la proxima primavera", 117),
        ("this summer", 210),
        ("el próximo verano", 210),
        ("by june", 190),
        ("para junio", 190),
        ("next year", 39),
        ("el año que viene", 39),
        ("end of the year", 38),
    ],
)
def test_parse_timeline(text: str, expected: int) -> None:
    assert parse_timeline(text, TODAY) == expected


def test_season_in_progress_is_now_unless_next() -> None:
    april = date(2027, 4, 10)
    assert parse_timeline("this spring", april) == 0
    assert parse_timeline("next spring", april) == (date(2028, 3, 20) - april).days


@pytest.mark.parametrize("text", ["not sure", "no sé", "just looking", "sin prisa", "hmm"])
def test_parse_timeline_unknown(text: str) -> None:
    assert parse_timeline(text, TODAY) is None


def test_unknown_answers() -> None:
    assert is_unknown_answer("idk")
    assert is_unknown_answer("No estoy seguro")
    assert not is_unknown_answer("in 3 months")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pre-approved", "preapproved"),
        ("im preapproved with chase", "preapproved"),
        ("preaprobado", "preapproved"),
        ("tengo carta de preaprobación", "preapproved"),
        ("cash", "cash"),
        ("de contado", "cash"),
        ("en efectivo", "cash"),
        ("i need a lender", "needs_lender"),
        ("not yet", "needs_lender"),
        ("not pre-approved yet", "needs_lender"),
        ("necesito un préstamo", "needs_lender"),
        ("todavía no", "needs_lender"),
        ("not sure", "unknown"),
        ("hmm", None),
    ],
)
def test_parse_financing(text: str, expected: str | None) -> None:
    assert parse_financing(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("3 bed", 3),
        ("3br", 3),
        ("3br 2ba", 3),
        ("2 bath 4 bedrooms", 4),
        ("tres recámaras", 3),
        ("dos cuartos", 2),
        ("studio", 0),
        ("un estudio", 0),
        ("2 or 3", 2),
        ("any", None),
    ],
)
def test_parse_bedrooms(text: str, expected: int | None) -> None:
    assert parse_bedrooms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Miami", "Miami"),
        ("in coral gables pls", "Coral Gables"),
        ("en el doral", "Doral"),
        ("Brickell area", "Brickell"),
        ("por la zona de Kendall", "Kendall"),
        ("yes", None),
        ("", None),
    ],
)
def test_clean_location(text: str, expected: str | None) -> None:
    assert clean_location(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana", "Ana"),
        ("me llamo ana lopez", "Ana Lopez"),
        ("Im Carlos", "Carlos"),
        ("my name is john smith, thanks", "John Smith"),
        ("soy María", "María"),
        ("yes", None),
        ("it's 305 555 0100", None),
        ("i would rather not tell you that", None),
    ],
)
def test_clean_name(text: str, expected: str | None) -> None:
    assert clean_name(text) == expected


def test_budget_with_context_keeps_qualifier_and_ranges() -> None:
    assert budget_with_context(["400k"], "i want a 3 bed in Miami under ") == "under 400k"
    assert budget_with_context(["400 mil"], "por menos de ") == "menos de 400 mil"
    assert budget_with_context(["300k", "350k"], "between ") == "300k to 350k"
    assert budget_with_context(["500k"], "budget ") == "500k"
    assert parse_budget(budget_with_context(["300", "350 mil"], "entre ")) == (300_000, 350_000)
