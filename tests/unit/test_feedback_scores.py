"""CSAT (1–5) and NPS (0–10) answers read from free text (pure), English and Spanish."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain.feedback_scores import Scale, parse_score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # digits and number words
        ("5", 5),
        ("1", 1),
        ("3.", 3),
        ("cinco", 5),
        ("Cuatro", 4),
        ("two", 2),
        ("uno", 1),
        ("one", 1),
        ("I'd say 4", 4),
        ("I’d say 4", 4),
        ("4 stars", 4),
        ("4 estrellas", 4),
        ("una estrella", 1),
        ("one star", 1),
        ("a 3", 3),
        ("le doy un 4", 4),
        ("4/5", 4),
        ("4 out of 5", 4),
        ("4 de 5", 4),
        ("3 sobre 5", 3),
        ("5 5 5", 5),
        ("5, excelente", 5),  # digits win over words
        ("5️⃣", 5),
        ("this one was great", 5),  # "one" is a pronoun here
        # stars
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️⭐️⭐️⭐️", 5),
        ("★★★", 3),
        ("🌟", 1),
        # words
        ("muy bien", 5),
        ("Excelente!", 5),
        ("great", 5),
        ("it was amazing", 5),
        ("very good", 5),
        ("good", 4),
        ("bien", 4),
        ("bueno", 4),
        ("ok", 3),
        ("regular", 3),
        ("más o menos", 3),
        ("so so", 3),
        ("bad", 2),
        ("mal", 2),
        ("malo", 2),
        ("terrible", 1),
        ("pésimo", 1),
        ("horrible", 1),
        ("muy mal", 1),
        # negation
        ("not good", 2),
        ("not very good", 2),
        ("no muy bien", 2),
        ("no fue bueno", 2),
        ("not bad", 3),
        ("no fue tan malo", 3),
        ("nada mal", 3),
        ("no, it was great", 5),  # the "no" ends its own clause
    ],
)
def test_csat(text: str, expected: int) -> None:
    assert parse_score(text, "csat") == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "thanks!",
        "15",  # out of range
        "10!",
        "0",
        "6",
        "call me at 305 555 0101",  # a phone number, not a score
        "call me at 5pm",
        "5:30",
        "$5",
        "100%",
        "2026",
        "4 or 5",  # ambiguous
        "3-4",
        "4.5",
        "8/10",  # another scale: refused, not rescaled
        "great agent, bad process",  # words disagree
        "-1",
        "#4",
        "⭐⭐⭐⭐⭐⭐",  # six stars
        "definitely",  # likelihood words are NPS only
    ],
)
def test_csat_refuses(text: str) -> None:
    assert parse_score(text, "csat") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10!", 10),
        ("10/10", 10),
        ("9/10", 9),
        ("a 9", 9),
        ("9 de 10", 9),
        ("9 out of 10", 9),
        ("0", 0),
        ("cero", 0),
        ("diez", 10),
        ("nueve", 9),
        ("7", 7),
        ("🔟", 10),
        ("I'd give you an 8", 8),
        # words: 10 / 8 / 5 / 3 / 0
        ("muy bien", 10),
        ("excellent", 10),
        ("good", 8),
        ("ok", 5),
        ("bad", 3),
        ("terrible", 0),
        ("not good", 3),
        # likelihood
        ("definitely", 10),
        ("por supuesto", 10),
        ("probably", 8),
        ("maybe", 5),
        ("tal vez", 5),
        ("probably not", 3),
        ("never", 0),
        ("nunca", 0),
    ],
)
def test_nps(text: str, expected: int) -> None:
    assert parse_score(text, "nps") == expected


@pytest.mark.parametrize(
    "text",
    ["11", "15", "9/5", "4 de 5", "⭐⭐⭐⭐⭐", "9 or 10", "call me at 305 555 0101", "hola", ""],
)
def test_nps_refuses(text: str) -> None:
    assert parse_score(text, "nps") is None


def test_language_is_only_a_hint() -> None:
    assert parse_score("muy bien", "csat", "en") == parse_score("muy bien", "csat", "es") == 5
    assert parse_score("great", "csat", "es") == 5


_FRAGMENTS = ["5", "10", "0", "15", "cinco", "not", "no", "good", "muy bien", "terrible", "/",
              "de", "stars", "⭐", "!", "305", "pm", ":", "-", ".", "one", "un", "maybe"]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.text(max_size=60),
              st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map(" ".join)),
    st.sampled_from(["csat", "nps"]),
    st.sampled_from([None, "en", "es"]),
)
def test_any_text_gives_none_or_a_score_in_range(
    text: str, scale: Scale, language: str | None
) -> None:
    got = parse_score(text, scale, language)
    low, high = (1, 5) if scale == "csat" else (0, 10)
    assert got is None or (isinstance(got, int) and low <= got <= high)


@given(st.integers(min_value=-50, max_value=150), st.sampled_from(["csat", "nps"]))
def test_a_bare_number_is_itself_when_in_range(n: int, scale: Scale) -> None:
    low, high = (1, 5) if scale == "csat" else (0, 10)
    assert parse_score(str(n), scale) == (n if low <= n <= high else None)
