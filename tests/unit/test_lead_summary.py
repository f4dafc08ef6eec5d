"""The agent's one-line lead summary renders what the prospect meant."""

from __future__ import annotations

import pytest

from gateway.domain.lead_summary import budget, money, open_answers, summarize


@pytest.mark.parametrize(("value", "shown"), [
    (2500, "$2.5k"), (2000, "$2k"), (450_000, "$450k"), (1_200_000, "$1.2M"),
    (1_000_000, "$1M"), (900, "$900"), (None, None), ("x", None),
])
def test_money(value: object, shown: str | None) -> None:
    assert money(value) == shown


def test_rent_reads_per_month_and_bounds_read_as_words() -> None:
    assert budget({"intent": "rent", "budget_min": 2500, "budget_max": 2500}) == "$2.5k/mo"
    assert budget({"intent": "rent", "budget_max": 2000}, "es") == "hasta $2k/mes"
    assert budget({"intent": "buy", "budget_min": 300_000}) == "from $300k"
    assert budget({"intent": "buy", "budget_min": 300_000, "budget_max": 350_000}) == (
        "$300k–$350k")


def test_unparsed_answers_are_quoted_and_no_preference_is_said() -> None:
    q = {"intent": "buy", "unparsed": {"budget": "ask my wife"}, "no_preference": ["location"]}
    assert open_answers(q) == ["budget “ask my wife”", "area: any"]
    line = summarize(q, name="Ana", lead_language="en", channel="sms", score=40, language="es")
    assert "presupuesto “ask my wife”" in line and "zona: cualquiera" in line
