"""What a message answers and what it clearly states (actions/stated.py, actions/places.py)."""

from __future__ import annotations

import pytest

from actions.places import find_place, known_places
from actions.stated import answer_for, asks_about_listing, looks_like_words, stated_facts


def test_the_lookup_table_is_read() -> None:
    assert len(known_places()) > 20
    assert find_place("busco en el doral") == "Doral"
    assert find_place("nowhere special") is None


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("north miami beach", "inform", "North Miami Beach"),
    ("edgewater", "goodbye", "Edgewater"),  # a confident wrong intent does not hide an area
    ("i want coral gables area", "inform", "Coral Gables"),
    ("west kendall", "inform", "West Kendall"),
    ("Pembroke Pines", "greet", "Pembroke Pines"),
    ("bye", "goodbye", None),
    ("asdkjh", "inform", None),
    ("400k", "inform", None),
])
def test_location_answers(text: str, intent: str, expected: str | None) -> None:
    assert answer_for("location", text, intent=intent, confidence=0.95) == expected


def test_a_short_budget_is_read_whole_not_from_a_partial_entity() -> None:
    partial = [{"entity": "amount", "value": "thousand", "start": 4, "end": 12}]
    assert answer_for("budget", "two thousand five hundred a month", partial, "rent") == (
        "two thousand five hundred a month")


def test_a_side_amount_needs_money_words() -> None:
    tagged = [{"entity": "amount", "value": "3/2", "start": 0, "end": 3}]
    assert dict(stated_facts("3/2", tagged, "buy")).get("budget") is None
    assert dict(stated_facts("3br under 500k", [], "buy"))["budget"] == "under 500k"


def test_multi_fact_opening() -> None:
    facts = dict(stated_facts("first home, 4bd 3ba 500-600k in Miramar, moving in 60 days"))
    assert facts["bedrooms"] == "4bd" and facts["budget"] == "500-600k"
    assert facts["timeline"] == "in 60 days" and facts["location"] == "Miramar"


@pytest.mark.parametrize(("text", "expected"), [
    ("is 1500 Brickell Ave #2304 still for rent??", True),
    ("hi, is the 3/2 on sw 132nd ave in kendall still for sale?", True),
    ("todavía está a la venta la casa de la 107 avenida?", True),
    ("looking to buy in doral", False),
    ("how much is a 3 bed in kendall", False),
])
def test_listing_questions(text: str, expected: bool) -> None:
    assert asks_about_listing(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("asdkjh", False), ("jjjjjj", False), ("xzcvb", False), ("Westchester", True),
    ("Maribel Ortega", True), ("Brickell", True),
])
def test_keyboard_mashing(text: str, expected: bool) -> None:
    assert looks_like_words(text) is expected
