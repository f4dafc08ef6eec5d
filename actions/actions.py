"""The Rasa actions. Each one is thin: it reads slots, calls pure code, and speaks.

* ``action_validate_slot_mappings``: sets ``language`` from the message metadata.
* ``validate_qualification_form``: which questions to ask; checks and normalises answers.
* ``action_intro``: the one-time "who is writing" acknowledgement.
* ``action_handoff``: the ``{"pronto": "handoff", ...}`` payload plus the message to the lead.
* ``action_low_confidence``: the ``{"pronto": "low_confidence", ...}`` payload plus a
  rephrase request.
"""

from __future__ import annotations

from typing import Any

# rasa-sdk ships without type information (no py.typed): its base classes are Any to mypy,
# hence the `type: ignore[misc]` on each subclass below.
from rasa_sdk import Action, FormValidationAction, Tracker, ValidationAction
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.normalise import (
    budget_with_context,
    clean_location,
    clean_name,
    is_unknown_answer,
    parse_bedrooms,
    parse_budget,
    parse_financing,
    parse_timeline,
)
from actions.qualification import build_lead, handoff_reason, required_slots
from actions.texts import language_or_default, text

FALLBACK_INTENT = "nlu_fallback"
LEAD_INTENTS = ("buy", "sell", "rent", "listing")
_NO_PREFERENCE = (
    "any",
    "whatever",
    "doesn't matter",
    "no preference",
    "da igual",
    "no importa",
    "cualquiera",
    "lo que sea",
)


