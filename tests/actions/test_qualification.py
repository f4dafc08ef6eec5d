"""Form questions per goal, handoff reasons and the lead payload."""

from __future__ import annotations

from datetime import date

from actions.qualification import build_lead, required_slots

TODAY = date(2026, 11, 23)


def test_buyer_is_asked_everything() -> None:
    assert required_slots("buy") == [
        "lead_intent", "location", "bedrooms", "budget", "timeline", "financing", "name",
    ]  # fmt: skip


def test_seller_is_not_asked_bedrooms_or_financing() -> None:
    assert required_slots("sell") == ["lead_intent", "location", "budget", "timeline", "name"]


def test_renter_is_asked_bedrooms_but_not_financing() -> None:
    assert required_slots("rent") == [
        "lead_intent", "location", "bedrooms", "budget", "timeline", "name",
    ]  # fmt: skip


def test_goal_unknown_starts_with_the_goal() -> None:
    assert required_slots(None)[0] == "lead_intent"


def test_build_lead_normalises_a_spanish_buyer() -> None:
    lead = build_lead(
        {
            "lead_intent": "buy",
            "location": "en el doral",
            "bedrooms": "3 cuartos",
            "budget": "entre 300 y 350 mil",
            "timeline": "la próxima primavera",
            "financing": "preapproved",
            "name": "Ana",
            "language": "es",
        },
        today=TODAY,
    )
    assert lead == {
        "intent": "buy",
        "location": "Doral",
        "budget_min": 300_000,
        "budget_max": 350_000,
        "budget_text": "entre 300 y 350 mil",
        "timeline_days": 117,
        "timeline_text": "la próxima primavera",
        "financing": "preapproved",
        "bedrooms": 3,
        "name": "Ana",
        "language": "es",
        "score": lead["score"],
        "listing_ref": None,
        "wants_showing": False,
    }
    # 15 + 10 + 15 + 14 (117 days) + 20 + 5 = 79
    assert lead["score"] == 79


def test_build_lead_with_nothing_known_has_nulls() -> None:
    lead = build_lead({}, today=TODAY)
    for key in ("intent", "location", "budget_min", "budget_max", "timeline_days",
                "timeline_text", "bedrooms", "name", "listing_ref"):  # fmt: skip
        assert lead[key] is None, key
    assert lead["financing"] == "unknown"
    assert lead["language"] == "en"
    assert lead["score"] == 0


def test_build_lead_seller_price_single_amount() -> None:
    lead = build_lead({"lead_intent": "sell", "budget": "$1.2M", "timeline": "ASAP"}, today=TODAY)
    assert (lead["budget_min"], lead["budget_max"]) == (1_200_000, 1_200_000)
    assert lead["timeline_days"] == 0
    assert lead["timeline_text"] == "ASAP"
