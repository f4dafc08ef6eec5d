"""The lead score rule (actions/score.py)."""

from __future__ import annotations

import pytest

from actions.score import Qualification, lead_score, timeline_points


def test_fully_qualified_cash_buyer_moving_now_scores_100() -> None:
    q = Qualification(
        intent="buy", location="Miami", budget_min=400_000, budget_max=400_000,
        timeline_days=0, financing="cash", name="Ana", wants_showing=True,
    )  # fmt: skip
    assert lead_score(q) == 100


def test_nothing_known_scores_0() -> None:
    assert lead_score(Qualification()) == 0


def test_buyer_without_financing_scores_less_than_with() -> None:
    base = dict(intent="buy", location="Doral", budget_max=500_000, timeline_days=90, name="Li")
    needs = lead_score(Qualification(**base, financing="needs_lender"))  # type: ignore[arg-type]
    unknown = lead_score(Qualification(**base, financing="unknown"))  # type: ignore[arg-type]
    approved = lead_score(Qualification(**base, financing="preapproved"))  # type: ignore[arg-type]
    assert unknown < needs < approved
    # 15 + 10 + 15 + 22 + 5 + 20 = 87 of 100
    assert approved == 87


def test_seller_is_scored_without_financing() -> None:
    q = Qualification(
        intent="sell", location="Kendall", budget_min=600_000, budget_max=600_000,
        timeline_days=117, name="Rosa",
    )  # fmt: skip
    # 15 + 10 + 15 + 14 + 5 = 59 of 80 applicable points
    assert lead_score(q) == round(100 * 59 / 80)


def test_renter_goal_is_worth_less_than_buyer_goal() -> None:
    renter = lead_score(Qualification(intent="rent", location="Miami"))
    seller = lead_score(Qualification(intent="sell", location="Miami"))
    assert renter < seller


@pytest.mark.parametrize(
    ("days", "points"),
    [(None, 0), (0, 30), (30, 30), (31, 22), (90, 22), (180, 14), (365, 7), (400, 3)],
)
def test_timeline_points(days: int | None, points: int) -> None:
    assert timeline_points(days) == points


def test_score_is_always_within_bounds() -> None:
    for intent in ("buy", "sell", "rent", "listing", None, "other"):
        for days in (None, 0, 1000):
            score = lead_score(Qualification(intent=intent, timeline_days=days, location="x"))
            assert 0 <= score <= 100
