"""Numbers written in words, English and Spanish, up to the millions."""

from __future__ import annotations

import pytest

from actions.normalise import parse_number, replace_number_words, words_to_number

EN_CASES: list[tuple[str, int | None]] = [
    ("four", 4),
    ("zero", 0),
    ("one", 1),
    ("seven", 7),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("nineteen", 19),
    ("twenty", 20),
    ("twenty-five", 25),
    ("twenty five", 25),
    ("Forty-Two", 42),
    ("fourty", 40),  # typo
    ("fourty-five", 45),
    ("ninty nine", 99),  # typo
    ("seventy", 70),
    ("sixty six", 66),
    ("eighty-eight", 88),
    ("THREE", 3),
    ("a hundred", 100),
    ("one hundred", 100),
    ("one hundred and one", 101),
    ("three hundred fifty", 350),
    ("three hundred and fifty", 350),
    ("fifteen hundred", 1_500),
    ("a thousand", 1_000),
    ("two thousand", 2_000),
    ("two thousand and five", 2_005),
    ("two thousand five hundred", 2_500),
    ("a hundred thousand", 100_000),
    ("three hundred fifty thousand", 350_000),
    ("three hundred and fifty thousand", 350_000),
    ("four hundred thousand", 400_000),
    ("nine hundred ninety-nine thousand nine hundred ninety-nine", 999_999),
    ("a million", 1_000_000),
    ("two million", 2_000_000),
    ("one million two hundred thousand", 1_200_000),
    ("one million five hundred thousand", 1_500_000),
    ("two or three", None),  # two numbers, not one
    ("five twenty", None),
    ("twenty twenty", None),
    ("house", None),
    ("", None),
]

ES_CASES: list[tuple[str, int | None]] = [
    ("cuatro", 4),
    ("cero", 0),
    ("uno", 1),
    ("una", 1),
    ("cinco", 5),
    ("diez", 10),
    ("once", 11),
    ("quince", 15),
    ("dieciséis", 16),
    ("diecinueve", 19),
    ("veinte", 20),
    ("veintiuno", 21),
    ("veintitrés", 23),
    ("veinticinco", 25),
    ("treinta y cinco", 35),
    ("cuarenta y dos", 42),
    ("noventa y nueve", 99),
    ("cien", 100),
    ("ciento uno", 101),
    ("ciento veinte", 120),
    ("doscientos", 200),
    ("trescientos cincuenta", 350),
    ("quinientos", 500),
    ("novecientos noventa y nueve", 999),
    ("mil", 1_000),
    ("mil quinientos", 1_500),
    ("dos mil", 2_000),
    ("dos mil quinientos", 2_500),
    ("tres mil ochocientos", 3_800),
    ("trescientos mil", 300_000),
    ("trescientos cincuenta mil", 350_000),
    ("cuatrocientos cincuenta mil", 450_000),
    ("un millón", 1_000_000),
    ("un millon", 1_000_000),
    ("UN MILLÓN DOSCIENTOS MIL", 1_200_000),
    ("dos millones", 2_000_000),
    ("dos millones quinientos mil", 2_500_000),
    ("trecientos", 300),  # typo
    ("sinco", 5),  # typo
    ("setesientos mil", 700_000),  # typo
    ("tres o cuatro", None),
    ("trescientos trescientos", None),
    ("casa", None),
]


@pytest.mark.parametrize(("words", "expected"), EN_CASES)
def test_words_to_number_en(words: str, expected: int | None) -> None:
    assert words_to_number(words) == expected


@pytest.mark.parametrize(("words", "expected"), ES_CASES)
def test_words_to_number_es(words: str, expected: int | None) -> None:
    assert words_to_number(words) == expected


# Numbers inside sentences: runs are split where one number ends and the next begins.
REPLACE_EN: list[tuple[str, bool, str]] = [
    ("between three hundred and three hundred fifty thousand", False, "between 300 and 350000"),
    (
        "between three hundred and three hundred fifty thousand",
        True,
        "between 300 and 350 thousand",
    ),
    ("two or three bedrooms", False, "2 or 3 bedrooms"),
    ("three-four", False, "3-4"),
    ("in twenty-five days", False, "in 25 days"),
    ("a month", False, "a month"),
    ("two thousand a month", False, "2000 a month"),
    ("350 thousand", True, "350 thousand"),
    ("one two three", False, "1 2 3"),
    ("a hundred and twenty", False, "120"),
]
REPLACE_ES: list[tuple[str, bool, str]] = [
    ("entre trescientos y trescientos cincuenta mil", True, "entre 300 y 350 mil"),
    ("entre trescientos y trescientos cincuenta mil", False, "entre 300 y 350000"),
    ("tres o cuatro", False, "3 o 4"),
    ("un mes", False, "un mes"),
    ("una habitacion", False, "una habitacion"),
    ("dos mil quinientos al mes", False, "2500 al mes"),
    ("un millon doscientos mil", True, "1200 mil"),
    ("treinta y cinco y cuarenta mil", True, "35 y 40 mil"),
    ("en seis meses", False, "en 6 meses"),
    ("400 mil", True, "400 mil"),
]


@pytest.mark.parametrize(("text", "keep_scale", "expected"), REPLACE_EN + REPLACE_ES)
def test_replace_number_words(text: str, keep_scale: bool, expected: str) -> None:
    assert replace_number_words(text, keep_scale=keep_scale) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("350,000", 350_000.0), ("350.000", 350_000.0), ("1.2", 1.2), ("1,5", 1.5), ("2500", 2_500.0)],
)
def test_parse_number(raw: str, expected: float) -> None:
    assert parse_number(raw) == expected
