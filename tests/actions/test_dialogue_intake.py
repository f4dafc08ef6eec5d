"""The first touch Pronto makes itself (a form, a lead email, a missed call), then the lead's
own answers: actions/dialogue.py with ``Turn.intake``."""

from __future__ import annotations

from datetime import date
from typing import Any

from actions.dialogue import State, Turn, decide

TODAY = date(2026, 12, 1)


def opening(state: State, intake: dict[str, Any], language: str = "en") -> list[str]:
    turn = Turn(text="/greet", intent="greet", confidence=1.0, language=language,
                today=TODAY, intake=intake)
    return [m["text"] for m in decide(state, turn).messages if "text" in m]


def answer(state: State, text: str, intent: str = "inform") -> list[dict[str, Any]]:
    turn = Turn(text=text, intent=intent, confidence=0.9, ranking=((intent, 0.9),),
                language=state.language, today=TODAY)
    return decide(state, turn).messages


def test_a_form_lead_is_greeted_by_name_about_the_listing_then_asked_the_first_open_question(
) -> None:
    state = State()
    out = opening(state, {"kind": "form", "name": "Maria Lopez", "listing": "123 Palm Ave",
                          "brokerage": "Coral Realty"})
    assert out[0].startswith("Hi Maria, this is the Coral Realty assistant")
    assert "about 123 Palm Ave" in out[0]
    assert "buy, sell or rent" in out[-1]
    assert state.facts["name"] == "Maria Lopez" and state.turns == 0
    assert state.pending == "lead_intent"


def test_what_the_form_gave_is_not_asked_again() -> None:
    state = State()
    out = opening(state, {"kind": "form", "name": "Ana", "lead_intent": "buy",
                          "location": "Doral", "brokerage": "Coral Realty"}, "es")
    assert out[0].startswith("Hola Ana, soy el asistente de Coral Realty")
    assert state.pending == "bedrooms"  # goal and area came with the form
    for text in ("3", "hasta 400 mil", "en dos meses"):
        answer(state, text)
    messages = answer(state, "tengo preaprobación")  # the name is known: nothing left to ask
    payload = next(m["custom"] for m in messages if "custom" in m
                   and m["custom"].get("pronto") == "handoff")
    assert payload["lead"]["name"] == "Ana" and payload["lead"]["location"] == "Doral"


def test_a_missed_call_text_back_reads_the_reply_as_the_goal() -> None:
    state = State()
    out = opening(state, {"kind": "call", "brokerage": "Coral Realty"})
    assert out == [out[0]] and "sorry we missed your call" in out[0]
    assert out[0].endswith("How can we help?")
    assert state.pending == "lead_intent"
    answer(state, "I want to sell my condo", "sell")
    assert state.facts["lead_intent"] == "sell" and state.pending == "location"


def test_no_second_opening_once_the_lead_is_talking() -> None:
    state = State()
    answer(state, "hi, looking to rent", "rent")
    assert opening(state, {"kind": "form", "name": "Bo"}) == []
