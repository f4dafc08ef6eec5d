"""Answer signals: no preference, unknown, a decline of the whole conversation, frustration.

A decline is only a clear refusal of the conversation ("not interested", "leave me alone");
a plain "no" answers the question asked. Frustration ("??", "I already told you") goes to a
person at once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from actions.normalise import is_decline, is_frustrated, is_no_preference, is_unknown_answer

SIGNALS: dict[str, Callable[[str], bool]] = {
    "no_preference": is_no_preference,
    "unknown": is_unknown_answer,
    "decline": is_decline,
    "frustrated": is_frustrated,
}

EN_CASES: list[tuple[str, str, bool]] = [
    ("no_preference", "doesn't matter", True),
    ("no_preference", "Doesn't Matter!!", True),
    ("no_preference", "dont care", True),
    ("no_preference", "any", True),
    ("no_preference", "anything", True),
    ("no_preference", "whatever", True),
    ("no_preference", "whatever works", True),
    ("no_preference", "no preference", True),
    ("no_preference", "open", True),
    ("no_preference", "I'm flexible", True),
    ("no_preference", "either", True),
    ("no_preference", "up to you", True),
    ("no_preference", "any area", True),
    ("no_preference", "not picky", True),
    ("no_preference", "no", False),
    ("no_preference", "3 bedrooms", False),
    ("no_preference", "not sure", False),
    ("no_preference", "I'm not flexible", False),
    ("no_preference", "an open kitchen would be great", False),
    ("unknown", "not sure", True),
    ("unknown", "idk", True),
    ("unknown", "I don't know", True),
    ("unknown", "no idea", True),
    ("unknown", "it depends", True),
    ("unknown", "dunno", True),
    ("unknown", "no preference", False),
    ("unknown", "in 3 months", False),
    ("unknown", "no", False),
    ("decline", "not interested", True),
    ("decline", "I'm not interested, thanks", True),
    ("decline", "no longer interested", True),
    ("decline", "leave me alone", True),
    ("decline", "stop bothering me", True),
    ("decline", "please stop texting me", True),
    ("decline", "wrong number", True),
    ("decline", "never mind, not looking anymore", True),
    ("decline", "no", False),
    ("decline", "nah", False),
    ("decline", "no thanks", False),
    ("decline", "not interested in condos", False),
    ("decline", "not now", False),
    ("frustrated", "??", True),
    ("frustrated", "???", True),
    ("frustrated", "what??", True),
    ("frustrated", "I already told you", True),
    ("frustrated", "i just told you", True),
    ("frustrated", "you don't understand", True),
    ("frustrated", "this is useless", True),
    ("frustrated", "are you even listening", True),
    ("frustrated", "talk to a human already", True),
    ("frustrated", "?", False),
    ("frustrated", "I don't understand", False),
    ("frustrated", "ok", False),
    ("frustrated", "talk to a human", False),  # a request for a person, not frustration
]

ES_CASES: list[tuple[str, str, bool]] = [
    ("no_preference", "no importa", True),
    ("no_preference", "cualquiera", True),
    ("no_preference", "lo que sea", True),
    ("no_preference", "da igual", True),
    ("no_preference", "me da igual", True),
    ("no_preference", "Me da IGUAL", True),
    ("no_preference", "sin preferencia", True),
    ("no_preference", "cualquier zona", True),
    ("no_preference", "no tengo preferencia", True),
    ("no_preference", "donde sea", True),
    ("no_preference", "soy flexible", True),
    ("no_preference", "no sé", False),
    ("no_preference", "tres", False),
    ("no_preference", "no", False),
    ("unknown", "no sé", True),
    ("unknown", "no se", True),
    ("unknown", "no tengo idea", True),
    ("unknown", "ni idea", True),
    ("unknown", "depende", True),
    ("unknown", "no estoy segura", True),
    ("unknown", "todavía no sé", True),
    ("unknown", "me da igual", False),
    ("unknown", "en 3 meses", False),
    ("unknown", "sí", False),
    ("decline", "no me interesa", True),
    ("decline", "ya no me interesa", True),
    ("decline", "no me interesa, gracias", True),
    ("decline", "no estoy interesado", True),
    ("decline", "déjame en paz", True),
    ("decline", "número equivocado", True),
    ("decline", "no me escribas más", True),
    ("decline", "ya no estoy buscando", True),
    ("decline", "no", False),
    ("decline", "no gracias", False),
    ("decline", "no me interesa esa zona", False),
    ("decline", "ahora no", False),
    ("frustrated", "ya te dije", True),
    ("frustrated", "ya te lo dije", True),
    ("frustrated", "no entiendes", True),
    ("frustrated", "¿que no entiendes?", True),
    ("frustrated", "no me estás escuchando", True),
    ("frustrated", "esto no sirve", True),
    ("frustrated", "¿¿??", True),
    ("frustrated", "¿?", False),
    ("frustrated", "no entiendo", False),
    ("frustrated", "ya", False),
    ("frustrated", "gracias", False),
]


@pytest.mark.parametrize(("signal", "text", "expected"), EN_CASES)
def test_signals_en(signal: str, text: str, expected: bool) -> None:
    assert SIGNALS[signal](text) is expected


@pytest.mark.parametrize(("signal", "text", "expected"), ES_CASES)
def test_signals_es(signal: str, text: str, expected: bool) -> None:
    assert SIGNALS[signal](text) is expected
