"""Budgets in whole dollars: words, ranges, ceilings, floors and monthly rents.

Conventions (tests/conversations/README.md): one amount gives min = max; "under/up to/hasta X"
gives (None, X); "at least/desde X" gives (X, None); a range gives both ends; renters' budgets
are monthly; bare numbers are thousands for buyers and sellers and as written for renters.
"""

from __future__ import annotations

import pytest

from actions.normalise import parse_budget

Budget = tuple[int | None, int | None] | None

EN_CASES: list[tuple[str, str | None, Budget]] = [
    ("somewhere between 300 and 350 thousand", "buy", (300_000, 350_000)),
    ("between three hundred and three hundred fifty thousand", "buy", (300_000, 350_000)),
    ("three hundred fifty thousand", "buy", (350_000, 350_000)),
    ("four hundred thousand", "buy", (400_000, 400_000)),
    ("300 to 350k", "buy", (300_000, 350_000)),
    ("from 1.2 to 1.5 million", "buy", (1_200_000, 1_500_000)),
    ("between 900 and 1.2 million", "buy", (900_000, 1_200_000)),
    ("max 400", "buy", (None, 400_000)),
    ("no more than half a million", "buy", (None, 500_000)),
    ("up to 600 thousand", "buy", (None, 600_000)),
    ("under 400k", "buy", (None, 400_000)),
    ("400k max", "buy", (None, 400_000)),
    ("400k or less", "buy", (None, 400_000)),
    ("a 3 bed under 400k", "buy", (None, 400_000)),
    ("at least 300k", "buy", (300_000, None)),
    ("350k+", "buy", (350_000, None)),
    ("300k or more", "buy", (300_000, None)),
    ("around a million", "buy", (1_000_000, 1_000_000)),
    ("a million", "sell", (1_000_000, 1_000_000)),
    ("half a million", "buy", (500_000, 500_000)),
    ("one and a half million", "sell", (1_500_000, 1_500_000)),
    ("two and a half million", "sell", (2_500_000, 2_500_000)),
    ("a million and a half", "sell", (1_500_000, 1_500_000)),
    ("one point two million", "sell", (1_200_000, 1_200_000)),
    ("400k", "buy", (400_000, 400_000)),
    ("$450,000", "buy", (450_000, 450_000)),
    ("400", "buy", (400_000, 400_000)),
    ("1.2", "sell", (1_200_000, 1_200_000)),
    # Renters: monthly amounts, taken as written.
    ("two thousand a month", "rent", (2_000, 2_000)),
    ("$2,500/mo", "rent", (2_500, 2_500)),
    ("about 1800 monthly", "rent", (1_800, 1_800)),
    ("2.5k a month", "rent", (2_500, 2_500)),
    ("3k", "rent", (3_000, 3_000)),
    ("1800", "rent", (1_800, 1_800)),
    ("eighteen hundred a month", "rent", (1_800, 1_800)),
    ("two grand a month", "rent", (2_000, 2_000)),
    ("under 2k a month", "rent", (None, 2_000)),
    ("no more than 2500 a month", "rent", (None, 2_500)),
    ("at least 1200 a month", "rent", (1_200, None)),
    ("$1,800 - $2,000 a month", "rent", (1_800, 2_000)),
    ("between 1500 and 2000 a month", "rent", (1_500, 2_000)),
    ("about 2,000 per month", None, (2_000, 2_000)),  # per month: a rent even if unknown
    ("not sure", "buy", None),
    ("whatever works", "buy", None),
    ("no preference", "rent", None),
]

ES_CASES: list[tuple[str, str | None, Budget]] = [
    ("entre trescientos y trescientos cincuenta mil", "buy", (300_000, 350_000)),
    ("entre 300 y 350 mil", "buy", (300_000, 350_000)),
    ("de 300 a 350 mil", "buy", (300_000, 350_000)),
    ("entre 400 y 450", "buy", (400_000, 450_000)),
    ("entre 1.2 y 1.5 millones", "sell", (1_200_000, 1_500_000)),
    ("trescientos cincuenta mil", "buy", (350_000, 350_000)),
    ("cuatrocientos mil", "buy", (400_000, 400_000)),
    ("quinientos mil dólares", "buy", (500_000, 500_000)),
    ("400 mil", "buy", (400_000, 400_000)),
    ("350.000 dólares", "buy", (350_000, 350_000)),
    ("alrededor de 500 mil", "buy", (500_000, 500_000)),
    ("un millón", "buy", (1_000_000, 1_000_000)),
    ("un millón doscientos mil", "sell", (1_200_000, 1_200_000)),
    ("un millón 200 mil", "sell", (1_200_000, 1_200_000)),
    ("un millón y medio", "sell", (1_500_000, 1_500_000)),
    ("dos millones y medio", "sell", (2_500_000, 2_500_000)),
    ("1,5 millones", "sell", (1_500_000, 1_500_000)),
    ("medio millón", "buy", (500_000, 500_000)),
    ("tope 300 mil", "buy", (None, 300_000)),
    ("como mucho 350 mil", "buy", (None, 350_000)),
    ("a lo mucho 300 mil", "buy", (None, 300_000)),
    ("menos de 300 mil", "buy", (None, 300_000)),
    ("hasta 2 millones", "buy", (None, 2_000_000)),
    ("no más de 400 mil", "buy", (None, 400_000)),
    ("máximo 450 mil", "buy", (None, 450_000)),
    ("400 mil como máximo", "buy", (None, 400_000)),
    ("desde 250 mil", "buy", (250_000, None)),
    ("más de 300 mil", "buy", (300_000, None)),
    ("al menos 200 mil", "buy", (200_000, None)),
    ("a partir de 200 mil", "buy", (200_000, None)),
    ("300 mil o más", "buy", (300_000, None)),
    # Renters: monthly amounts, taken as written.
    ("dos mil quinientos al mes", "rent", (2_500, 2_500)),
    ("hasta 2 mil mensuales", "rent", (None, 2_000)),
    ("unos 1.5 mil al mes", "rent", (1_500, 1_500)),
    ("mil quinientos al mes", "rent", (1_500, 1_500)),
    ("dos mil al mes", "rent", (2_000, 2_000)),
    ("3 mil al mes", "rent", (3_000, 3_000)),
    ("como 2 mil al mes", "rent", (2_000, 2_000)),
    ("1800 mensuales", "rent", (1_800, 1_800)),
    ("hasta 1800 al mes", "rent", (None, 1_800)),
    ("entre 1500 y 2000 al mes", "rent", (1_500, 2_000)),
    ("entre mil y mil quinientos al mes", "rent", (1_000, 1_500)),
    ("no sé", "buy", None),
    ("lo que sea", "buy", None),
]


@pytest.mark.parametrize(("text", "lead_intent", "expected"), EN_CASES)
def test_parse_budget_en(text: str, lead_intent: str | None, expected: Budget) -> None:
    assert parse_budget(text, lead_intent) == expected


@pytest.mark.parametrize(("text", "lead_intent", "expected"), ES_CASES)
def test_parse_budget_es(text: str, lead_intent: str | None, expected: Budget) -> None:
    assert parse_budget(text, lead_intent) == expected
