"""Names, as the person would sign them: "maribel ortega" -> "Maribel Ortega",
"JOSÉ-LUIS o'neill" -> "José-Luis O'Neill", "mi nombre es lucia fernandez" -> "Lucia Fernandez".

A name is 1 to 4 words of letters (accents, hyphens and apostrophes allowed), possibly
introduced ("me llamo", "I'm", "this is") or followed ("here"). Anything else is not a name:
"yes", "why do you need it", "i would rather not say", a phone number.
"""

from __future__ import annotations

import re

from actions.normalise.text import capitalise_word, fold

_GREETING = (
    r"(?:(?:hi|hello|hey|hola|buenas|buenos dias|buenas tardes|ok|okay|sure|claro|si|sí|yes|"
    r"yeah|yep)[\s,!.]+)*"
)
_INTRO = re.compile(
    rf"^{_GREETING}(?:my name is|my names|my name's|name is|names|name's|the name is|"
    r"i am|i'm|im|it is|it's|its|this is|call me|you can call me|me llamo|mi nombre es|"
    r"soy|me dicen|te habla|le habla|habla|es)\s+"
)
_OUTRO = re.compile(r"\s+(?:here|speaking|al habla|aqu[ií])$")
_HONORIFIC = re.compile(r"^(?:mr|mrs|ms|dr|sr|sra|srta)\.?\s+(?=\S)", re.I)
# Where a name answer stops: "John Smith, thanks", "Ana y Luis", "Carlos. I want to buy".
_END = re.compile(r"[,;:!?.()\[\]]| and | y | & | thanks| thank you| gracias| thx")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_QUESTION_START = re.compile(
    r"^(?:why|what|how|who|where|when|which|por ?que|para que|que|quien|como|donde|cuando)\b"
)
# Words no name is made of; checked on folded words without apostrophes.
_NOT_NAME_WORDS = set(
    # answers and greetings
    "yes no ok okay si sure claro hi hello hey hola thanks thx gracias bye adios idk nope "
    "yep yeah k kk nah hmm lol what que help ayuda stop buenas buenos dias tardes noches "
    # English function words and verbs
    "i me my mine you your it its is are am was be been not dont doesnt wont cant would "
    "rather say tell telling need needs want why how who where when which matter care none "
    "business skip pass prefer the a an to for with or this that just here there good fine "
    "great ready back sorry busy done interested looking buying selling renting thinking "
    "nothing nobody anonymous private secret none later maybe please pls give do does "
    # Spanish function words and verbs
    "yo tu mi su nos es soy estoy quiero decir decirlo decirte decirle prefiero importa por "
    "para el lo le les nada nadie bien listo ocupado interesado interesada buscando comprar "
    "vender rentar alquilar tambien luego despues mas secreto privado anonimo porfa favor "
    # things prospects answer instead of a name
    "buy sell rent house home casa bot agent agente human humano person persona robot "
    "cash contado asap ya".split()
)
_PARTICLES = {"de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "van", "von", "der"}


def _candidate(text: str) -> str | None:
    """The part of the answer that should be the name, or ``None`` for a question."""
    value = re.sub(r"[’‘`´]", "'", text).strip()
    if "?" in value or "¿" in value:
        return None
    value = re.sub(r"^[^\w']+|[^\w']+$", "", value)
    lowered = value.lower()
    if _QUESTION_START.match(fold(lowered)):
        return None
    intro = _INTRO.match(lowered)
    if intro:
        value = value[intro.end() :]
    value = _HONORIFIC.sub("", value)
    value = _END.split(value, maxsplit=1)[0].strip()
    return _OUTRO.sub("", value).strip()


def clean_name(text: str) -> str | None:
    """Turn a free-text name answer ("me llamo ana lopez") into a display name ("Ana Lopez").

    Args:
        text: The user's answer to "what's your name?".

    Returns:
        One to four capitalised words, or ``None`` when the text does not look like a name.
    """
    value = _candidate(text)
    if not value:
        return None
    words = value.split()
    if not 1 <= len(words) <= 4 or not all(_WORD.fullmatch(w) for w in words):
        return None
    folded = [fold(w).replace("'", "") for w in words]
    if any(w in _NOT_NAME_WORDS for w in folded) or folded[0] in _PARTICLES:
        return None
    if len(re.sub(r"\W", "", words[0])) < 2:
        return None
    out = [capitalise_word(words[0])]
    for word, plain_word in zip(words[1:], folded[1:], strict=True):
        # "María de la Cruz": particles stay lower-case inside a name, as people sign it.
        typed_case = word not in (word.lower(), word.upper())
        particle = plain_word in _PARTICLES and not typed_case
        out.append(plain_word if particle else capitalise_word(word))
    return " ".join(out)


def looks_like_name(text: str) -> bool:
    """Tell whether the answer is a name (with or without "me llamo", "I'm", ...).

    Args:
        text: The user's words.

    Returns:
        True when ``clean_name`` finds a name in it.
    """
    return clean_name(text) is not None
