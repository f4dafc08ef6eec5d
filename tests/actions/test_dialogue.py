"""The qualification dialogue (actions/dialogue.py), one message at a time, no Rasa needed."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.dialogue import MAX_ATTEMPTS, State, Turn, decide

TODAY = date(2026, 12, 1)


def say(state: State, text: str, intent: str = "inform", confidence: float = 0.95,
        language: str = "en", entities: list[dict[str, Any]] | None = None,
        max_turns: int = 12) -> list[dict[str, Any]]:
    """Send one message; returns the messages the bot sends back."""
    turn = Turn(text=text, intent=intent, confidence=confidence,
                ranking=((intent, confidence),), entities=tuple(entities or ()),
                language=language, today=TODAY)
    return decide(state, turn, max_turns=max_turns).messages


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]


def handoff(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((m["custom"] for m in messages
                 if m.get("custom", {}).get("pronto") == "handoff"), None)


def test_opening_introduces_then_asks_the_goal() -> None:
    state = State()
    out = texts(say(state, "hi", "greet"))
    assert "virtual assistant" in out[0]
    assert "buy, sell or rent" in out[-1]
    assert state.pending == "lead_intent"


def test_a_full_buyer_conversation_hands_off_with_a_normalised_lead() -> None:
    state = State()
    say(state, "hi, looking to buy", "buy")
    assert state.pending == "location"
    for answer in ("doral", "four", "somewhere between 300 and 350 thousand",
                   "by February 1st", "I've got a pre-approval letter"):
        assert handoff(say(state, answer)) is None
    assert state.pending == "name"
    out = say(state, "Maribel Ortega", "greet", 0.7)
    lead = handoff(out)
    assert lead is not None and lead["reason"] == "qualified"
    got = lead["lead"]
    assert (got["intent"], got["location"], got["bedrooms"]) == ("buy", "Doral", 4)
    assert (got["budget_min"], got["budget_max"]) == (300_000, 350_000)
    assert got["timeline_days"] == 62
    assert got["financing"] == "preapproved"
    assert got["name"] == "Maribel Ortega"
    assert "Maribel Ortega" in texts(out)[-1]


def test_a_bare_name_counts_whatever_the_intent() -> None:
    state = State(facts={"lead_intent": "sell", "location": "Kendall", "budget": "400k",
                         "timeline": "asap"}, pending="name", introduced=True,
                  attempts={"name": 1})
    lead = handoff(say(state, "Kyle", "greet", 0.9))
    assert lead is not None and lead["lead"]["name"] == "Kyle"


def test_a_question_is_asked_at_most_twice_then_the_words_are_kept() -> None:
    state = State()
    say(state, "quiero rentar", "rent", language="es")
    say(state, "Hialeah", language="es")
    assert state.pending == "bedrooms"
    say(state, "2", language="es")
    assert state.pending == "budget"
    first = texts(say(state, "hmm", "out_of_scope", 0.4, language="es"))
    assert state.pending == "budget" and state.attempts["budget"] == 2
    assert any("presupuesto" in t for t in first)
    second = say(state, "pregúntale a mi esposa", language="es")
    assert state.pending == "timeline", "the third ask of one question never comes"
    assert state.unparsed["budget"] == "pregúntale a mi esposa"
    assert any(m.get("custom", {}).get("pronto") == "not_understood" for m in second)


def test_no_preference_is_an_answer_not_a_decline() -> None:
    state = State()
    say(state, "want to buy", "buy")
    say(state, "doesn't matter", "deny", 0.9)
    assert state.pending == "bedrooms"
    assert "location" in state.no_preference
    say(state, "cualquiera", "affirm", 0.8, language="es")
    assert state.pending == "budget"


def test_a_plain_no_is_not_a_decline_but_not_interested_is() -> None:
    state = State()
    say(state, "buy", "buy")
    out = say(state, "no", "deny", 0.99)
    assert handoff(out) is None
    lead = handoff(say(state, "not interested, leave me alone", "deny"))
    assert lead is not None and lead["reason"] == "declined"
    assert not state.handed_off, "a declined lead can come back"


def test_frustration_goes_to_a_person_at_once() -> None:
    state = State()
    say(state, "rent", "rent")
    lead = handoff(say(state, "I already told you", "inform"))
    assert lead is not None and lead["reason"] == "request_human"


def test_the_same_text_after_a_reask_is_frustration() -> None:
    state = State()
    say(state, "buy", "buy")
    say(state, "Doral")
    say(state, "a big house")
    assert state.pending == "bedrooms" and state.attempts["bedrooms"] == 2
    lead = handoff(say(state, "a big house"))
    assert lead is not None and lead["reason"] == "request_human"


def test_a_request_for_a_person_mid_form_keeps_what_is_known() -> None:
    state = State()
    say(state, "busco comprar en Doral", "buy", language="es",
        entities=[{"entity": "location", "value": "Doral", "start": 17, "end": 22}])
    lead = handoff(say(state, "quiero hablar con una persona", "request_human", language="es"))
    assert lead is not None and lead["reason"] == "request_human"
    assert lead["lead"]["location"] == "Doral"


def test_multi_fact_opening_keeps_everything_and_asks_what_is_missing() -> None:
    state = State()
    out = texts(say(state, "first home, 4bd 3ba under 500k in Miramar, moving in 60 days",
                    "buy", entities=[{"entity": "location", "value": "Miramar",
                                      "start": 35, "end": 42}]))
    assert state.facts["bedrooms"] and state.facts["budget"] and state.facts["timeline"]
    assert state.facts["location"] == "Miramar"
    assert state.pending == "financing"
    assert "pay" in out[-1]


def test_an_amount_per_month_does_not_fill_the_timeline() -> None:
    state = State(facts={"lead_intent": "rent", "location": "Doral", "bedrooms": "2"},
                  pending="budget", introduced=True, attempts={"budget": 1})
    say(state, "two thousand a month",
        entities=[{"entity": "timeline", "value": "a month", "start": 13, "end": 20}])
    assert "timeline" not in state.facts
    assert state.pending == "timeline"


def test_the_ceiling_hands_off_whatever_is_missing() -> None:
    state = State()
    say(state, "buy", "buy", max_turns=4)
    say(state, "Doral", max_turns=4)
    say(state, "3", max_turns=4)
    lead = handoff(say(state, "400k", max_turns=4))
    assert lead is not None and lead.get("ceiling") is True


def test_every_conversation_ends_with_a_person_even_if_nothing_parses() -> None:
    state = State()
    for n in range(1, 30):
        out = say(state, f"blah {n}", "out_of_scope", 0.3)
        if handoff(out):
            break
    assert handoff(out) is not None
    assert n <= 12


def test_after_done_the_bot_talks_again_and_a_new_request_is_routed() -> None:
    state = State(facts={"lead_intent": "buy", "location": "Doral", "name": "Ana Ruiz"},
                  handed_off=True, introduced=True, turns=7)
    out = say(state, "thanks so much!", "thank")
    assert handoff(out) is None and not state.handed_off and state.returned
    assert "welcome" in texts(out)[0].lower()
    out = say(state, "hi, one more thing", "greet")
    assert handoff(out) is None and "anything else" in texts(out)[0]
    lead = handoff(say(state, "can I talk to someone again?", "request_human"))
    assert lead is not None and lead["reason"] == "request_human"
    assert lead["lead"]["name"] == "Ana Ruiz"


def test_after_done_a_new_goal_starts_a_new_qualification() -> None:
    state = State(facts={"lead_intent": "buy", "location": "Doral", "name": "Ana Ruiz"},
                  handed_off=True, introduced=True)
    out = texts(say(state, "now I want to sell my condo", "sell"))
    assert state.facts == {"name": "Ana Ruiz", "lead_intent": "sell"}
    assert state.pending == "location" and "sell" in out[-1]


def test_a_side_question_does_not_use_up_an_attempt() -> None:
    state = State()
    say(state, "buy", "buy")
    out = texts(say(state, "are you a bot?", "ask_if_bot"))
    assert "automated assistant" in out[0]
    assert state.pending == "location" and state.attempts["location"] == 1
    assert state.attempts["location"] < MAX_ATTEMPTS


def test_spanish_questions_in_spanish_and_language_is_sticky() -> None:
    state = State()
    out = texts(say(state, "hola, quiero vender", "sell", language="es"))
    assert "propiedad que quieres vender" in out[-1]
    out = texts(say(state, "Kendall", language=""))
    assert "vender" in out[-1] or "venderla" in out[-1]


def test_state_survives_the_slot_round_trip() -> None:
    state = State()
    say(state, "rent", "rent")
    assert State.load(state.dump()) == state
    assert State.load("garbage") == State()


def test_keyboard_mashing_is_no_area_and_no_name() -> None:
    state = State()
    say(state, "rent", "rent")
    say(state, "asdkjh", "inform", 1.0)
    assert "location" not in state.facts and state.attempts["location"] == 2
    say(state, "Pembroke Pines")
    assert state.facts["location"] == "Pembroke Pines"


INTENTS = ("greet", "goodbye", "affirm", "deny", "thank", "buy", "sell", "rent", "ask_listing",
           "schedule_showing", "inform", "request_human", "ask_if_bot", "out_of_scope",
           "change_language", "nlu_fallback")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.sampled_from(INTENTS),
                          st.floats(0.0, 1.0), st.sampled_from(("en", "es", ""))),
                min_size=30, max_size=30))
def test_no_prospect_is_ever_trapped(messages: list[tuple[str, str, float, str]]) -> None:
    """Whatever a prospect writes, a person has the lead within the message ceiling, and no
    question is asked a third time."""
    state, sent = State(), 0
    for text_, intent, confidence, language in messages:
        out = say(state, text_, intent, confidence, language=language)
        sent += 1
        assert all(count <= MAX_ATTEMPTS for count in state.attempts.values()), state.attempts
        if handoff(out) is not None:
            break
    assert handoff(out) is not None and sent <= 12
