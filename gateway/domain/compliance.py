"""Opt-out keywords (pure): a whole message that is STOP / START / HELP, English and Spanish.

Carriers treat these words specially; we honour them from the first message: record, confirm
once, and send nothing more to an opted-out lead. Case, accents, spaces and punctuation are
ignored ("Opt-out!", "NO MÁS", "¡Alto!"). Revocations written as a sentence ("please stop
texting me", "no me escriban más") are recognised by `gateway.domain.compliance_revocation`.

Opting back in: START, UNSTOP, SUBSCRIBE, OPTIN, and in Spanish COMENZAR, REANUDAR, INICIAR,
INICIO, SUSCRIBIR(ME) — words nobody sends as an ordinary answer. YES re-subscribes only a lead
who is opted out (as carriers do); "SÍ" never does, because it answers every yes/no question
the assistant asks and an opted-out lead was sent none.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from gateway.domain.compliance_revocation import Verdict, assess

__all__ = ["KEYWORDS", "Keyword", "Verdict", "assess", "keyword", "keyword_language"]


class Keyword(Enum):
    """What a compliance keyword asks for."""

    STOP = "stop"
    START = "start"
    HELP = "help"


# word (normalised: lower case, no accents, no spaces or punctuation) → (meaning, language).
# The language is None when the word says nothing about it (STOP is understood everywhere).
KEYWORDS: dict[str, tuple[Keyword, str | None]] = {
    **dict.fromkeys(
        ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"],
        (Keyword.STOP, None),
    ),
    **dict.fromkeys(
        ["alto", "parar", "para", "detener", "baja", "cancelar", "nomas"], (Keyword.STOP, "es")
    ),
    **dict.fromkeys(["start", "unstop", "subscribe", "yes", "optin"], (Keyword.START, None)),
    **dict.fromkeys(
        ["comenzar", "reanudar", "iniciar", "inicio", "suscribir", "suscribirme"],
        (Keyword.START, "es"),
    ),
    **dict.fromkeys(["help", "info"], (Keyword.HELP, None)),
    "ayuda": (Keyword.HELP, "es"),
}
# "yes" re-subscribes only when the lead is opted out (see `keyword`), like carriers do.
_ONLY_WHEN_OPTED_OUT = {"yes"}
_STRIP = re.compile(r"[\W_]+")


def normalise_keyword(text: str) -> str:
    """The form keywords are looked up in: lower case, accents and non-letters removed."""
    folded = unicodedata.normalize("NFKD", text.strip().lower())
    return _STRIP.sub("", "".join(c for c in folded if not unicodedata.combining(c)))


def keyword(text: str, *, opted_out: bool = False) -> Keyword | None:
    """The compliance keyword a whole message is, or None.

    Only a message consisting of the keyword alone counts ("stop" yes, "stop by at 5" no),
    matching carrier behaviour.
    """
    word = normalise_keyword(text)
    entry = KEYWORDS.get(word)
    if entry is None:
        return None
    if word in _ONLY_WHEN_OPTED_OUT and not opted_out:
        return None
    return entry[0]


def keyword_language(text: str) -> str | None:
    """The language a keyword is in, when it tells ("alto", "ayuda" → es)."""
    entry = KEYWORDS.get(normalise_keyword(text))
    return entry[1] if entry else None