def _language(tracker: Tracker) -> str:
    return language_or_default(tracker.get_slot("language"))


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (``None`` if it had none).

    Args:
        tracker: The conversation (the form validator's tracker already holds this turn's
            candidate values).
        slot: Slot name.

    Returns:
        The last value set before the latest ``user`` event.
    """
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def _entities(tracker: Tracker, entity: str) -> list[dict[str, Any]]:
    return [e for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


class ValidateSlotMappings(ValidationAction):  # type: ignore[misc]
    """Global slot extraction: the gateway's language decision arrives as metadata."""

    def name(self) -> str:
        """Action name (fixed by Rasa for global slot validation)."""
        return "action_validate_slot_mappings"

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take ``metadata.language``; keep the previous language when it is missing."""
        metadata = tracker.latest_message.get("metadata") or {}
        language = metadata.get("language")
        if language in ("en", "es"):
            return {"language": language}
        return {"language": language_or_default(tracker.get_slot("language"))}


class ValidateQualificationForm(FormValidationAction):  # type: ignore[misc]
    """Decides the form's questions and normalises each answer, re-asking when unusable."""

    def name(self) -> str:
        """Action name (Rasa calls ``validate_<form name>``)."""
        return "validate_qualification_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Bedrooms for buyers and renters, financing for buyers; see ``required_slots``."""
        return required_slots(tracker.get_slot("lead_intent"))

    def _invalid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
    ) -> dict[str, Any]:
        # Only the question just asked is re-asked; an unusable side value (an entity DIET
        # spotted in an answer to another question) leaves the earlier answer in place.
        if tracker.get_slot("requested_slot") != slot:
            return {slot: previous_value(tracker, slot)}
        dispatcher.utter_message(text=text(f"invalid_{slot}", _language(tracker)))
        return {slot: None}

    def _keep_earlier_answer(self, tracker: Tracker, slot: str) -> bool:
        """While the name is asked, the answer is a name: words in it that look like an area,
        amount or date ("Carlos Perez") must not overwrite what the prospect already said."""
        return (
            tracker.get_slot("requested_slot") == "name"
            and slot != "name"
            and previous_value(tracker, slot) is not None
        )

    def validate_lead_intent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept buy, sell, rent or listing."""
        if self._keep_earlier_answer(tracker, "lead_intent"):
            return {"lead_intent": previous_value(tracker, "lead_intent")}
        if value in LEAD_INTENTS:
            return {"lead_intent": value}
        return self._invalid(dispatcher, tracker, "lead_intent")

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Clean "in coral gables pls" to "Coral Gables"."""
        if self._keep_earlier_answer(tracker, "location"):
            return {"location": previous_value(tracker, "location")}
        location = clean_location(str(value)) if value else None
        if location:
            return {"location": location}
        return self._invalid(dispatcher, tracker, "location")

    def validate_bedrooms(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Need a count, "studio", or an explicit "any"/"not sure"."""
        if self._keep_earlier_answer(tracker, "bedrooms"):
            return {"bedrooms": previous_value(tracker, "bedrooms")}
        raw = str(value) if value is not None else ""
        if parse_bedrooms(raw) is not None:
            return {"bedrooms": raw}
        if is_unknown_answer(raw) or any(p in raw.lower() for p in _NO_PREFERENCE):
            return {"bedrooms": raw}
        return self._invalid(dispatcher, tracker, "bedrooms")

    def validate_budget(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a phrase ``parse_budget`` understands; restore "under"/"hasta" and ranges."""
        if self._keep_earlier_answer(tracker, "budget"):
            return {"budget": previous_value(tracker, "budget")}
        amounts = _entities(tracker, "amount")
        if amounts:
            message = tracker.latest_message.get("text") or ""
            start = int(amounts[0].get("start") or 0)
            raw = budget_with_context([str(a.get("value")) for a in amounts], message[:start])
        else:
            raw = str(value) if value is not None else ""
        if parse_budget(raw, tracker.get_slot("lead_intent")) is not None or is_unknown_answer(raw):
            return {"budget": raw}
        return self._invalid(dispatcher, tracker, "budget")

    def validate_timeline(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Need something ``parse_timeline`` understands, or an explicit "not sure"."""
        if self._keep_earlier_answer(tracker, "timeline"):
            return {"timeline": previous_value(tracker, "timeline")}
        raw = str(value) if value is not None else ""
        if parse_timeline(raw) is not None or is_unknown_answer(raw):
            return {"timeline": raw}
        return self._invalid(dispatcher, tracker, "timeline")

    def validate_financing(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Store the category: preapproved, cash, needs_lender or unknown."""
        if self._keep_earlier_answer(tracker, "financing"):
            return {"financing": previous_value(tracker, "financing")}
        financing = parse_financing(str(value)) if value is not None else None
        if financing:
            return {"financing": financing}
        return self._invalid(dispatcher, tracker, "financing")

    def validate_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Clean "me llamo ana lopez" to "Ana Lopez"."""
        name = clean_name(str(value)) if value else None
        if name:
            return {"name": name}
        return self._invalid(dispatcher, tracker, "name")


class ActionIntro(Action):  # type: ignore[misc]
    """Say once who is writing (an automated assistant), then let the form ask."""

    def name(self) -> str:
        """Action name."""
        return "action_intro"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utter ``utter_intro`` unless already done (or the prospect just asked if we are a
        bot: ``utter_i_am_bot`` has answered that)."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not tracker.get_slot("introduced") and intent != "ask_if_bot":
            dispatcher.utter_message(response="utter_intro")
        return [SlotSet("introduced", True)]


class ActionHandoff(Action):  # type: ignore[misc]
    """Hand the lead to a human: a hidden payload for the gateway, then a note to the lead."""

    def name(self) -> str:
        """Action name."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send ``{"pronto": "handoff", "reason", "lead"}`` and the ``{agent_name}`` message."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = handoff_reason(intent)
        slots = dict(tracker.current_slot_values())
        if reason == "listing_question" and not slots.get("lead_intent"):
            slots["lead_intent"] = "listing"
        lead = build_lead(slots)
        dispatcher.utter_message(json_message={"pronto": "handoff", "reason": reason, "lead": lead})
        name_part = f", {lead['name']}" if lead["name"] else ""
        dispatcher.utter_message(
            text=text(f"handoff_{reason}", lead["language"], name_part=name_part)
        )
        events: list[EventType] = [SlotSet("requested_slot", None)]
        # A declined lead can come back and finish qualifying; others wait for their agent.
        events.append(SlotSet("handed_off", reason != "declined"))
        if slots.get("lead_intent") != tracker.get_slot("lead_intent"):
            events.append(SlotSet("lead_intent", slots["lead_intent"]))
        return events


class ActionLowConfidence(Action):  # type: ignore[misc]
    """NLU confidence below the FallbackClassifier threshold: report it and ask to rephrase."""

    def name(self) -> str:
        """Action name."""
        return "action_low_confidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send ``{"pronto": "low_confidence", "intent", "confidence"}`` and a rephrase request."""
        ranking = tracker.latest_message.get("intent_ranking") or []
        top = next((r for r in ranking if r.get("name") != FALLBACK_INTENT), None)
        if top is None:
            top = tracker.latest_message.get("intent") or {}
        dispatcher.utter_message(
            json_message={
                "pronto": "low_confidence",
                "intent": top.get("name"),
                "confidence": round(float(top.get("confidence") or 0.0), 4),
            }
        )
        dispatcher.utter_message(text=text("low_confidence", _language(tracker)))
        return []
