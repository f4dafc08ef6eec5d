"""Deterministic normalisation of free-form qualification answers (English and Spanish).

Everything here is pure: strings in, plain values out, no I/O; the reference date of
timelines is injectable. The Rasa actions call these functions and put the results in the
handoff payload, so the gateway always receives numbers in dollars and timelines in days.
The conventions for every value are in ``tests/conversations/README.md``.

One module per normaliser:

* ``text``: folding and shared helpers.
* ``numbers``: numbers in words ("dos mil quinientos", "three hundred fifty thousand").
* ``budget``: budgets and prices in dollars, ranges, ceilings and floors, monthly rents.
* ``timeline`` and ``dates``: days until the start of the prospect's timeline.
* ``financing``: preapproved, cash, needs_lender or unknown.
* ``bedrooms``: bedroom counts.
* ``names``: display names.
* ``location``: area names.
* ``answers``: no-preference, unknown, decline and frustration signals.
"""

from __future__ import annotations

from actions.normalise.answers import is_decline, is_frustrated, is_no_preference, is_unknown_answer
from actions.normalise.bedrooms import parse_bedrooms
from actions.normalise.budget import BudgetRange, budget_with_context, parse_budget
from actions.normalise.financing import parse_financing
from actions.normalise.location import clean_location
from actions.normalise.names import clean_name, looks_like_name
from actions.normalise.numbers import parse_number, replace_number_words, words_to_number
from actions.normalise.text import fold, plain
from actions.normalise.timeline import parse_timeline

__all__ = [
    "BudgetRange",
    "budget_with_context",
    "clean_location",
    "clean_name",
    "fold",
    "is_decline",
    "is_frustrated",
    "is_no_preference",
    "is_unknown_answer",
    "looks_like_name",
    "parse_bedrooms",
    "parse_budget",
    "parse_financing",
    "parse_number",
    "parse_timeline",
    "plain",
    "replace_number_words",
    "words_to_number",
]
