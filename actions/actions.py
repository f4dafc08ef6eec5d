"""The Rasa actions. Each one is thin: it reads the tracker, calls pure code, and speaks.

* ``action_converse``: runs after every prospect message; ``actions.dialogue.decide`` says
  what to answer (questions, re-asks, digressions, the handoff payload) and the new state.
"""

from __future__ import annotations

import os
from datetime import date

# rasa-sdk ships without type information (no py.typed): its base classes are Any to mypy,
# hence the `type: ignore[misc]` on each subclass below.
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.dialogue import DEFAULT_MAX_TURNS, State, Turn, decide

FALLBACK_INTENT = "nlu_fallback"
DIALOGUE_SLOT = "dialogue"


def today_from_env(environ: dict[str, str] | None = None) -> date | None:
    """The reference date for timelines: ``PRONTO_TODAY`` (YYYY-MM-DD) when set, else today.

    Evaluations and tests fix the date so that "by February 1st" has one right day count.
    """
    raw = (environ if environ is not None else os.environ).get("PRONTO_TODAY", "").strip()
    return date.fromisoformat(raw) if raw else None


def max_turns_from_env(environ: dict[str, str] | None = None) -> int:
    """``PRONTO_BOT_MAX_MESSAGES``: prospect messages before a handoff at the latest."""
    raw = (environ if environ is not None else os.environ).get("PRONTO_BOT_MAX_MESSAGES", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_MAX_TURNS


def turn_from_tracker(tracker: Tracker, today: date | None = None) -> Turn:
    """Build the dialogue's view of the latest message from the tracker."""
    latest = tracker.latest_message or {}
    # The gateway decides the language (sticky, per lead) and sends it as metadata; the
    # dialogue keeps the last one it saw when a message comes without.
    metadata = latest.get("metadata") or {}
    intent = latest.get("intent") or {}
    ranking = tuple(
        (str(r.get("name")), float(r.get("confidence") or 0.0))
        for r in latest.get("intent_ranking") or []
        if r.get("name") != FALLBACK_INTENT
    )
    return Turn(
        text=str(latest.get("text") or ""),
        intent=str(intent.get("name") or FALLBACK_INTENT),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=ranking,
        entities=tuple(latest.get("entities") or ()),
        language=str(metadata.get("language") or ""),
        today=today,
        intake=metadata["intake"] if isinstance(metadata.get("intake"), dict) else None,
    )


PROGRESS_FACTS = ("name", "location", "lead_intent")


def progress_payload(state: State) -> dict[str, object]:
    """What the gateway may use between messages: the question still open (a silent lead gets
    nudged) and the facts a nudge may name ("Still looking in Doral, Maria?")."""
    return {"pronto": "progress", "pending": state.pending,
            "facts": {k: state.facts[k] for k in PROGRESS_FACTS if state.facts.get(k)}}


class ActionConverse(Action):  # type: ignore[misc]
    """Answer one prospect message: the next question, a re-ask, or the handoff."""

    def name(self) -> str:
        """Action name."""
        return "action_converse"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Decide with ``actions.dialogue.decide`` and send what it says."""
        state = State.load(tracker.get_slot(DIALOGUE_SLOT))
        reply = decide(state, turn_from_tracker(tracker, today_from_env()),
                       max_turns=max_turns_from_env())
        for message in reply.messages:
            if "custom" in message:
                dispatcher.utter_message(json_message=message["custom"])
            else:
                dispatcher.utter_message(text=message["text"])
        dispatcher.utter_message(json_message=progress_payload(reply.state))
        return [SlotSet(DIALOGUE_SLOT, reply.state.dump())]
