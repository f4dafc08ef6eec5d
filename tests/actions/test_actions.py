"""The Rasa action, run with rasa-sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    DIALOGUE_SLOT,
    ActionConverse,
    max_turns_from_env,
    today_from_env,
    turn_from_tracker,
)
from actions.dialogue import State

TrackerFactory = Callable[..., Tracker]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(tracker: Tracker) -> tuple[CollectingDispatcher, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionConverse().run(dispatcher, tracker, {})
    return dispatcher, slot_events(events)


async def test_first_message_in_spanish_is_answered_in_spanish(
    make_tracker: TrackerFactory,
) -> None:
    tracker = make_tracker(text="hola, quiero comprar", intent="buy",
                           metadata={"language": "es", "channel": "sms"})
    dispatcher, slots = await run(tracker)
    said = [m["text"] for m in dispatcher.messages if m.get("text")]
    assert "asistente virtual" in said[0]
    assert said[-1] == "¿En qué zona buscas? (ciudad o barrio)"
    state = State.load(slots[DIALOGUE_SLOT])
    assert state.language == "es" and state.facts["lead_intent"] == "buy"


async def test_state_comes_back_from_the_slot_and_the_handoff_is_a_payload(
    make_tracker: TrackerFactory,
) -> None:
    before = State(facts={"lead_intent": "sell", "location": "Kendall", "budget": "600k",
                          "timeline": "in 3 months"}, pending="name", introduced=True,
                   attempts={"name": 1}, language="en")
    tracker = make_tracker(slots={DIALOGUE_SLOT: before.dump()}, text="it's ana lopez",
                           intent="greet", confidence=0.6, metadata={"language": "en"})
    dispatcher, slots = await run(tracker)
    payload = next(m["custom"] for m in dispatcher.messages if m.get("custom"))
    assert payload["pronto"] == "handoff" and payload["reason"] == "qualified"
    assert payload["lead"]["name"] == "Ana Lopez"
    assert payload["lead"]["budget_min"] == 600_000
    assert "{agent_name}" in [m for m in dispatcher.messages if m.get("text")][-1]["text"]
    assert State.load(slots[DIALOGUE_SLOT]).handed_off


def test_low_confidence_turn_reads_the_real_intent_under_the_fallback(
    make_tracker: TrackerFactory,
) -> None:
    tracker = make_tracker(text="kyle", intent="nlu_fallback", confidence=0.41,
                           intent_ranking=[{"name": "nlu_fallback", "confidence": 0.5},
                                           {"name": "greet", "confidence": 0.41}])
    turn = turn_from_tracker(tracker)
    assert turn.top() == ("greet", 0.41)


def test_today_and_ceiling_from_the_environment() -> None:
    assert today_from_env({"PRONTO_TODAY": "2026-12-01"}) == date(2026, 12, 1)
    assert today_from_env({}) is None
    assert max_turns_from_env({"PRONTO_BOT_MAX_MESSAGES": "8"}) == 8
    assert max_turns_from_env({"PRONTO_BOT_MAX_MESSAGES": "zero"}) == 12


async def test_every_turn_tells_the_gateway_the_open_question_and_the_facts_a_nudge_may_name(
    make_tracker: TrackerFactory,
) -> None:
    tracker = make_tracker(text="I want to buy in Doral", intent="buy", confidence=0.95,
                           metadata={"language": "en"})
    dispatcher, _ = await run(tracker)
    progress = [m["custom"] for m in dispatcher.messages
                if m.get("custom", {}).get("pronto") == "progress"]
    assert len(progress) == 1
    assert progress[0]["pending"] == "bedrooms"
    assert progress[0]["facts"] == {"lead_intent": "buy", "location": "Doral"}
