"""Signals in an answer that are not values: no preference, unknown, decline, frustration.

The form treats them differently: "no preference" and "not sure" are valid answers that leave
the field empty, a decline ends the conversation, and frustration goes to a person at once.
All matching is on ``plain`` text, so case, accents, apostrophes and punctuation never matter.
"""

from __future__ import annotations

import re

from actions.normalise.text import phrase_pattern, plain

# --- no preference ---------------------------------------------------------------------------

_NO_PREFERENCE = phrase_pattern([
    "doesnt matter", "does not matter", "dont matter", "doesnt really matter", "no matter",
    "dont care", "do not care", "dont really care", "i dont mind", "dont mind",
    "whatever", "whichever", "wherever", "whenever", "no preference", "no preferences",
    "no pref", "no particular preference", "dont have a preference", "up to you", "your call",
    "you choose", "you pick", "not picky", "any area", "anywhere", "any place", "any of them",
    "anything", "anything works", "any is fine", "any works", "either is fine",
    "either one", "either way", "open to anything", "open to suggestions", "open to options",
    "makes no difference", "no importa", "no me importa", "cualquiera", "cualquier zona",
    "cualquier lugar", "cualquier parte", "cualquier area", "lo que sea", "da igual",
    "me da igual", "me es igual", "da lo mismo", "me da lo mismo", "sin preferencia",
    "sin preferencias", "ninguna preferencia", "no tengo preferencia", "no tengo preferencias",
    "donde sea", "como sea", "cuando sea", "me es indiferente", "indiferente", "no soy exigente",
    "no soy quisquilloso", "no soy quisquillosa", "tu decides", "como quieras",
    "cualquiera de los dos", "lo que haya",
])  # fmt: skip
# Single words that mean "no preference" only when they are (nearly) the whole answer:
# "open" alone is an answer, "an open kitchen" is not.
_NO_PREFERENCE_SHORT = phrase_pattern([
    "any", "open", "im open", "flexible", "im flexible", "either", "ambos", "abierto",
    "abierta", "estoy abierto", "estoy abierta", "soy flexible", "todos", "todas",
])  # fmt: skip
_NEGATED_OPEN = phrase_pattern([
    "not flexible", "not open", "no soy flexible", "no estoy abierto", "no estoy abierta",
])  # fmt: skip


def is_no_preference(text: str) -> bool:
    """Tell whether the answer says any value is fine ("doesn't matter", "me da igual").

    Only the signal: "any 3 bed is fine" is True here, so callers read a value first and
    fall back to this when there is none.

    Args:
        text: The user's words.

    Returns:
        True for an explicit "no preference" answer.
    """
    words = plain(text)
    if _NEGATED_OPEN.search(words):
        return False
    if _NO_PREFERENCE.search(words):
        return True
    return len(words.split()) <= 4 and bool(_NO_PREFERENCE_SHORT.search(words))


# --- unknown ---------------------------------------------------------------------------------

_UNKNOWN = phrase_pattern([
    "not sure", "not really sure", "unsure", "no idea", "no clue", "dunno", "idk", "dont know",
    "do not know", "not certain", "havent decided", "have not decided", "undecided",
    "not decided", "hard to say", "depends", "it depends", "no rush", "just looking",
    "just browsing", "no se", "no lo se", "ni idea", "no tengo idea", "no tengo ni idea",
    "no estoy seguro", "no estoy segura", "todavia no se", "aun no se", "quien sabe", "depende",
    "sin prisa", "no hay prisa", "solo mirando", "solo viendo", "no he decidido",
    "no lo he decidido", "no lo tengo claro", "no tengo claro",
])  # fmt: skip


def is_unknown_answer(text: str) -> bool:
    """Tell whether the user says they do not know ("not sure", "no sé", "idk", "depende").

    Args:
        text: The user's words.

    Returns:
        True for an explicit "don't know" answer.
    """
    return bool(_UNKNOWN.search(plain(text)))


# --- decline ---------------------------------------------------------------------------------

