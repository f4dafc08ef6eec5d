"""The qualification dialogue: one pure decision per prospect message.

Rasa classifies the message (intent, entities); this module decides what happens next, so the
rules that keep a prospect from being trapped are plain code with plain tests:

* A question is asked at most twice. After a second unusable answer the prospect's own words
  are kept (the agent sees them, quoted) and the next question comes.
* Frustration ("??", "I already told you", the same text twice) and a request for a person go
  to a human at once; so does any conversation that reaches ``max_turns`` prospect messages.
* "No preference" is an answer; only a clear refusal of the whole conversation is a decline.
* The answer to the question just asked is read from the text whatever the intent; other facts
  are taken only when the message clearly states them (an entity the normaliser accepts).

``decide(state, turn)`` returns the messages to send and the new state; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from actions.intake_opening import open_intake
from actions.normalise import (
    fold,
    is_decline,
    is_frustrated,
    is_no_preference,
    is_unknown_answer,
)
from actions.qualification import FACTS, GOALS, build_lead, required_slots
from actions.stated import (
    answer_for,
    asks_about_listing,
    mentions_address,
    stated_facts,
    wants_person,
)
from actions.texts import LANGUAGES, question, text

MAX_ATTEMPTS = 2
"""A question is asked at most this many times."""
DEFAULT_MAX_TURNS = 12
"""Every conversation reaches a person within this many prospect messages."""
CONFIDENT = 0.6
"""An intent this confident may steer the dialogue (a digression, a goal)."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One prospect message as Rasa understood it.

    Attributes:
        text: What the prospect wrote.
        intent: The top intent (``nlu_fallback`` below the threshold).
        confidence: Its confidence.
        ranking: Intent names and confidences, best first (without ``nlu_fallback``).
        entities: Rasa's entities: dicts with ``entity``, ``value``, ``start``, ``end``.
        language: "en" or "es" (the gateway's decision, sent as metadata).
        today: The reference date for timelines.
        intake: For the first touch Pronto makes itself (a form, a lead email, a missed
            call): what the lead gave ("kind", "name", "listing", "lead_intent",
            "brokerage"); the text of such a turn is not the prospect's.
    """

    text: str
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[Mapping[str, Any], ...] = ()
    language: str = "en"
    today: date | None = None
    intake: Mapping[str, Any] | None = None

    def top(self) -> tuple[str, float]:
        """The best real intent (the one under ``nlu_fallback`` when it fell back)."""
        if self.intent != "nlu_fallback":
            return self.intent, self.confidence
        return self.ranking[0] if self.ranking else ("nlu_fallback", 0.0)

    def is_(self, intent: str, confidence: float = CONFIDENT) -> bool:
        """Whether the message is ``intent`` with at least ``confidence``."""
        name, conf = self.top()
        return name == intent and conf >= confidence


@dataclass(slots=True)
class State:
    """What the dialogue remembers between messages (kept in one Rasa slot as a dict).

    Attributes:
        facts: Raw answers by topic ("budget": "under 500k"); normalised at handoff.
        pending: The topic of the question just asked, if any.
        attempts: How many times each topic was asked.
        unparsed: The prospect's own words for topics given up on.
        no_preference: Topics answered with "no preference" / "not sure".
        turns: Prospect messages so far (this qualification).
        introduced: Whether the assistant has said who it is.
        handed_off: Whether the lead waits for (or has) a person.
        last_text: The previous message, folded (to spot the same text twice).
        wants_showing: The prospect asked to see a property.
        listing_ref: The listing the prospect asked about.
        language: The conversation's language ("en"/"es"), kept when a message has none.
        returned: The agent handed the conversation back (DONE): the bot talks again, and a
            new goal or a request for a person starts a new qualification or handoff.
    """

    facts: dict[str, str] = field(default_factory=dict)
    pending: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    unparsed: dict[str, str] = field(default_factory=dict)
    no_preference: list[str] = field(default_factory=list)
    turns: int = 0
    introduced: bool = False
    handed_off: bool = False
    last_text: str = ""
    wants_showing: bool = False
    listing_ref: str | None = None
    language: str = "en"
    returned: bool = False

    @classmethod
    def load(cls, data: Any) -> State:
        """Rebuild from the slot value (anything unusable gives a fresh state)."""
        if not isinstance(data, Mapping):
            return cls()
        known = {k: data[k] for k in cls.__slots__ if k in data}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def dump(self) -> dict[str, Any]:
        """The slot value."""
        return {k: getattr(self, k) for k in self.__slots__}

    def settled(self, topic: str) -> bool:
        """Whether a topic needs no more asking (answered, no preference, or given up)."""
        return topic in self.facts or topic in self.no_preference or topic in self.unparsed


@dataclass(slots=True)
class Reply:
    """What to send for one message: texts and payloads in order, and the new state."""

    state: State
    messages: list[dict[str, Any]] = field(default_factory=list)

    def say(self, message: str) -> None:
        """Queue a text for the prospect."""
        self.messages.append({"text": message})

    def payload(self, data: dict[str, Any]) -> None:
        """Queue a custom payload for the gateway (never shown to the prospect)."""
        self.messages.append({"custom": data})


def decide(state: State, turn: Turn, *, max_turns: int = DEFAULT_MAX_TURNS) -> Reply:
    """Decide the answer to one prospect message.

    Args:
        state: What the dialogue knew before this message.
        turn: The message as Rasa understood it.
        max_turns: Hand off at the latest at this many prospect messages.

    Returns:
        The messages to send and the new state.
    """
    reply = Reply(state)
    if turn.language in LANGUAGES:
        state.language = turn.language
    turn = replace(turn, language=state.language)
    lang = turn.language
    if turn.intake is not None:
        return open_intake(reply, turn, _next_question)
    folded = fold(turn.text).strip()
    # The same text again after a re-ask: the prospect thinks they answered (frustration).
    repeated = (bool(folded) and folded == state.last_text and state.pending is not None
                and state.attempts.get(state.pending, 0) >= MAX_ATTEMPTS)
    state.last_text = folded
    if state.handed_off:
        # While an agent is offered or owns the lead, the gateway does not ask the bot, so a
        # message here means the agent handed the conversation back (DONE).
        _hand_back(state)
    if state.returned:
        return _after_hand_back(reply, turn)
    state.turns += 1
    first, state.introduced = not state.introduced, True
    if first:
        reply.say(text("i_am_bot" if turn.is_("ask_if_bot") else "intro", lang))
    # Frustration needs a question it is about ("is it still available??" opens a chat).
    if state.pending is not None and (is_frustrated(turn.text) or repeated):
        return _handoff(reply, turn, "request_human")
    if is_decline(turn.text):
        return _handoff(reply, turn, "declined")
    if wants_person(turn.text):
        return _handoff(reply, turn, "request_human")
    pending = state.pending
    answered = _answer_pending(state, turn)
    if answered is None and turn.is_("request_human"):
        return _handoff(reply, turn, "request_human")
    about_listing = asks_about_listing(turn.text) or (
        pending == "lead_intent" and mentions_address(turn.text))
    if (first and about_listing) or (answered is None and "lead_intent" not in state.facts
                                     and (about_listing or turn.is_("ask_listing"))):
        state.listing_ref = turn.text
        return _handoff(reply, turn, "listing_question")
    took_others = _take_stated(state, turn)
    if turn.is_("schedule_showing", 0.5):
        state.wants_showing = True
    counted = True
    if not first and answered is None:
        side = _digression(reply, turn)
        if side == "free":
            counted = False  # a side question does not use up an attempt
        elif pending is not None and (not took_others
                                      or state.attempts.get(pending, 0) >= MAX_ATTEMPTS):
            _not_understood(reply, state, pending, turn, hint=side is None)
        elif pending is not None:
            counted = False  # they answered something else: ask again, no penalty
    if state.turns >= max_turns and _open_topics(state):
        return _handoff(reply, turn, "qualified", ceiling=True)
    return _next_question(reply, turn, count=counted)


def _open_topics(state: State) -> list[str]:
    """The questions that would still be asked."""
    return [t for t in required_slots(state.facts.get("lead_intent")) if not state.settled(t)
            and (state.attempts.get(t, 0) < MAX_ATTEMPTS or t == state.pending)]


def _hand_back(state: State) -> None:
    """Start a fresh round: what is known stays, the counters and the pending question go."""
    state.handed_off, state.returned = False, True
    state.pending, state.attempts, state.turns, state.last_text = None, {}, 0, ""


def _after_hand_back(reply: Reply, turn: Turn) -> Reply:
    """Talk again after DONE: a request for a person or a new goal goes the normal way."""
    state, lang = reply.state, turn.language
    goal = GOALS.get(turn.top()[0]) if turn.top()[1] >= CONFIDENT else None
    if is_frustrated(turn.text) or wants_person(turn.text) or turn.is_("request_human"):
        state.returned = False
        return _handoff(reply, turn, "request_human")
    if goal is not None or stated_facts(turn.text, turn.entities, goal):
        # A new request ("now I want to sell my condo"): qualify it, keeping who they are.
        keep = {k: v for k, v in state.facts.items() if k == "name"}
        state.facts, state.no_preference, state.unparsed = keep, [], {}
        state.returned = False
        return decide(state, turn)
    if not _digression(reply, turn):
        reply.say(text("welcome_back", lang))
    return reply


def _answer_pending(state: State, turn: Turn) -> bool | None:
    """Read the answer to the question just asked.

    Returns:
        True when the topic got a value, False for an explicit "no preference"/"not sure",
        None when the text is no answer to it.
    """
    topic = state.pending
    if topic is None:
        return None
    value = answer_for(topic, turn.text, turn.entities, state.facts.get("lead_intent"),
                       intent=turn.top()[0], confidence=turn.top()[1])
    if value is not None:
        state.facts[topic] = value
        return True
    if topic != "name" and (is_no_preference(turn.text) or is_unknown_answer(turn.text)):
        state.no_preference.append(topic)
        return False
    return None


def _take_stated(state: State, turn: Turn) -> bool:
    """Keep the facts the message clearly states besides the answer; True if any was new."""
    new = False
    goal = GOALS.get(turn.top()[0])
    if goal and "lead_intent" not in state.facts and turn.top()[1] >= 0.5:
        state.facts["lead_intent"], new = goal, True
    for topic, value in stated_facts(turn.text, turn.entities, state.facts.get("lead_intent")):
        if topic == state.pending or state.settled(topic):
            continue
        state.facts[topic], new = value, True
    return new


def _digression(reply: Reply, turn: Turn) -> str | None:
    """Answer a side remark (are you a bot, language, thanks, bye, off-topic).

    Returns:
        "free" for a real side question (it costs the prospect no attempt), "said" when the
        remark was answered but the question still counts as not answered, None otherwise.
    """
    lang = turn.language
    for intent, key, kind in (("ask_if_bot", "i_am_bot", "free"),
                              ("change_language", "language_ok", "free"),
                              ("thank", "youre_welcome", "said"),
                              ("goodbye", "goodbye", "said"),
                              ("out_of_scope", "out_of_scope", "said")):
        if turn.is_(intent):
            reply.say(text(key, lang))
            return kind
    return None


def _not_understood(
    reply: Reply, state: State, topic: str, turn: Turn, *, hint: bool = True
) -> None:
    """An unusable answer: say so once; after the second, keep the words and move on."""
    tried = state.attempts.get(topic, 0)
    reply.payload({"pronto": "not_understood", "topic": topic, "attempt": tried,
                   "intent": turn.top()[0], "confidence": round(turn.top()[1], 4)})
    if tried >= MAX_ATTEMPTS:
        state.unparsed[topic] = turn.text.strip()[:200]
        reply.say(text("moving_on", turn.language))
    elif hint:
        reply.say(text(f"invalid_{topic}", turn.language))


def _next_question(reply: Reply, turn: Turn, *, count: bool = True) -> Reply:
    """Ask the first question still open, or hand off when none is.

    Args:
        reply: The reply so far.
        turn: The message.
        count: Whether asking the pending question again uses up an attempt.
    """
    state = reply.state
    for topic in _open_topics(state):
        if count or topic != state.pending or topic not in state.attempts:
            state.attempts[topic] = state.attempts.get(topic, 0) + 1
        state.pending = topic
        reply.say(question(topic, turn.language, state.facts.get("lead_intent")))
        return reply
    return _handoff(reply, turn, "qualified")


def _handoff(reply: Reply, turn: Turn, reason: str, *, ceiling: bool = False) -> Reply:
    """Hand the lead to a person: the gateway payload, then one message to the prospect."""
    state = reply.state
    slots: dict[str, Any] = {**state.facts, "language": turn.language,
                             "wants_showing": state.wants_showing,
                             "listing_ref": state.listing_ref}
    if reason == "listing_question" and not slots.get("lead_intent"):
        slots["lead_intent"] = "listing"
    lead = build_lead(slots, turn.today)
    lead["unparsed"] = dict(state.unparsed)
    lead["no_preference"] = list(state.no_preference)
    payload: dict[str, Any] = {"pronto": "handoff", "reason": reason, "lead": lead}
    if ceiling:
        payload["ceiling"] = True
        payload["turns"] = state.turns
    reply.payload(payload)
    name_part = f", {lead['name']}" if lead["name"] else ""
    reply.say(text(f"handoff_{reason}", turn.language, name_part=name_part))
    state.pending = None
    # A declined lead can come back and finish qualifying; others wait for their agent.
    state.handed_off = reason != "declined"
    return reply


__all__ = ["FACTS", "State", "Turn", "decide"]
