"""The Rasa actions, run with rasa-sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    ActionHandoff,
    ActionIntro,
    ActionLowConfidence,
    ValidateQualificationForm,
    ValidateSlotMappings,
)

TrackerFactory = Callable[..., Tracker]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- language from metadata -------------------------------------------------------------------


async def test_language_comes_from_message_metadata(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    action = ValidateSlotMappings()
    tracker = make_tracker(slots={"language": "en"}, metadata={"language": "es"})
    assert await action.extract_language(dispatcher, tracker, domain) == {"language": "es"}


async def test_language_is_kept_when_metadata_is_missing(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    action = ValidateSlotMappings()
    tracker = make_tracker(slots={"language": "es"}, metadata={"channel": "sms"})
    assert await action.extract_language(dispatcher, tracker, domain) == {"language": "es"}
    tracker = make_tracker(slots={"language": "fr"}, metadata={"language": "de"})
    assert await action.extract_language(dispatcher, tracker, domain) == {"language": "en"}


# --- form validation --------------------------------------------------------------------------


async def test_form_asks_sellers_fewer_questions(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    form = ValidateQualificationForm()
    tracker = make_tracker(slots={"lead_intent": "sell"})
    slots = await form.required_slots([], dispatcher, tracker, domain)
    assert "bedrooms" not in slots and "financing" not in slots


async def test_form_run_fills_four_slots_from_one_message(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    text = "I want to buy a 3 bed in Miami under 400k"
    entities = [
        {"entity": "bedrooms", "value": "3 bed", "start": 16, "end": 21},
        {"entity": "location", "value": "Miami", "start": 25, "end": 30},
        {"entity": "amount", "value": "400k", "start": 37, "end": 41},
    ]
    tracker = make_tracker(
        text=text,
        intent="buy",
        entities=entities,
        set_this_turn={
            "lead_intent": "buy",
            "bedrooms": "3 bed",
            "location": "Miami",
            "budget": "400k",
        },
        active_loop="qualification_form",
    )
    events = await ValidateQualificationForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["lead_intent"] == "buy"
    assert slots["location"] == "Miami"
    assert slots["bedrooms"] == "3 bed"
    # "under" sits outside the entity: validation puts it back so the ceiling is kept.
    assert slots["budget"] == "under 400k"
    assert dispatcher.messages == []


async def test_unusable_budget_is_rejected_in_the_prospects_language(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"language": "es", "lead_intent": "buy", "requested_slot": "budget"},
        text="lo que sea razonable",
        set_this_turn={"budget": "lo que sea razonable"},
        active_loop="qualification_form",
    )
    events = await ValidateQualificationForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["budget"] is None
    assert dispatcher.messages[0]["text"].startswith("Perdona, no entendí el monto")


async def test_not_sure_budget_is_accepted(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(slots={"lead_intent": "buy"}, text="not sure yet")
    result = ValidateQualificationForm().validate_budget(
        "not sure yet", dispatcher, tracker, domain
    )
    assert result == {"budget": "not sure yet"}
    assert dispatcher.messages == []


async def test_financing_and_name_are_normalised(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    form = ValidateQualificationForm()
    tracker = make_tracker()
    assert form.validate_financing("de contado", dispatcher, tracker, domain) == {
        "financing": "cash"
    }
    assert form.validate_name("me llamo ana", dispatcher, tracker, domain) == {"name": "Ana"}
    assert form.validate_location("in coral gables pls", dispatcher, tracker, domain) == {
        "location": "Coral Gables"
    }
    asking_name = make_tracker(slots={"requested_slot": "name"})
    assert form.validate_name("ok", dispatcher, asking_name, domain) == {"name": None}
    assert dispatcher.messages[-1]["text"] == "Sorry, I didn't catch your name."


# --- intro ------------------------------------------------------------------------------------


async def test_intro_is_said_once(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ActionIntro().run(dispatcher, make_tracker(intent="greet"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_intro"]
    assert slot_events(events) == {"introduced": True}
    again = CollectingDispatcher()
    await ActionIntro().run(again, make_tracker(slots={"introduced": True}), domain)
    assert again.messages == []


# --- handoff ----------------------------------------------------------------------------------

QUALIFIED = {
    "language": "en", "lead_intent": "buy", "location": "Miami", "bedrooms": "3 bed",
    "budget": "under 400k", "timeline": "in 3 months", "financing": "preapproved",
    "name": "Ana",
}  # fmt: skip


async def test_completed_form_hands_off_with_normalised_lead(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(slots=QUALIFIED, intent="inform", text="Ana")
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    payload, note = dispatcher.messages
    custom = payload["custom"]
    assert custom["pronto"] == "handoff"
    assert custom["reason"] == "qualified"
    lead = custom["lead"]
    assert lead["intent"] == "buy"
    assert lead["location"] == "Miami"
    assert (lead["budget_min"], lead["budget_max"]) == (None, 400_000)
    assert lead["timeline_days"] == 90
    assert lead["timeline_text"] == "in 3 months"
    assert lead["financing"] == "preapproved"
    assert lead["bedrooms"] == 3
    assert lead["name"] == "Ana"
    assert lead["language"] == "en"
    assert isinstance(lead["score"], int) and 0 <= lead["score"] <= 100
    assert note["text"] == "Thanks, Ana! {agent_name} from our team will contact you shortly."
    assert "custom" not in note or not note["custom"]
    assert slot_events(events)["handed_off"] is True


async def test_request_human_in_spanish(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(slots={"language": "es", "lead_intent": "rent"}, intent="request_human")
    await ActionHandoff().run(dispatcher, tracker, domain)
    payload, note = dispatcher.messages
    assert payload["custom"]["reason"] == "request_human"
    assert payload["custom"]["lead"]["language"] == "es"
    assert note["text"].startswith("Claro. Te paso con una persona")
    assert "{agent_name}" in note["text"]


async def test_listing_question_marks_the_lead_as_listing(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    text = "is the house on oak st still available"
    tracker = make_tracker(slots={"listing_ref": text}, intent="ask_listing", text=text)
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    custom = dispatcher.messages[0]["custom"]
    assert custom["reason"] == "listing_question"
    assert custom["lead"]["intent"] == "listing"
    assert custom["lead"]["listing_ref"] == text
    assert slot_events(events)["lead_intent"] == "listing"


async def test_declined_keeps_what_was_learned_and_allows_coming_back(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = {"language": "es", "lead_intent": "sell", "location": "Kendall", "budget": "600 mil"}
    events = await ActionHandoff().run(
        dispatcher, make_tracker(slots=slots, intent="deny", text="ahora no"), domain
    )
    custom = dispatcher.messages[0]["custom"]
    assert custom["reason"] == "declined"
    assert custom["lead"]["location"] == "Kendall"
    assert custom["lead"]["budget_min"] == 600_000
    assert "{agent_name}" in dispatcher.messages[1]["text"]
    assert slot_events(events)["handed_off"] is False


# --- low confidence ---------------------------------------------------------------------------


async def test_low_confidence_reports_the_top_real_intent(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "sell", "confidence": 0.41},
        {"name": "buy", "confidence": 0.3},
    ]
    tracker = make_tracker(
        slots={"language": "es"}, intent="nlu_fallback", confidence=0.5, intent_ranking=ranking
    )
    assert await ActionLowConfidence().run(dispatcher, tracker, domain) == []
    payload, note = dispatcher.messages
    assert payload["custom"] == {"pronto": "low_confidence", "intent": "sell", "confidence": 0.41}
    assert note["text"] == "Perdona, no lo entendí bien. ¿Me lo puedes decir de otra forma?"


async def test_a_name_that_looks_like_a_place_does_not_overwrite_the_area(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={
            "language": "es",
            "lead_intent": "sell",
            "location": "Hialeah",
            "budget": "medio millón",
            "timeline": "en 2 meses",
            "requested_slot": "name",
        },
        text="Carlos Perez",
        entities=[{"entity": "location", "value": "Perez", "start": 7, "end": 12}],
        set_this_turn={"location": "Perez", "name": "Carlos Perez"},
        active_loop="qualification_form",
    )
    events = await ValidateQualificationForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["location"] == "Hialeah"
    assert slots["name"] == "Carlos Perez"
    assert dispatcher.messages == []


async def test_unusable_side_value_keeps_earlier_answer_silently(
    make_tracker: TrackerFactory, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"lead_intent": "rent", "bedrooms": "2 bed", "requested_slot": "budget"},
        text="1800",
        set_this_turn={"bedrooms": "1800", "budget": "1800"},
        active_loop="qualification_form",
    )
    events = await ValidateQualificationForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["bedrooms"] == "2 bed"
    assert slots["budget"] == "1800"
    assert dispatcher.messages == []
