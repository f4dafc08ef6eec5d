"""The opening when Pronto writes first (a form, a lead email, a missed call): who we are,
what about, what the lead already gave, and the first open question."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from actions.qualification import GOALS
from actions.texts import text

if TYPE_CHECKING:
    from actions.dialogue import Reply, Turn

NextQuestion = Callable[["Reply", "Turn"], "Reply"]


def open_intake(reply: Reply, turn: Turn, next_question: NextQuestion) -> Reply:
    """Pronto writes first (a form, a lead email, a missed call): say who we are and what
    about, keep what the lead already gave, and ask the first open question.

    No prospect message is counted: the lead has not written yet.
    """
    state, lang, intake = reply.state, turn.language, turn.intake or {}
    if state.introduced and state.turns:
        return reply  # the lead is already talking to us: no second opening
    name = str(intake.get("name") or "").strip()
    if name and "name" not in state.facts:
        state.facts["name"] = name
    goal = GOALS.get(str(intake.get("lead_intent") or ""))
    if goal and "lead_intent" not in state.facts:
        state.facts["lead_intent"] = goal
    location = str(intake.get("location") or "").strip()
    if location and "location" not in state.facts:
        state.facts["location"] = location  # the listing's area: no need to ask it
    listing = str(intake.get("listing") or "").strip()
    if listing:
        state.listing_ref = listing
    state.introduced = True
    first_name = f" {name.split()[0]}" if name else ""
    brokerage = str(intake.get("brokerage") or "our team")
    if intake.get("kind") == "call":
        reply.say(text("intro_missed_call", lang, name_part=first_name, brokerage=brokerage))
        # "How can we help?" is the goal question: the answer is read as one.
        if "lead_intent" not in state.facts:
            state.pending, state.attempts["lead_intent"] = "lead_intent", 1
            return reply
        return next_question(reply, turn)
    about = text("about_listing", lang, listing=listing) if listing else ""
    reply.say(text("intro_intake", lang, name_part=first_name, brokerage=brokerage,
                   about=about))
    return next_question(reply, turn)
