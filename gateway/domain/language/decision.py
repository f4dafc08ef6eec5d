"""The detector's answer for one message (its own module: callers import it without the
detector's models)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LanguageDecision:
    """The language to answer in, and why.

    Attributes:
        language: The language to answer in.
        detected: Language evidenced by this message alone; None when no evidence.
        confidence: 0..1 confidence in ``detected`` (0.0 when None).
        explicit: The message explicitly asks for a language ("Can we continue in English?").
        changed: ``language != previous`` (False when previous is None).
    """

    language: str
    detected: str | None
    confidence: float
    explicit: bool
    changed: bool
