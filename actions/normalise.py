"""Deterministic normalisation of free-form qualification answers (English and Spanish).

Everything here is pure: strings in, plain values out. The Rasa actions call these functions
and put the results in the handoff payload, so the gateway always receives numbers in dollars
and timelines in days.

Conventions (also in the README):

* Budgets: ``(budget_min, budget_max)`` in whole dollars. A single amount gives ``min == max``;
  "under 400k" / "hasta 400 mil" gives ``(None, 400000)``; "at least 300k" / "desde 300 mil"
  gives ``(300000, None)``. For sales and purchases a bare number below 10 is read as millions
  ("1.2" -> 1,200,000) and a bare number below 10,000 as thousands ("400" -> 400,000); rents
  are monthly and taken as written ("1800" -> 1,800).
* Timelines: days from ``today`` until the *start* of the period. "ASAP" / "ya" is 0, "in 3
  months" is 90, "next spring" is the days until the next 20 March. Unknown ("not sure",
  "just looking") is ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

BudgetRange = tuple[int | None, int | None]

# --- shared helpers -------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case and strip accents so "millón", "MILLON" and "millon" compare equal.

    Args:
        text: Any user text.

    Returns:
        The folded text with single spaces.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain.lower()).strip()


_UNITS = {
    "zero": 0, "cero": 0,
    "one": 1, "a": 1, "an": 1, "un": 1, "uno": 1, "una": 1,
    "two": 2, "dos": 2, "couple": 2, "par": 2,
    "three": 3, "tres": 3, "four": 4, "cuatro": 4, "five": 5, "cinco": 5,
    "six": 6, "seis": 6, "seven": 7, "siete": 7, "eight": 8, "ocho": 8,
    "nine": 9, "nueve": 9, "ten": 10, "diez": 10, "eleven": 11, "once": 11,
    "twelve": 12, "doce": 12, "fifteen": 15, "quince": 15,
    "twenty": 20, "veinte": 20, "thirty": 30, "treinta": 30, "forty": 40, "cuarenta": 40,
    "fifty": 50, "cincuenta": 50, "sixty": 60, "sesenta": 60, "seventy": 70, "setenta": 70,
    "eighty": 80, "ochenta": 80, "ninety": 90, "noventa": 90,
}  # fmt: skip
_HUNDREDS = {
    "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300, "cuatrocientos": 400,
    "quinientos": 500, "seiscientos": 600, "setecientos": 700, "ochocientos": 800,
    "novecientos": 900,
}  # fmt: skip
_NUMBER_WORD = re.compile(
    r"\b(?:"
    + "|".join(sorted([*_UNITS, *_HUNDREDS, "hundred", "y", "and"], key=len)[::-1])
    + r")(?:\s+(?:"
    + "|".join(sorted([*_UNITS, *_HUNDREDS, "hundred", "y", "and"], key=len)[::-1])
    + r"))*\b"
)


def words_to_number(words: str) -> int | None:
    """Convert a short English or Spanish number phrase ("three hundred fifty", "trescientos
    cincuenta", "tres") to an integer.

    Args:
        words: Folded text containing only number words.

    Returns:
        The value, or ``None`` when a word is not a number word.
    """
    total = 0
    seen = False
    for word in words.split():
        if word in ("y", "and"):
            continue
        if word in _HUNDREDS:
            total += _HUNDREDS[word]
        elif word == "hundred":
            total = (total or 1) * 100
        elif word in _UNITS:
            total += _UNITS[word]
        else:
            return None
        seen = True
    return total if seen else None


def _replace_number_words(text: str) -> str:
    """Replace runs of number words by digits ("tres meses" -> "3 meses")."""

    def sub(match: re.Match[str]) -> str:
        phrase = match.group(0)
        if phrase in ("y", "and", "a", "an", "un", "una"):
            # Alone these are conjunctions/articles, except where a unit follows (handled by
            # the callers' own patterns such as "a month", "un mes").
            return phrase
        value = words_to_number(phrase)
        return str(value) if value is not None else phrase

    return _NUMBER_WORD.sub(sub, text)


# --- budget -----------------------------------------------------------------------------------

_MAX_WORDS = (
    r"under|below|less than|no more than|not more than|max(?:imum)?|up to|upto|at most|tops|"
    r"hasta|menos de|maximo|como maximo|no mas de|a lo sumo|por debajo de|debajo de"
)
_MIN_WORDS = (
    r"over|above|more than|at least|min(?:imum)?|starting at|from|"
    r"mas de|minimo|al menos|por lo menos|desde|arriba de|encima de"
)
_AMOUNT = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*|(?<!\d)[.,]\d+)\s*(?P<unit>k\b|mil\b|thousand\b|grand\b|m\b|mm\b|mill?\b|"
    r"millon(?:es)?\b|millions?\b)?"
)
_RANGE_SEP = re.compile(r"\s*(?:-|–|to|a|y|and|or|o)\s*")


def _parse_number(raw: str) -> float:
    """Parse "350,000", "1.2", "1,5" or "350.000" (Spanish thousands) into a float."""
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return float(re.sub(r"[.,]", "", raw))
    return float(raw.replace(",", "."))


def _unit_factor(unit: str | None) -> int:
    if not unit:
        return 1
    if unit in ("k", "mil", "thousand", "grand"):
        return 1_000
    return 1_000_000


def _scale_bare(value: float, lead_intent: str | None) -> float:
    """Scale a number written without a unit, by what is plausible for the lead's goal."""
    if lead_intent == "rent":
        return value
    if value < 10:
        return value * 1_000_000
    if value < 10_000:
        return value * 1_000
    return value


def _words_amounts(text: str) -> str:
    """Rewrite Spanish/English amount phrases without digits into digit form."""
    text = re.sub(r"\bmedio millon\b", "500 mil", text)
    text = re.sub(r"\bhalf a million\b", "500k", text)
    text = re.sub(
        r"\b(?:un )?millon y medio\b|\ba million and a half\b|\bone and a half million\b",
        "1.5m",
        text,
    )
    text = re.sub(r"\b(?:un|one|a) (millon|million)\b", r"1 \1", text)
    return _replace_number_words(text)


def parse_budget(text: str, lead_intent: str | None = None) -> BudgetRange | None:
    """Normalise a budget or expected price to whole dollars.

    Args:
        text: The user's words, e.g. "400k", "$1.2M", "entre 300 y 350 mil", "medio millón".
        lead_intent: "buy", "sell", "rent" or ``None``; decides how bare numbers are scaled.

    Returns:
        ``(budget_min, budget_max)``, either side ``None`` when open-ended, or ``None`` when the
        text holds no amount.
    """
    folded = _words_amounts(fold(text))
    folded = folded.replace("$", " ").replace("usd", " ").replace("dolares", " ")
    monthly = re.compile(
        r"(?<=\d)\s*(?:/\s*mo(?:nth)?|al mes|por mes|a month|per month|mensuales)\b"
    )
    if monthly.search(folded):
        # A monthly figure is a rent: never scale it up.
        lead_intent = "rent"
        folded = monthly.sub("", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    matches = list(_AMOUNT.finditer(folded))
    if not matches:
        return None
    first = matches[0]
    values: list[float] = []
    units: list[str | None] = []
    for match in matches[:2]:
        values.append(_parse_number(match.group("num")))
        units.append(match.group("unit"))
    is_range = False
    if len(matches) >= 2:
        between = folded[first.end() : matches[1].start()]
        is_range = bool(_RANGE_SEP.fullmatch(between)) or bool(
            re.search(r"\b(?:between|entre|de)\s*$", folded[: first.start()])
        )
    if is_range:
        # "300 to 350k" / "entre 300 y 350 mil": the unit of the second number applies to both.
        shared = units[1] or units[0]
        amounts = []
        for value, unit in zip(values, units, strict=False):
            unit = unit or shared
            amounts.append(value * _unit_factor(unit) if unit else _scale_bare(value, lead_intent))
        low, high = sorted(amounts)
        return round(low), round(high)
    value, unit = values[0], units[0]
    amount = round(value * _unit_factor(unit) if unit else _scale_bare(value, lead_intent))
    before = folded[: first.start()]
    if re.search(rf"\b(?:{_MAX_WORDS})\s*$", before):
        return None, amount
    if re.search(rf"\b(?:{_MIN_WORDS})\s*$", before) or re.search(r"^\s*\+", folded[first.end() :]):
        return amount, None
    return amount, amount


# --- timeline ---------------------------------------------------------------------------------

_ASAP = re.compile(
    r"\b(?:asap|a\.s\.a\.p|right away|right now|immediately|now|today|urgent(?:ly)?|"
    r"as soon as possible|ya|ahora|hoy|ahorita|cuanto antes|lo antes posible|lo mas pronto|"
    r"de inmediato|inmediato|urgente|ya mismo|yesterday)\b"
)
_UNKNOWN = re.compile(
    r"\b(?:not sure|no idea|dunno|idk|don'?t know|unsure|no rush|just looking|just browsing|"
    r"no se|ni idea|no estoy segur[oa]|sin prisa|solo mirando|solo viendo|no hay prisa|"
    r"todavia no se|quien sabe)\b"
)
_DURATION = re.compile(
    r"(?P<num>\d+(?:[.,]5)?)\s*(?:-|to|a|o|or)?\s*(?:\d+\s*)?"
    r"(?P<unit>days?|dias?|weeks?|wks?|semanas?|months?|mos?|mes(?:es)?|years?|yrs?|anos?)\b"
)
_UNIT_DAYS = {"d": 1, "w": 7, "s": 7, "m": 30, "y": 365, "a": 365}
_SEASONS = {  # northern-hemisphere start (month, day)
    "spring": (3, 20), "primavera": (3, 20),
    "summer": (6, 21), "verano": (6, 21),
    "fall": (9, 22), "autumn": (9, 22), "otono": (9, 22),
    "winter": (12, 21), "invierno": (12, 21),
}  # fmt: skip
_MONTHS = {
    "january": 1, "jan": 1, "enero": 1, "february": 2, "feb": 2, "febrero": 2,
    "march": 3, "mar": 3, "marzo": 3, "april": 4, "apr": 4, "abril": 4, "may": 5, "mayo": 5,
    "june": 6, "jun": 6, "junio": 6, "july": 7, "jul": 7, "julio": 7,
    "august": 8, "aug": 8, "agosto": 8, "september": 9, "sept": 9, "sep": 9,
    "septiembre": 9, "setiembre": 9, "october": 10, "oct": 10, "octubre": 10,
    "november": 11, "nov": 11, "noviembre": 11, "december": 12, "dec": 12, "diciembre": 12,
}  # fmt: skip
_NEXT = r"(?:next|this coming|coming|upcoming|proxim[oa]|que viene|entrante|siguiente)"


def _unit_days(unit: str) -> int:
    if unit.startswith(("mo", "mes")):
        return 30
    if unit.startswith(("d",)):
        return 1
    if unit.startswith(("w", "sem")):
        return 7
    return 365


def _days_until(today: date, month: int, day: int, skip_current_year: bool = False) -> int:
    target = date(today.year, month, day)
    if target < today or (skip_current_year and target <= today):
        target = date(today.year + 1, month, day)
    return (target - today).days


def _season_days(today: date, season: str, force_next: bool) -> int:
    month, day = _SEASONS[season]
    start = date(today.year, month, day)
    # The season that started most recently, so "this spring" in April is now (0 days).
    if start > today:
        previous_start = date(today.year - 1, month, day)
    else:
        previous_start = start
    in_season = (today - previous_start).days < 92
    if in_season and not force_next:
        return 0
    return _days_until(today, month, day, skip_current_year=True)


def parse_timeline(text: str, today: date | None = None) -> int | None:
    """Normalise a move/sale timeline to days from ``today`` (start of the period).

    Args:
        text: The user's words, e.g. "ASAP", "in 3 months", "en 2 meses", "next spring",
            "la próxima primavera", "by June", "end of the year".
        today: Reference date (injected by tests; defaults to the current date).

    Returns:
        Days (0 for now), or ``None`` when the text gives no usable timeline.
    """
    today = today or date.today()
    folded = fold(text)
    folded = re.sub(r"\b(?:un par de|a couple of|a couple|couple of)\b", "2", folded)
    folded = re.sub(
        r"\b(?:a few|few|unos|unas|algunos|several|varios)\b(?=\s+(?:month|mes|week|"
        r"semana|year|ano|day|dia))",
        "3",
        folded,
    )
    folded = re.sub(r"\b(?:half a year|medio ano|6 months)\b", "6 months", folded)
    folded = re.sub(
        r"\b(?:a|an|one|un|una)\s+(?=(?:month|mes|week|semana|year|ano|day|dia)s?\b)", "1 ", folded
    )
    folded = _replace_number_words(folded)
    duration = _DURATION.search(folded)
    if duration:
        number = float(duration.group("num").replace(",", "."))
        return round(number * _unit_days(duration.group("unit")))
    if re.search(rf"\b(?:{_NEXT}\s+week|la semana que viene|semana que viene)\b", folded):
        return 7
    if re.search(r"\b(?:this week|esta semana)\b", folded):
        return 3
    if re.search(rf"\b(?:{_NEXT}\s+month|(?:el )?mes que viene|(?:el )?proximo mes)\b", folded):
        return 30
    if re.search(r"\b(?:this month|este mes)\b", folded):
        return 15
    if re.search(
        r"\b(?:end of (?:the )?year|year end|fin(?:al)? de(?:l)? ano|finales de ano)\b", folded
    ):
        return _days_until(today, 12, 31)
    if re.search(rf"\b(?:{_NEXT}\s+year|(?:el )?ano que viene|(?:el )?proximo ano)\b", folded):
        return _days_until(today, 1, 1, skip_current_year=True)
    for season in _SEASONS:
        if re.search(rf"\b{season}\b", folded):
            force_next = bool(re.search(rf"\b{_NEXT}\b", folded))
            return _season_days(today, season, force_next)
    for name, month in _MONTHS.items():
        if re.search(rf"\b{name}\b", folded) and not (name == "may" and "may be" in folded):
            return _days_until(today, month, 1)
    if re.search(r"\b(?:tomorrow|tmrw|tmr|manana|pasado manana)\b", folded):
        return 2 if "pasado" in folded else 1
    if re.search(r"\b(?:this weekend|el fin de semana|este fin de semana|este finde)\b", folded):
        return 5
    if _ASAP.search(folded):
        return 0
    if re.search(r"\b(?:soon|pronto|en breve|shortly)\b", folded):
        return 30
    return None


def is_unknown_answer(text: str) -> bool:
    """Tell whether the user says they do not know ("not sure", "no sé", "idk").

    Args:
        text: The user's words.

    Returns:
        True for an explicit "don't know" answer.
    """
    return bool(_UNKNOWN.search(fold(text)))


# --- financing --------------------------------------------------------------------------------

_NEEDS_LENDER = re.compile(
    r"\b(?:need|needs|looking for|want|would like|help (?:with|finding)|find) (?:a |an |some )?"
    r"(?:lender|loan|mortgage|financing|finance|bank|broker)|not (?:yet )?(?:pre ?-?approved|"
    r"approved)|no (?:pre ?-?approval|loan|lender|mortgage)|not yet|nope not|haven'?t|"
    r"necesito|busco (?:un )?(?:prestamo|credito|financiamiento|banco|hipoteca)|"
    r"no (?:estoy|tengo|he)|todavia no|aun no|sin (?:pre ?-?aprobacion|credito)|"
    r"ayuda con (?:el )?(?:credito|financiamiento|prestamo)|get (?:pre ?-?)?approved|"
    r"prestamista|need help"
)
_PREAPPROVED = re.compile(
    r"\b(?:pre ?-?approved|preapproval|pre ?-?qualified|prequalified|approved|pre ?-?aprobad[oa]|"
    r"preaprobad[oa]|pre ?-?calificad[oa]|aprobad[oa]|have (?:a |my )?(?:loan|mortgage|"
    r"financing)|tengo (?:el |un |mi )?(?:credito|prestamo|hipoteca|financiamiento)|"
    r"carta de (?:pre)?aprobacion|pre ?approval letter|va loan|fha)\b"
)
_CASH = re.compile(r"\b(?:cash|efectivo|contado|all cash|cash buyer|sin financiamiento)\b")


def parse_financing(text: str) -> str | None:
    """Classify how a buyer will pay.

    Args:
        text: The user's words, e.g. "pre-approved", "cash", "necesito un préstamo".

    Returns:
        "preapproved", "cash", "needs_lender", "unknown" (the user does not know), or ``None``
        when the text says nothing about financing.
    """
    folded = fold(text)
    if _NEEDS_LENDER.search(folded):
        return "needs_lender"
    if _CASH.search(folded):
        return "cash"
    if _PREAPPROVED.search(folded):
        return "preapproved"
    if is_unknown_answer(folded):
        return "unknown"
    return None


# --- bedrooms ---------------------------------------------------------------------------------

_STUDIO = re.compile(r"\b(?:studio|estudio|monoambiente|efficiency|eficiencia)\b")


def parse_bedrooms(text: str) -> int | None:
    """Extract a bedroom count ("3 bed", "3br", "tres recámaras", "studio" = 0).

    Args:
        text: The user's words.

    Returns:
        The smallest number of bedrooms mentioned, or ``None``.
    """
    folded = fold(text)
    if _STUDIO.search(folded):
        return 0
    folded = _replace_number_words(folded)
    with_unit = re.search(
        r"(?<![\d.,$])(\d{1,2})\s*-?\s*(?:\+\s*)?(?:br|bd|bdr|bed|beds|bedrooms?|rooms?|habitacion(?:es)?|"
        r"hab|cuartos?|recamaras?|dormitorios?|alcobas?|piezas?)\b",
        folded,
    )
    if with_unit:
        return int(with_unit.group(1))
    numbers = [int(n) for n in re.findall(r"(?<![\d.,$])(\d{1,2})(?![\d.,]?\d|k\b)", folded)]
    numbers = [n for n in numbers if n <= 20]
    return min(numbers) if numbers else None


# --- location and name ------------------------------------------------------------------------

_FILLER_WORDS = {
    "yes", "no", "ok", "okay", "si", "sure", "claro", "hi", "hello", "hola", "thanks", "thx",
    "gracias", "bye", "adios", "idk", "nope", "yep", "yeah", "k", "kk", "nah", "hmm", "what",
    "que", "lol", "help", "ayuda", "stop", "buy", "sell", "rent", "comprar", "vender",
    "rentar", "alquilar", "anywhere", "cualquiera", "bot", "agent", "agente",
}  # fmt: skip
_LOCATION_PREFIX = re.compile(
    r"^(?:(?:i'?m |we'?re |i am |we are )?(?:looking |searching |interested )?(?:to buy |to rent )?"
    r"(?:in|at|near|around|by|close to|the)\s+|(?:estoy |estamos )?(?:buscando )?"
    r"(?:en|por|cerca de|la zona de|zona de|el area de|area de|la|el)\s+)+"
)
_LOCATION_SUFFIX = re.compile(
    r"(?:\s+(?:area|please|pls|plz|porfa|por favor|thx|thanks|gracias|zone|zona|preferably|"
    r"if possible|si se puede))+$"
)


def clean_location(text: str) -> str | None:
    """Turn a free-text area answer ("in coral gables pls") into a place ("Coral Gables").

    Args:
        text: The user's words or an extracted ``location`` entity.

    Returns:
        The cleaned place name, or ``None`` when nothing usable remains.
    """
    value = re.sub(r"[!?.¡¿,;:]+$", "", text.strip())
    value = re.sub(r"^[¡¿]+", "", value).strip()
    lowered = value.lower()
    match = _LOCATION_PREFIX.match(lowered)
    if match:
        value = value[match.end() :]
    match = _LOCATION_SUFFIX.search(value.lower())
    if match:
        value = value[: match.start()]
    value = value.strip(" ,.")
    if not value or fold(value) in _FILLER_WORDS or len(value) > 60 or value.isdigit():
        return None
    return value.title() if value == value.lower() else value


_NAME_PREFIX = re.compile(
    r"^(?:(?:hi|hello|hey|hola|ok|okay|sure|claro|si|yes)[,!. ]+)?"
    r"(?:my name is|my name'?s|name'?s|i'?m|i am|it'?s|this is|call me|"
    r"me llamo|mi nombre es|soy|me dicen|es)\s+"
)


def clean_name(text: str) -> str | None:
    """Turn a free-text name answer ("me llamo ana lopez") into a display name ("Ana Lopez").

    Args:
        text: The user's answer to "what's your name?".

    Returns:
        At most three title-cased words, or ``None`` when the text does not look like a name.
    """
    value = text.strip().strip("!?.¡¿,; ")
    match = _NAME_PREFIX.match(value.lower())
    if match:
        value = value[match.end() :]
    value = re.split(r"[,.;!?]| and | y | thanks| gracias| thx", value, maxsplit=1)[0].strip()
    words = value.split()
    if not words or len(words) > 3:
        return None
    if any(ch.isdigit() for ch in value) or fold(words[0]) in _FILLER_WORDS:
        return None
    return " ".join(w if not w.islower() else w.capitalize() for w in words)


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
