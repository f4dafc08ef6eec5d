"""What a message answers and what it clearly states, as raw text the normalisers accept.

Two readings of one message:

* ``answer_for(topic, ...)``: the answer to the question just asked. The whole text is read
  with that topic's normaliser, whatever intent the NLU assigned ("Kyle" may be classified as
  a greeting; at the name question it is a name).
* ``stated_facts(...)``: other facts, taken only when clearly stated: an entity the normaliser
  accepts, or an unmistakable pattern ("4bd", "under 500k", "in 60 days"). A side value never
  overwrites an earlier answer (the dialogue checks that).

Pure functions; no Rasa types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from actions.normalise import (
    budget_with_context,
    clean_location,
    clean_name,
    fold,
    is_decline,
    is_frustrated,
    is_no_preference,
    is_unknown_answer,
    parse_bedrooms,
    parse_budget,
    parse_financing,
    parse_timeline,
)
from actions.places import find_place

_DIGRESSIONS = ("request_human", "ask_if_bot", "out_of_scope", "greet", "goodbye", "thank",
                "affirm", "deny", "change_language")
_GOAL_WORDS = {
    "buy": r"\b(?:buy|buying|purchase|comprar|compro|compra)\b",
    "sell": r"\b(?:sell|selling|list(?:ing)? my|vender|vendo|venta)\b",
    "rent": r"\b(?:rent|renting|lease|rental|rentar|alquilar|alquiler|arrendar|renta)\b",
}
_PERSON = re.compile(
    r"\b(?:(?:talk|speak|chat|text)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s*one|some\s*body|"
    r"your\s+)?(?:real\s+|actual\s+|live\s+)?(?:person|human|agent|realtor|someone|somebody|"
    r"people|man|woman)|(?:real|actual|live)\s+(?:person|human|agent)|"
    r"hablar\s+con\s+(?:un[ao]?\s+|alguien|una\s+persona|el\s+|la\s+)?(?:persona|humano|agente|"
    r"asesor[a]?|alguien|realtor)|(?:persona|agente|humano)\s+(?:real|de verdad)|"
    r"(?:pasame|comunicame|comunicas|conectame)\s+con)\b"
)
_BEDROOM_WORDS = (r"(?:bd|bds|bed|beds|bedrooms?|br|brs|bdr|bdrm|bdrms|hab|habs|habitacion(?:es)?|"
                  r"cuartos?|recamaras?|dormitorios?|alcobas?)")
_BEDROOMS = re.compile(rf"\b(?:\d+|[a-z]+(?:\s+(?:o|or|a|to)\s+[a-z0-9]+)?)\+?\s*{_BEDROOM_WORDS}\b"
                       rf"|\b(?:studio|estudio|monoambiente)\b")
_MONEY = (r"(?:\$\s*\d[\d,.]*\s*(?:k|m|mil|million|millones|thousand)?|\d[\d,.]*\s*(?:k|m|mil|"
          r"million|millones|thousand|grand|dollars|dolares|usd)\b)")
# A range may start with a bare number: "500-600k", "entre 300 y 350 mil".
_RANGE_START = r"(?:\$?\s*\d[\d,.]*\s*(?:-|to|a|y|and)\s*)?"
_BUDGET = re.compile(
    rf"(?:(?:under|below|up to|max(?:imum)?|around|about|less than|no more than|at least|"
    rf"between|from|budget(?: is| of)?|hasta|menos de|maximo|alrededor de|como|entre|desde|"
    rf"presupuesto(?: de| es)?)\s+)?{_RANGE_START}{_MONEY}"
    rf"(?:\s*(?:to|-|and|y|a)\s*{_MONEY}|\s*(?:to|-|and|y|a)\s*\d[\d,.]*)?"
    rf"(?:\s*(?:a|per|/|al|por)\s*(?:month|mo|mes))?"
)
_TIMELINE = re.compile(
    r"\b(?:(?:in|within|en|dentro de)\s+(?:\d+|[a-z]+)(?:\s+(?:or|o|to|a)\s+\d+)?\s+"
    r"(?:days?|weeks?|months?|years?|dias?|semanas?|meses|mes|anos?)|asap|a\.s\.a\.p|"
    r"right away|lo antes posible|"
    r"(?:by|para|before|antes de|around|en)\s+(?:the\s+|el\s+|la\s+)?(?:end of (?:the )?(?:month|"
    r"year)|fin de (?:mes|ano)|(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"octubre|noviembre|diciembre)(?:\s+\d{1,2}(?:st|nd|rd|th)?)?)|next (?:week|month|year|spring|"
    r"summer|fall|winter)|(?:la semana|el mes|el ano) que viene)\b"
)
_FINANCING = re.compile(
    r"\b(?:pre-?approv\w*|preaprob\w*|pre-?qualif\w*|precalific\w*|cash|contado|efectivo|"
    r"(?:fha|va|conventional|convencional)\s+(?:loan|prestamo|credito)|mortgage|hipoteca|lender|"
    r"prestamista|financ\w+)\b"
)


_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[nsew]{1,2}\s+)?(?:\d{1,3}(?:st|nd|rd|th)?\s+)?(?:[a-z]+\s+){0,2}"
    r"(?:st|street|ave|avenue|av|blvd|boulevard|rd|road|dr|drive|ct|court|ln|lane|way|pl|place|"
    r"ter|terrace|hwy|cir|circle)\b|\b(?:calle|avenida|ave|av)\s+\d{1,4}\b|\b\d{1,4}\s+"
    r"(?:de\s+)?(?:calle|avenida)\b|\bunit\s+\d+|\bmls\b|\blisting\b|\bel anuncio\b|"
    r"\b(?:[nsew]{1,2}\s+)?\d{1,3}(?:st|nd|rd|th)\s+(?:st|street|ave|avenue|ct|ter|pl|way|rd)\b"
)
_AVAILABLE = re.compile(
    r"\b(?:available|still (?:for sale|for rent|on the market|up)|for sale|for rent|sold|"
    r"how much (?:is|are|do)|asking|price|hoa|disponible|a la venta|en venta|en renta|se vendio|"
    r"todavia|sigue|cuanto (?:piden|cuesta|vale))\b"
)


def mentions_address(text: str) -> bool:
    """Whether the message names a property ("the one on 132nd ave", "la de la calle 8")."""
    return bool(_ADDRESS.search(fold(text)))


def asks_about_listing(text: str) -> bool:
    """Whether the message asks about one property ("is 1500 Brickell Ave #2304 for rent?").

    Args:
        text: The message.

    Returns:
        True for an address (or "the listing") together with an availability or price word.
    """
    folded = fold(text)
    return bool(_ADDRESS.search(folded) and _AVAILABLE.search(folded))


def looks_like_words(text: str) -> bool:
    """False for keyboard mashing ("asdkjh", "jjjjjj", "xzcvb"), which is no free-text answer.

    A free-text answer (an area, a name) is accepted without a parser, so gibberish would
    otherwise become "Asdkjh" on the agent's card.
    """
    words = re.findall(r"[a-z]+", fold(text))
    if not words:
        return False
    for word in words:
        if re.search(r"(.)\1\1", word) or re.search(r"[^aeiouy]{5,}", word):
            return False
        if len(word) > 3 and not re.search(r"[aeiouy]", word):
            return False
    return True


def wants_person(text: str) -> bool:
    """Whether the prospect asks for a person ("can I talk to a real person?").

    Args:
        text: The message.

    Returns:
        True for an explicit request for a human, in English or Spanish.
    """
    return bool(_PERSON.search(fold(text)))


def _entity_values(entities: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [e for e in entities if e.get("entity") == name and e.get("value") is not None]


def _budget_from_entities(
    text: str, entities: Iterable[Mapping[str, Any]], lead_intent: str | None
) -> str | None:
    amounts = _entity_values(entities, "amount")
    if not amounts:
        return None
    start = int(amounts[0].get("start") or 0)
    end = int(amounts[-1].get("end") or len(text))
    raw = budget_with_context([str(a["value"]) for a in amounts], text[:start])
    # "2000 a month": the period after the amount belongs to it (rent is monthly).
    if re.match(r"\s*(?:a|per|/|al|por)\s*(?:month|mo|mes)\b", fold(text[end:])):
        raw += " a month"
    return raw if parse_budget(raw, lead_intent) is not None else None


# Words that make a longer place out of a listed one ("North" + "Miami Beach").
_PLACE_WORDS = frozenset({
    "north", "south", "east", "west", "downtown", "beach", "lakes", "gardens", "heights",
    "shores", "springs", "park", "village", "key", "isles", "sunny", "upper", "lower", "old",
    "new", "palm", "bay", "point", "estates", "acres", "hills", "grove", "island", "islands",
})
_DIGRESSION_WORDS = re.compile(
    r"\b(?:hi|hey|hello|hola|buenas|bye|adios|chao|thanks|thank|thx|gracias|ok|okay|yes|yeah|"
    r"yep|no|nope|nah|si|claro|dale|sure|bot|robot|human|humano|person|persona|agent|agente|"
    r"english|ingles|spanish|espanol|weather|clima|joke|chiste)\b"
)


def _place_in(text: str) -> str | None:
    """A listed place named in ``text``, grown by the place words around it ("north miami
    beach" names more than the listed "Miami Beach")."""
    known = find_place(text)
    if known is None:
        return None
    words = fold(text).replace(",", " ").split()
    key = fold(known).split()
    for i in range(len(words) - len(key) + 1):
        if words[i:i + len(key)] == key:
            start, end = i, i + len(key)
            while start > 0 and words[start - 1] in _PLACE_WORDS:
                start -= 1
            while end < len(words) and words[end] in _PLACE_WORDS:
                end += 1
            if (start, end) != (i, i + len(key)):
                return " ".join(w.capitalize() for w in words[start:end])
            break
    return known


def _is_digression(intent: str, confidence: float, text: str) -> bool:
    """A confident side remark, and worded like one: "Edgewater" classified as goodbye is
    still an area."""
    return (intent in _DIGRESSIONS and confidence >= 0.8
            and bool(_DIGRESSION_WORDS.search(fold(text))))


def answer_for(
    topic: str,
    text: str,
    entities: Iterable[Mapping[str, Any]] = (),
    lead_intent: str | None = None,
    *,
    intent: str = "inform",
    confidence: float = 1.0,
) -> str | None:
    """The raw answer to the question about ``topic``, if the message gives one.

    Args:
        topic: The topic just asked (a ``FACTS`` name).
        text: The message.
        entities: Rasa's entities for it.
        lead_intent: The prospect's goal so far (scales bare numbers in budgets).
        intent: The NLU's top intent (a confident digression is no free-text answer).
        confidence: Its confidence.

    Returns:
        Text the topic's normaliser accepts, or ``None``.
    """
    entities = tuple(entities)
    if is_frustrated(text) or is_decline(text) or wants_person(text):
        return None
    if topic == "lead_intent":
        folded = fold(text)
        if intent in ("buy", "sell", "rent") and confidence >= 0.4:
            return intent
        found = [goal for goal, pattern in _GOAL_WORDS.items() if re.search(pattern, folded)]
        return found[0] if len(found) == 1 else None
    if topic == "bedrooms":
        return text if parse_bedrooms(text) is not None else None
    if topic == "budget":
        # A short answer is read whole ("two thousand five hundred a month"): an entity DIET
        # tagged in it may be only a part of the amount ("thousand"). In a long message the
        # entity points at the amount among other numbers.
        whole = text if parse_budget(text, lead_intent) is not None else None
        if whole is not None and len(text.split()) <= 10:
            return whole
        return _budget_from_entities(text, entities, lead_intent) or whole
    if topic == "timeline":
        return text if parse_timeline(text) is not None else None
    if topic == "financing":
        return text if parse_financing(text) is not None else None
    if is_no_preference(text) or is_unknown_answer(text) or "?" in text:
        return None
    if not looks_like_words(text):
        return None
    if topic == "location":
        known = _place_in(text)
        short = len(text.split()) <= 5
        if known is not None:
            return known
        if short and not _is_digression(intent, confidence, text) and clean_location(text) \
                and parse_budget(text) is None:
            return text
        for place in _entity_values(entities, "location"):
            if clean_location(str(place["value"])):
                return str(place["value"])
        if short or _is_digression(intent, confidence, text) or parse_budget(text) is not None:
            return None
        return text if clean_location(text) else None
    if topic == "name":
        return text if clean_name(text) else None
    return None


def stated_facts(
    text: str, entities: Iterable[Mapping[str, Any]] = (), lead_intent: str | None = None
) -> list[tuple[str, str]]:
    """Facts the message clearly states, besides any answer.

    Args:
        text: The message.
        entities: Rasa's entities for it.
        lead_intent: The prospect's goal so far.

    Returns:
        ``(topic, raw text)`` pairs, at most one per topic.
    """
    entities = tuple(entities)
    folded = fold(text)
    found: dict[str, str] = {}
    known = _place_in(text)
    if known is not None:
        found["location"] = known
    for place in _entity_values(entities, "location"):
        if clean_location(str(place["value"])) and not is_no_preference(str(place["value"])):
            found.setdefault("location", str(place["value"]))
    # A side budget needs money words ("$", "k", "mil", "thousand"): "3/2" tagged as an
    # amount in a bedrooms answer is no budget.
    budget = None
    match = _BUDGET.search(folded)
    if match and parse_budget(match.group(0), lead_intent) is not None:
        budget = match.group(0).strip()
    elif any(re.search(_MONEY, fold(str(e["value"]))) for e in _entity_values(entities, "amount")):
        budget = _budget_from_entities(text, entities, lead_intent)
    if budget is not None:
        found["budget"] = budget
    bedrooms = _BEDROOMS.search(folded)
    if bedrooms and parse_bedrooms(bedrooms.group(0)) is not None:
        found["bedrooms"] = bedrooms.group(0)
    timeline = _TIMELINE.search(folded)
    if timeline and parse_timeline(timeline.group(0)) is not None:
        found["timeline"] = timeline.group(0)
    # Financing words are read in the whole message ("pre-approved with Chase, VA loan").
    if _FINANCING.search(folded) and parse_financing(text) not in (None, "unknown"):
        found["financing"] = text
    return list(found.items())
