"""Budgets and expected prices, in whole dollars.

``(budget_min, budget_max)``: one amount gives ``min == max``; "under 400k" / "hasta 400 mil"
gives ``(None, 400000)``; "at least 300k" / "desde 300 mil" gives ``(300000, None)``; a range
gives both ends. For sales and purchases a bare number below 10 is read as millions ("1.2" ->
1,200,000) and a bare number below 10,000 as thousands ("400" -> 400,000). Rents are monthly:
a per-month amount ("$2,500/mo", "dos mil al mes") is taken as written.
"""

from __future__ import annotations

import re

from actions.normalise.numbers import parse_number, replace_number_words
from actions.normalise.text import fold

BudgetRange = tuple[int | None, int | None]

_MAX_WORDS = (
    r"under|below|less than|no more than|not more than|nothing over|not over|max(?:imum)?|"
    r"up to|upto|at most|at the most|tops|top|ceiling of|hasta|menos de|maximo(?: de)?|"
    r"como maximo|como mucho|a lo mucho|no mas de|nada mas de|a lo sumo|por debajo de|"
    r"debajo de|tope(?: de)?|limite(?: de)?|no pasar de"
)
_MIN_WORDS = (
    r"over|above|more than|at least|no less than|min(?:imum)?|starting at|starting from|from|"
    r"mas de|minimo(?: de)?|al menos|por lo menos|desde|a partir de|arriba de|encima de|"
    r"por encima de|como minimo"
)
# The same ideas written after the amount: "400k max", "300 mil o más", "350k+".
_MAX_AFTER = re.compile(
    r"^\s*(?:max(?:imum)?|tops|at most|or less|or under|o menos|como maximo|como mucho|"
    r"maximo|a lo sumo|tope)\b"
)
_MIN_AFTER = re.compile(
    r"^\s*(?:\+|or more|or higher|and up|and above|o mas|para arriba|min(?:imum)?|"
    r"como minimo|minimo)"
)
_AMOUNT = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*|(?<!\d)[.,]\d+)\s*(?P<unit>k\b|mil\b|thousand\b|grand\b|m\b|mm\b|"
    r"mill?\b|millon(?:es)?\b|millions?\b)?"
)
_RANGE_SEP = re.compile(r"\s*(?:-|–|to|a|y|and|or|o|hasta|up to)\s*")
# Numbers that count something else: "a 3 bed under 400k", "2 baños", "in 6 months".
_NOT_AN_AMOUNT = re.compile(
    r"(?<![\d.,])\d{1,2}\s*(?:br|bd|beds?|bedrooms?|bath(?:room)?s?|ba|hab\w*|cuartos?|"
    r"recamaras?|dormitorios?|banos?|rooms?|kids|hijos|people|personas|years?|anos|months?|"
    r"meses|weeks?|semanas?|days?|dias)\b|(?<![\d.,])\d{1,2}\s*%"
)
# A monthly figure: "$2,500/mo", "1800 monthly", "dos mil al mes". "a month" counts only
# after an amount, so "closing in a month" does not turn a price into a rent.
_MONTHLY_AFTER_AMOUNT = re.compile(
    r"(?:(?<=\d)|(?<=\dk)|(?<=mil)|(?<=thousand)|(?<=grand))"
    r"\s*(?:a|per|each|every|al|por|cada|x|/)\s*(?:mo|mth|month|mes)\b\.?"
)
_MONTHLY_ANYWHERE = re.compile(r"/\s*(?:mo|mth|month|mes)\b|\bmonthly\b|\bmensual(?:es|mente)?\b")


def _unit_factor(unit: str | None) -> int:
    if not unit:
        return 1
    if unit in ("k", "mil", "thousand", "grand"):
        return 1_000
    return 1_000_000


def _scale_bare(value: float, lead_intent: str | None) -> float:
    """Scale a number written without a unit, by what is plausible for the lead's goal."""
    if lead_intent == "rent":
        # Nobody rents for $3 a month: "2.5" from a renter is 2,500.
        return value * 1_000 if value < 10 else value
    if value < 10:
        return value * 1_000_000
    if value < 10_000:
        return value * 1_000
    return value


def _words_to_digits(text: str) -> str:
    """Rewrite amounts in words into digits, keeping the magnitude word ("350 mil")."""
    # "two and a half million": glue the half to the number so the scale word stays a unit.
    text = re.sub(r"\s+and a half\s+(?=(?:millions?|thousand)\b)", ".5 ", text)
    text = re.sub(r"\bmedio millon\b", "500 mil", text)
    text = re.sub(r"\b(?:a )?half (?:a )?million\b", "500k", text)
    text = replace_number_words(text, keep_scale=True)
    # "1 millon y medio", "2 million and a half", "1 point 5 million".
    text = re.sub(
        r"\b(\d+) (millon(?:es)?|millions?|mil|thousand|k|m) (?:y medio|and a half)\b",
        r"\1.5 \2",
        text,
    )
    text = re.sub(r"(?<![\d.,])(\d+) (?:point|punto|coma) (\d+)(?![\d.,])", r"\1.\2", text)
    # "1 millon 200 mil": a million part followed by a thousands part is one amount.
    return re.sub(
        r"\b(\d+) (?:millon(?:es)?|millions?|m) (?:y |and )?(\d{1,3}) (?:mil|thousand|k)\b",
        lambda m: f"{int(m.group(1)) * 1000 + int(m.group(2))} mil",
        text,
    )


