"""Calendar dates in timeline answers: "by February 1st", "el 20 de febrero", "2/15",
"mid-March", "para marzo", "el viernes".

Every function takes folded text (see ``text.fold``) with numbers already in digits, and the
reference date; each returns the date meant (its next occurrence) or ``None``.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from actions.normalise.text import alternation

MONTHS = {
    "january": 1, "jan": 1, "enero": 1, "february": 2, "feb": 2, "febrero": 2,
    "march": 3, "mar": 3, "marzo": 3, "april": 4, "apr": 4, "abril": 4, "may": 5, "mayo": 5,
    "june": 6, "jun": 6, "junio": 6, "july": 7, "jul": 7, "julio": 7,
    "august": 8, "aug": 8, "agosto": 8, "september": 9, "sept": 9, "sep": 9,
    "septiembre": 9, "setiembre": 9, "october": 10, "oct": 10, "octubre": 10,
    "november": 11, "nov": 11, "noviembre": 11, "december": 12, "dec": 12, "diciembre": 12,
    "dic": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "lunes": 0, "tuesday": 1, "tues": 1, "martes": 1, "wednesday": 2,
    "weds": 2, "miercoles": 2, "thursday": 3, "thurs": 3, "jueves": 3, "friday": 4, "fri": 4,
    "viernes": 4, "saturday": 5, "sabado": 5, "sunday": 6, "domingo": 6,
}  # fmt: skip
_MONTH = alternation(MONTHS)
# "may" is also a verb and "mar" the sea: as month names they need a day or a date word.
_AMBIGUOUS_MONTHS = ("may", "mar")
_DATE_CONTEXT = re.compile(
    r"\b(?:in|by|for|until|till|til|before|after|around|this|next|early|mid|late|of|"
    r"end of|start of|beginning of|middle of|en|para|de|hasta|antes de|despues de)\s*-?\s*$"
)
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_ORDINAL = re.compile(
    rf"\b(?:(?P<tens>twenty|thirty)[\s-]?)?(?P<unit>{alternation(_ORDINAL_WORDS)})\b"
)
_SUFFIX = r"(?:st|nd|rd|th|ro|er|o|°)?"
_YEAR = r"(?:\s*,?\s*(?:of |de |del )?(?P<year>20\d\d))?"
_DAY_MONTH = re.compile(
    rf"\b(?:the )?(?P<day>[0-3]?\d){_SUFFIX}\s*(?:of |de )?(?P<month>{_MONTH})\b\.?{_YEAR}"
)
_MONTH_DAY = re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?:the )?(?P<day>[0-3]?\d){_SUFFIX}\b{_YEAR}")
_NUMERIC = re.compile(
    r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?(?![\d/])"
)
_ISO = re.compile(r"\b(?P<year>20\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
# Part of a month: early 1st, mid 15th, late 25th; "end of" is the last day.
_PART_OF_MONTH = re.compile(
    r"\b(?P<part>early|beginning of|start of|mid|middle of|late|end of|principios de|"
    r"comienzos de|inicios de|mediados de|finales de|fines de|fin de|first week of|"
    r"1st week of|second week of|2nd week of|third week of|3rd week of|last week of|"
    r"primera semana de|segunda semana de|tercera semana de|ultima semana de)"
    rf"\s*-?\s*(?:the month of |el mes de )?(?P<month>{_MONTH})\b"
)
_PART_DAY = {
    "early": 1, "beginning of": 1, "start of": 1, "principios de": 1, "comienzos de": 1,
    "inicios de": 1, "first week of": 1, "1st week of": 1, "primera semana de": 1,
    "second week of": 8, "2nd week of": 8, "segunda semana de": 8, "mid": 15,
    "middle of": 15, "mediados de": 15, "third week of": 15, "3rd week of": 15,
    "tercera semana de": 15, "late": 25, "finales de": 25, "fines de": 25,
    "last week of": 25, "ultima semana de": 25,
}  # fmt: skip
_DAY_ALONE = re.compile(r"\b(?:the (?P<en>[0-3]?\d)(?:st|nd|rd|th)|el dia (?P<es>[0-3]?\d))\b")


def normalise_ordinals(text: str) -> str:
    """Write day ordinals as digits: "February first" -> "February 1st", "el primero de
    marzo" -> "el 1 de marzo".

    Args:
        text: Folded text.

    Returns:
        The text with ordinal day words as digits.
    """

    def sub(match: re.Match[str]) -> str:
        tens = {"twenty": 20, "thirty": 30}.get(match.group("tens") or "", 0)
        value = tens + _ORDINAL_WORDS[match.group("unit")]
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(value % 10 if value not in (11, 12, 13) else 0)
        return f"{value}{suffix or 'th'}"

    text = _ORDINAL.sub(sub, text)
    return re.sub(r"\bprimer(?:o)?\b(?=\s+de\s)", "1", text)


def next_occurrence(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """The first date on or after ``today`` with this month and day.

    Args:
        today: Reference date.
        month: 1-12.
        day: Day of the month.
        year: An explicit year; ignored when it would put the date in the past.

    Returns:
        The date, or ``None`` when no such day exists (31 April).
    """
    if year is not None:
        try:
            explicit = date(year, month, day)
        except ValueError:
            return None
        if explicit >= today:
            return explicit
    for candidate_year in range(today.year, today.year + 9):  # 9 years always holds a 29 Feb
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def last_day(year: int, month: int) -> date:
    """The last day of a month (28 February 2027, 31 December 2026)."""
    return date(year, month, calendar.monthrange(year, month)[1])


def _year(raw: str | None) -> int | None:
    if not raw:
        return None
    return int(raw) + 2000 if len(raw) == 2 else int(raw)


def _month_allowed(text: str, match: re.Match[str], has_day: bool) -> bool:
    name = match.group("month")
    if name not in _AMBIGUOUS_MONTHS or has_day or text.strip(" .!") == name:
        return True
    return bool(_DATE_CONTEXT.search(text[: match.start("month")]))


def calendar_date(text: str, today: date, language: str | None = None) -> date | None:
    """Find a date with a day in it: "Feb 1", "1st of February", "para el 20 de febrero",
    "2/15", "2027-02-15", "mid-March", "the 15th".

    Args:
        text: Folded text with ordinals and numbers as digits.
        today: Reference date.
        language: "es" reads "15/02" day first; otherwise numeric dates are month first.

    Returns:
        The next occurrence of that date, or ``None``.
    """
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            if _month_allowed(text, match, has_day=True):
                month, day = MONTHS[match.group("month")], int(match.group("day"))
                found = next_occurrence(today, month, day, _year(match.group("year")))
                if found:
                    return found
    iso = _ISO.search(text)
    if iso:
        return next_occurrence(today, int(iso["month"]), int(iso["day"]), int(iso["year"]))
    numeric = _NUMERIC.search(text)
    if numeric:
        first, second = int(numeric["a"]), int(numeric["b"])
        month, day = (second, first) if language == "es" else (first, second)
        if 1 <= month <= 12:
            return next_occurrence(today, month, day, _year(numeric["year"]))
    part = _PART_OF_MONTH.search(text)
    if part and _month_allowed(text, part, has_day=True):
        month = MONTHS[part["month"]]
        if part["part"] in ("end of", "fin de"):
            found = next_occurrence(today, month, 1)
            return last_day(found.year, month) if found else None
        return next_occurrence(today, month, _PART_DAY[part["part"]])
    alone = _DAY_ALONE.search(text)
    if alone:
        day = int(alone["en"] or alone["es"])
        if day < 1:
            return None
        first_of_month = today.replace(day=1)
        for offset in range(13):
            year = first_of_month.year + (first_of_month.month - 1 + offset) // 12
            month = (first_of_month.month - 1 + offset) % 12 + 1
            if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
                return date(year, month, day)
    return None


def month_start(text: str, today: date) -> date | None:
    """Find a month named alone ("by June", "para marzo", "March 2027"): its 1st.

    Args:
        text: Folded text.
        today: Reference date.

    Returns:
        The next 1st of that month (today when it is the 1st), or ``None``.
    """
    for match in re.finditer(rf"\b(?P<month>{_MONTH})\b\.?{_YEAR}", text):
        if _month_allowed(text, match, has_day=False):
            return next_occurrence(today, MONTHS[match["month"]], 1, _year(match["year"]))
    return None


def next_weekday(text: str, today: date) -> date | None:
    """Find a weekday ("on friday", "next monday", "el próximo lunes"): the next such day.

    "Next monday" and "monday" are the same day here, always 1 to 7 days ahead: a prospect
    who says "friday" on a Friday means the next one.

    Args:
        text: Folded text.
        today: Reference date.

    Returns:
        The date, or ``None`` when no weekday is named.
    """
    match = re.search(rf"\b(?:{alternation(WEEKDAYS)})\b", text)
    if not match:
        return None
    ahead = (WEEKDAYS[match.group(0)] - today.weekday() - 1) % 7 + 1
    return today + timedelta(days=ahead)
