"""Fixtures for the action server tests.

These run in the Rasa environment (``.venv-rasa/bin/python -m pytest tests/actions -q``) and
import only ``actions`` and ``rasa_sdk``, never the gateway package.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SLOT_NAMES = ("dialogue",)

DOMAIN: dict[str, Any] = {
    "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in SLOT_NAMES},
}

TrackerFactory = Callable[..., "Tracker"]


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """A dispatcher that collects what the action would send."""
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    """The minimal domain dict for form validation."""
    return DOMAIN


@pytest.fixture
def make_tracker() -> TrackerFactory:
    """Build a rasa-sdk ``Tracker`` for one user turn.

    Keyword arguments: ``slots`` (dict), ``text``, ``intent``, ``confidence``,
    ``intent_ranking``, ``entities``, ``metadata``, ``set_this_turn`` (slots set by Rasa's
    slot extraction after the user message, which the form validates), ``active_loop``.
    """

    def factory(
        slots: dict[str, Any] | None = None,
        text: str = "",
        intent: str = "inform",
        confidence: float = 0.99,
        intent_ranking: list[dict[str, Any]] | None = None,
        entities: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        set_this_turn: dict[str, Any] | None = None,
        active_loop: str | None = None,
    ) -> Tracker:
        from rasa_sdk import Tracker

        values = dict.fromkeys(SLOT_NAMES)
        values.update(slots or {})
        values.update(set_this_turn or {})
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": intent_ranking or [{"name": intent, "confidence": confidence}],
            "entities": entities or [],
            "metadata": metadata or {},
        }
        # Earlier answers first, then this user turn, then what Rasa extracted from it.
        events: list[dict[str, Any]] = [
            {"event": "slot", "name": k, "value": v} for k, v in (slots or {}).items()
        ]
        events += [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}},
        ]
        events += [
            {"event": "slot", "name": k, "value": v} for k, v in (set_this_turn or {}).items()
        ]
        return Tracker(
            sender_id="42",
            slots=values,
            latest_message=latest,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return factory


# In an environment without rasa-sdk (the gateway's .venv), collect nothing from here: these
# tests belong to `.venv-rasa/bin/python -m pytest tests/actions`.
collect_ignore_glob = [] if importlib.util.find_spec("rasa_sdk") else ["test_*.py"]
