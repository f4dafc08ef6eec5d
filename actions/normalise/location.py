"""Areas, as a person would write them on a card: "in coral gables pls" -> "Coral Gables",
"por la zona de Kendall" -> "Kendall", "anywhere in Miami" -> "Miami".

"Anywhere" / "no preference" with no place is ``None``: the caller records no preference.
"""

from __future__ import annotations

import re

from actions.normalise.answers import is_no_preference
from actions.normalise.text import capitalise_word, fold

_FILLER_WORDS = {
    "yes", "no", "ok", "okay", "si", "sure", "claro", "hi", "hello", "hola", "thanks", "thx",
    "gracias", "bye", "adios", "idk", "nope", "yep", "yeah", "k", "kk", "nah", "hmm", "what",
    "que", "lol", "help", "ayuda", "stop", "buy", "sell", "rent", "comprar", "vender",
    "rentar", "alquilar", "anywhere", "cualquiera", "bot", "agent", "agente",
}  # fmt: skip
# "anywhere in Miami" names Miami: the "anywhere" is about the neighbourhood, not the city.
_ANYWHERE_IN = re.compile(
    r"^(?:(?:really\s+|honestly\s+)?(?:anywhere|somewhere|any\s?place|any\s+area|any\s+part|"
    r"wherever)\s+(?:in|around|near|close\s+to|of)|(?:en\s+)?cualquier\s+(?:lugar|parte|zona|"
    r"sitio|area)\s+(?:de|en|cerca\s+de|por)|donde\s+sea\s+(?:en|de|cerca\s+de|por))\s+"
)
_LOCATION_PREFIX = re.compile(
    r"^(?:(?:i'?m |we'?re |i am |we are )?(?:looking |searching |interested )?(?:to buy |to rent )?"
    r"(?:in|at|near|around|by|close to|the|preferably|somewhere (?:in|near|around))\s+|"
    r"(?:estoy |estamos )?(?:buscando )?"
    r"(?:en|por|cerca de|la zona de|zona de|el area de|area de|la|el|preferiblemente)\s+)+"
)
_LOCATION_SUFFIX = re.compile(
    r"(?:\s+(?:area|please|pls|plz|porfa|por favor|thx|thanks|gracias|zone|zona|preferably|"
    r"if possible|si se puede))+$"
)
_CONNECTORS = {"or", "and", "o", "y", "de", "del", "la", "las", "los", "of", "the", "el"}


def _capitalise_place(value: str) -> str:
    if value != value.lower():
        return value  # the writer chose the case ("South Beach", "FIU area")
    words = value.split()
    out = [capitalise_word(words[0])]
    for word in words[1:]:
        # "Miami Beach or Doral": joining words stay lower-case inside a place list.
        out.append(word if word in _CONNECTORS else capitalise_word(word))
    return " ".join(out)


def clean_location(text: str) -> str | None:
    """Turn a free-text area answer ("in coral gables pls") into a place ("Coral Gables").

    Args:
        text: The user's words or an extracted ``location`` entity.

    Returns:
        The cleaned place name, or ``None`` when nothing usable remains (including a
        no-preference answer such as "anywhere" or "me da igual").
    """
    value = re.sub(r"[!?.¡¿,;:]+$", "", text.strip())
    value = re.sub(r"^[¡¿]+", "", value).strip()
    anywhere = _ANYWHERE_IN.match(value.lower())
    if anywhere:
        value = value[anywhere.end() :]
    if is_no_preference(value):
        return None
    match = _LOCATION_PREFIX.match(value.lower())
    if match:
        value = value[match.end() :]
    match = _LOCATION_SUFFIX.search(value.lower())
    if match:
        value = value[: match.start()]
    value = value.strip(" ,.")
    if not value or fold(value) in _FILLER_WORDS or len(value) > 60 or value.isdigit():
        return None
    return None if is_no_preference(value) else _capitalise_place(value)