_DECLINE = phrase_pattern([
    "no longer interested", "ya no me interesa", "ya no estoy interesado",
    "ya no estoy interesada", "leave me alone", "dejame en paz", "dejenme en paz",
    "dejame tranquilo", "dejame tranquila", "stop bothering me", "stop texting me",
    "stop messaging me", "stop contacting me", "stop calling me", "dont text me",
    "do not text me", "dont contact me", "do not contact me", "dont message me",
    "no me escribas", "no me escriba", "no me vuelvas a escribir", "no me contactes",
    "no me contacten", "no me molestes", "no me moleste", "deja de escribirme",
    "dejen de escribirme", "deja de molestarme", "wrong number", "wrong person",
    "numero equivocado", "equivocado de numero", "se equivoco de numero",
    "te equivocaste de numero", "not looking anymore", "not looking any more",
    "no longer looking", "ya no estoy buscando", "ya no busco", "remove me from",
    "take me off your list", "lose my number", "unsubscribe", "borrame de", "sacame de",
])  # fmt: skip
# "not interested" declines the conversation, "not interested in condos" states a preference:
# these phrases count only when what follows is empty or from ``_DECLINE_TAIL``.
_NOT_INTERESTED = re.compile(
    r"\b(?:not interested|no estoy interesad[oa]|no me interesa|no interesad[oa]|"
    r"no interesa|not really interested)\b(?P<tail>.*)$"
)
_DECLINE_TAIL = set(
    "anymore any more thanks thank you at all right now really thx sorry seriously actually "
    "in it this that buying selling renting anything either bye please pls ok okay no nope "
    "gracias ya mas nada por ahora el momento en eso esto comprar vender rentar alquilar "
    "lo siento adios de verdad".split()
)
_DECLINE_ALONE = {"stop", "stop it", "basta", "alto", "unsubscribe", "baja"}


def is_decline(text: str) -> bool:
    """Tell whether the prospect refuses the whole conversation ("not interested", "no me
    interesa", "leave me alone", "wrong number").

    A plain "no", "nah" or "no thanks" is an answer to the question just asked, not a
    refusal, and gives False.

    Args:
        text: The user's words.

    Returns:
        True for a clear refusal.
    """
    words = plain(text)
    if words in _DECLINE_ALONE or _DECLINE.search(words):
        return True
    match = _NOT_INTERESTED.search(words)
    return match is not None and all(w in _DECLINE_TAIL for w in match.group("tail").split())


# --- frustration -----------------------------------------------------------------------------

_FRUSTRATED = phrase_pattern([
    "i already told you", "already told you", "i just told you", "just told you",
    "told you already", "i told you", "i already said", "already said", "i said already",
    "i already answered", "already answered", "you already asked", "you asked that already",
    "ya te dije", "ya te lo dije", "ya le dije", "ya lo dije", "ya dije", "ya te conteste",
    "ya conteste", "ya respondi", "ya te respondi", "te lo acabo de decir", "acabo de decirte",
    "ya me preguntaste", "ya me lo preguntaste", "no entiendes", "no me entiendes",
    "no entendiste", "no me estas entendiendo", "no me escuchas", "no me estas escuchando",
    "you dont understand", "you do not understand", "you dont get it", "youre not listening",
    "you are not listening", "youre not understanding", "are you even listening",
    "are you listening", "are you stupid", "this is useless", "so useless", "useless",
    "this is stupid", "stupid bot", "dumb bot", "bot estupido", "esto no sirve", "no sirves",
    "no sirve para nada", "inutil", "waste of time", "perdida de tiempo", "for the last time",
    "por ultima vez", "human already", "person already", "someone already", "persona ya",
    "wtf", "ugh",
])  # fmt: skip


def is_frustrated(text: str) -> bool:
    """Tell whether the prospect is frustrated with the bot ("??", "I already told you",
    "ya te dije", "no entiendes").

    Args:
        text: The user's words.

    Returns:
        True when the conversation should go to a person at once.
    """
    # Punctuation is the signal here, so look at the raw text before ``plain`` drops it.
    if re.search(r"\?\s*\?", text):
        return True
    if text.count("?") >= 2 and not re.sub(r"[\s?¿!¡.]", "", text):
        return True
    return bool(_FRUSTRATED.search(plain(text)))