def _prepare(text: str, lead_intent: str | None) -> tuple[str, str | None]:
    folded = _words_to_digits(fold(text))
    folded = re.sub(r"\$|\busd\b|\bdolares\b|\bdollars?\b|\bbucks\b", " ", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    if _MONTHLY_AFTER_AMOUNT.search(folded) or _MONTHLY_ANYWHERE.search(folded):
        # A monthly figure is a rent: never scale it up.
        lead_intent = "rent"
        folded = _MONTHLY_ANYWHERE.sub(" ", _MONTHLY_AFTER_AMOUNT.sub(" ", folded))
    folded = _NOT_AN_AMOUNT.sub(" ", folded)
    return re.sub(r"\s+", " ", folded).strip(), lead_intent


def _range(
    values: list[float], units: list[str | None], lead_intent: str | None
) -> tuple[int, int]:
    """Both ends of "300 to 350k": a unit written once applies to the number without one."""
    first, second = values
    first_unit, second_unit = units

    def amount(value: float, unit: str | None) -> float:
        return value * _unit_factor(unit) if unit else _scale_bare(value, lead_intent)

    low = amount(first, first_unit)
    high = amount(second, second_unit)
    if first_unit is None and second_unit is not None:
        # "between 300 and 350 thousand": the second number's magnitude applies to the
        # first, unless that makes it the larger one ("900 to 1.2 million").
        shared = first * _unit_factor(second_unit)
        low = shared if shared <= high else low
    elif second_unit is None and first_unit is not None and second < low:
        # "300k to 350": the second number is short for 350k. "mil y 1500" is not.
        shared = second * _unit_factor(first_unit)
        high = shared if shared >= low else high
    low, high = sorted((low, high))
    return round(low), round(high)


def parse_budget(text: str, lead_intent: str | None = None) -> BudgetRange | None:
    """Normalise a budget or expected price to whole dollars.

    Args:
        text: The user's words, e.g. "400k", "$1.2M", "entre 300 y 350 mil", "medio millón",
            "three hundred fifty thousand", "two thousand a month", "tope 300 mil".
        lead_intent: "buy", "sell", "rent" or ``None``; decides how bare numbers are scaled.

    Returns:
        ``(budget_min, budget_max)``, either side ``None`` when open-ended, or ``None`` when the
        text holds no amount.
    """
    folded, lead_intent = _prepare(text, lead_intent)
    matches = list(_AMOUNT.finditer(folded))
    if not matches:
        return None
    first = matches[0]
    if len(matches) >= 2:
        between = folded[first.end() : matches[1].start()]
        before = folded[: first.start()]
        if _RANGE_SEP.fullmatch(between) or re.search(r"\b(?:between|entre|de)\s*$", before):
            values = [parse_number(m.group("num")) for m in matches[:2]]
            return _range(values, [m.group("unit") for m in matches[:2]], lead_intent)
    value, unit = parse_number(first.group("num")), first.group("unit")
    amount = round(value * _unit_factor(unit) if unit else _scale_bare(value, lead_intent))
    before, after = folded[: first.start()], folded[first.end() :]
    if re.search(rf"\b(?:{_MAX_WORDS})\s*$", before) or _MAX_AFTER.search(after):
        return None, amount
    if re.search(rf"\b(?:{_MIN_WORDS})\s*$", before) or _MIN_AFTER.search(after):
        return amount, None
    return amount, amount


_QUALIFIER_AT_END = re.compile(
    rf"\b(?P<q>{_MAX_WORDS}|{_MIN_WORDS}|around|about|approx|unos|como)"
    r"\s*\$?\s*$"
)


def budget_with_context(amounts: list[str], preceding_text: str = "") -> str:
    """Rebuild a budget phrase from extracted ``amount`` entities and the words before them.

    The entity covers only the number ("400k"); the word before it decides whether it is a
    ceiling ("under 400k") or a floor ("desde 300 mil"). Two entities form a range.

    Args:
        amounts: Entity values in message order (one or two are used).
        preceding_text: The message text before the first entity.

    Returns:
        A phrase for ``parse_budget``, e.g. "under 400k" or "300 to 350 mil".
    """
    phrase = " to ".join(amounts[:2])
    if len(amounts) == 1:
        match = _QUALIFIER_AT_END.search(fold(preceding_text))
        if match:
            phrase = f"{match.group('q')} {phrase}"
    return phrase
