"""Lead score: how ready and how well qualified a prospect is, from 0 to 100.

The rule, in one place so admins and agents can read it:

=============  ===============================================================  =====
component      points                                                           max
=============  ===============================================================  =====
goal           buy 15, sell 15, listing question 12, rent 8                      15
area           any area given                                                    10
budget         an amount or a range (either bound is enough)                     15
timeline       0-30 days 30, 31-90 days 22, 91-180 days 14, 181-365 days 7,      30
               later 3, unknown 0
financing      buyers only: cash 20, pre-approved 20, needs a lender 10,         20
               unknown 0
name           a name given                                                       5
showing        asked to see a property                                            5
=============  ===============================================================  =====

Financing only applies to buyers; for everyone else the score is the share of the points
that apply: ``round(100 * earned / 80)``. So a fully qualified seller can reach 100 too.
"""

from __future__ import annotations

from dataclasses import dataclass

GOAL_POINTS = {"buy": 15, "sell": 15, "listing": 12, "rent": 8}
FINANCING_POINTS = {"cash": 20, "preapproved": 20, "needs_lender": 10, "unknown": 0}
MAX_WITHOUT_FINANCING = 15 + 10 + 15 + 30 + 5 + 5
MAX_WITH_FINANCING = MAX_WITHOUT_FINANCING + 20


@dataclass(frozen=True, slots=True)
class Qualification:
    """The normalised facts the score is computed from."""

    intent: str | None = None
    location: str | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    timeline_days: int | None = None
    financing: str | None = None
    name: str | None = None
    wants_showing: bool = False


def timeline_points(days: int | None) -> int:
    """Points for how soon the prospect wants to move.

    Args:
        days: Days until the move/sale, ``None`` when unknown.

    Returns:
        Points between 0 and 30.
    """
    if days is None:
        return 0
    if days <= 30:
        return 30
    if days <= 90:
        return 22
    if days <= 180:
        return 14
    if days <= 365:
        return 7
    return 3


def lead_score(q: Qualification) -> int:
    """Score a lead from its qualification data (see the module docstring for the rule).

    Args:
        q: The normalised qualification data.

    Returns:
        An integer from 0 to 100.
    """
    earned = GOAL_POINTS.get(q.intent or "", 0)
    earned += 10 if q.location else 0
    earned += 15 if (q.budget_min is not None or q.budget_max is not None) else 0
    earned += timeline_points(q.timeline_days)
    earned += 5 if q.name else 0
    earned += 5 if q.wants_showing else 0
    if q.intent == "buy":
        earned += FINANCING_POINTS.get(q.financing or "unknown", 0)
        possible = MAX_WITH_FINANCING
    else:
        possible = MAX_WITHOUT_FINANCING
    return max(0, min(100, round(100 * earned / possible)))
