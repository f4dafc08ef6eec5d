"""Text helpers shared by every normaliser: folding, phrase patterns and capitalisation.

Prospects write in two languages, on phones, with and without accents, in any case. Every
normaliser compares folded text so that "Millón", "MILLON" and "millon" are one word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Curly quotes and accents typed as apostrophes: phones insert them at random ("I’m", "don´t").
_APOSTROPHES = re.compile(r"[’‘`´ʼ]")
_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case and strip accents so "millón", "MILLON" and "millon" compare equal.

    Args:
        text: Any user text.

    Returns:
        The folded text with single spaces; punctuation is kept.
    """
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("'", text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def plain(text: str) -> str:
    """Fold and drop punctuation: "I DON'T care!!" becomes "i dont care".

    Apostrophes are removed rather than spaced so that contractions stay one word
    ("don't" -> "dont"), which is how many prospects type them anyway.

    Args:
        text: Any user text.

    Returns:
        Folded letters, digits and single spaces only.
    """
    folded = fold(text).replace("'", "")
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", folded)).strip()


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first.

    Longest first matters: with "mil|millon" the engine would stop at "mil" inside "millón".
    Spaces in a phrase match any run of spaces.

    Args:
        words: Literal words or phrases.

    Returns:
        The alternation, without surrounding group.
    """
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in unique)


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Compile whole-word phrases into one pattern for ``plain`` text.

    Args:
        phrases: Folded phrases without punctuation ("no me interesa", "dont care").

    Returns:
        A pattern matching any of them between word boundaries.
    """
    return re.compile(rf"\b(?:{alternation(phrases)})\b")


def half_up(value: float) -> int:
    """Round .5 away from zero (Python's ``round`` rounds 10.5 to 10, people expect 11)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def capitalise_word(word: str) -> str:
    """Capitalise one word the way people sign it: "o'neill" -> "O'Neill", "josé-luis" ->
    "José-Luis". A word typed in mixed case ("McDonald") is the writer's choice and is kept.

    Args:
        word: One word, possibly with hyphens and apostrophes.

    Returns:
        The capitalised word.
    """
    if word != word.lower() and word != word.upper():
        return word
    parts = re.split(r"(-)", word.lower())
    out = []
    for part in parts:
        # A one-letter prefix before an apostrophe is an Irish/Italian/French particle
        # (O'Neill, D'Angelo); elsewhere the apostrophe is a contraction ("Miami's").
        particle = re.fullmatch(r"(\w)'(\w+)", part)
        if particle:
            out.append(f"{particle.group(1).upper()}'{particle.group(2).capitalize()}")
        else:
            out.append(part[:1].upper() + part[1:])
    return "".join(out)
