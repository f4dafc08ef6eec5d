"""Opt-out keywords (pure). Single-word STOP / START / HELP, English and Spanish.

Carriers treat these words specially; we honour them from the first message: record, confirm
once, and send nothing more to an opted-out lead.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum


class Keyword(Enum):
    """What a compliance keyword asks for."""

    STOP = "stop"
    START = "start"
    HELP = "help"


_WORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke",
         "alto", "parar", "para", "detener", "baja", "cancelar"],
        Keyword.STOP,
    ),
    **dict.fromkeys(["start", "unstop", "subscribe", "yes", "optin", "inicio", "comenzar"],
                    Keyword.START),
    **dict.fromkeys(["help", "info", "ayuda"], Keyword.HELP),
}
# "yes" re-subscribes only when the lead is opted out (see `keyword`), like carriers do.
_ONLY_WHEN_OPTED_OUT = {"yes"}
_STRIP = re.compile(r"[^\w]+")


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.strip().lower())
    return _STRIP.sub("", "".join(c for c in folded if not unicodedata.combining(c)))


def keyword(text: str, *, opted_out: bool = False) -> Keyword | None:
    """The compliance keyword a whole message is, or None.

    Only a message consisting of the keyword alone counts ("stop" yes, "stop by at 5" no),
    matching carrier behaviour.
    """
    word = _norm(text)
    kw = _WORDS.get(word)
    if kw is None:
        return None
    if word in _ONLY_WHEN_OPTED_OUT and not opted_out:
        return None
    return kw


def keyword_language(text: str) -> str | None:
    """The language a keyword is in, when it tells ("alto", "ayuda" → es)."""
    word = _norm(text)
    if word in {"alto", "parar", "para", "detener", "baja", "cancelar", "ayuda", "inicio",
                "comenzar"}:
        return "es"
    return None
