"""Timelines: days from ``today`` until the *start* of what the prospect means.

Conventions (today 2026-12-01): "asap"/"ya" 0; "tomorrow"/"mañana" 1; "this week" 3; "next
week"/"la semana que viene" 7; "this month"/"este mes" 15; "next month" 30; "in N days /
weeks / months / years" N, 7N, 30N, 365N ("a couple" 2, "a few" 3, "un mes y medio" 45); a
weekday the next such day (1-7, never 0); "end of the month" the last day of this month (30);
"end of the year" 30; a date with a day its next occurrence ("by February 1st" 62); a month
alone its 1st ("by June" 182); "next year" 31; seasons start on Mar 20, Jun 21, Sep 22,
Dec 21 ("next spring" 109); "soon" 30; "not sure" ``None``.

A money amount per month ("$2000 a month", "dos mil al mes") is a rent, not a timeline, and
is ignored here.
"""

from __future__ import annotations

import re
from datetime import date

from actions.normalise.dates import (
    calendar_date,
    last_day,
    month_start,
    next_occurrence,
    next_weekday,
    normalise_ordinals,
)
from actions.normalise.numbers import replace_number_words
from actions.normalise.text import fold, half_up

_ASAP = re.compile(
    r"\b(?:asap|a\.s\.a\.p|right away|right now|immediately|now|today|urgent(?:ly)?|"
    r"as soon as possible|ya|ahora|hoy|ahorita|cuanto antes|lo antes posible|lo mas pronto|"
    r"de inmediato|inmediato|urgente|ya mismo|yesterday|this instant)\b"
)
# "Not now" is the opposite of "now": drop these before looking for ASAP words.
_NOT_NOW = re.compile(
    r"\b(?:not (?:right )?now|not today|not yet|not anytime soon|not soon|ahora no|"
    r"no ahora|hoy no|no por ahora|por ahora no|todavia no|aun no)\b"
)
_MORNING = re.compile(r"\b(?:por|en|de) la manana\b")  # "el viernes por la mañana"
_UNIT = r"(?:days?|dias?|weeks?|wks?|semanas?|months?|mos?|mes(?:es)?|years?|yrs?|anos?)"
_DURATION = re.compile(
    rf"(?P<num>\d+(?:[.,]5)?)\s*(?:-|to|a|o|or)?\s*(?:\d+\s*)?(?P<unit>{_UNIT})\b"
)
# An amount of money per month: a number with $, k, mil, thousand, hundred, or of 100 and
# more, followed by "a month" / "al mes" / "monthly" / "mensual".
_MONEY_PER_MONTH = re.compile(
    r"(?:\$\s*\d[\d.,]*(?:\s*(?:k|mil|thousand|grand|hundred)\b)?"
    r"|\b\d[\d.,]*\s*(?:k|mil|thousand|grand|hundred)\b"
    r"|\b\d{3,}(?:[.,]\d+)*\b|\b\d{1,3}(?:[.,]\d{3})+\b)"
    r"\s*(?:dollars?|dolares|bucks|usd)?\s*"
    r"(?:(?:a|al|per|por|each|every|cada|x|/)\s*(?:month|mes|mo)\b|monthly\b|"
    r"mensual(?:es|mente)?\b)"
)
_SEASONS = {  # northern-hemisphere start (month, day)
    "spring": (3, 20), "primavera": (3, 20),
    "summer": (6, 21), "verano": (6, 21),
    "fall": (9, 22), "autumn": (9, 22), "otono": (9, 22),
    "winter": (12, 21), "invierno": (12, 21),
}  # fmt: skip
_NEXT = r"(?:next|this coming|coming|upcoming|proxim[oa]|que viene|entrante|siguiente)"
_NEXT_MONTH = (
    rf"(?:{_NEXT} month|(?:el )?mes que viene|(?:el )?(?:proximo|siguiente) mes|mes entrante)"
)
_NEXT_YEAR = (
    rf"(?:{_NEXT} year|(?:el )?ano que viene|(?:el )?(?:proximo|siguiente) ano|ano entrante)"
)
_END_OF_NEXT_MONTH = re.compile(
    rf"\b(?:end of {_NEXT_MONTH}|fin(?:al|ales|es)? del? {_NEXT_MONTH})\b"
)
_END_OF_MONTH = re.compile(
    r"\b(?:end of (?:the |this )?month|month end|fin(?:al|ales|es)? del? (?:este )?mes)\b"
)
_END_OF_NEXT_YEAR = re.compile(rf"\b(?:end of {_NEXT_YEAR}|fin(?:al|ales|es)? del? {_NEXT_YEAR})\b")
_END_OF_YEAR = re.compile(
    r"\b(?:end of (?:the |this )?year|year end|fin(?:al|ales|es)? del? (?:este )?ano)\b"
)
_NEW_YEAR = re.compile(
    r"\b(?:after (?:the )?new years?|after the holidays|despues de(?:l)? ano nuevo|"
    r"pasado (?:el )?ano nuevo|pasando (?:el )?ano nuevo)\b"
)
# Fixed counts of the conventions, checked in this order ("next week" before "week").
# ``None`` stands for "the coming weekend", which depends on today's weekday.
_RELATIVE: list[tuple[re.Pattern[str], int | None]] = [
    (re.compile(r"\b(?:weekend|fin de semana|finde)\b"), None),
    (re.compile(rf"\b(?:{_NEXT} week|(?:la )?semana (?:que viene|proxima|entrante)|"
                r"(?:la )?proxima semana|la otra semana)\b"), 7),
    (re.compile(r"\b(?:this week|esta semana|later this week|within the week)\b"), 3),
    (re.compile(rf"\b{_NEXT_MONTH}\b"), 30),
    (re.compile(r"\b(?:this month|este mes|later this month|within the month)\b"), 15),
]  # fmt: skip


def _strip_money(text: str) -> str:
    return _MONEY_PER_MONTH.sub(" ", text)


def _prepare(text: str) -> str:
    """Fold, and write every count as digits so one duration pattern reads them all."""
    folded = _NOT_NOW.sub(" ", _MORNING.sub(" ", fold(text)))
    folded = normalise_ordinals(folded)
    folded = re.sub(r"\b(?:un par de|a couple of|a couple|couple of)\b", "2", folded)
    folded = re.sub(
        rf"\b(?:a few|few|unos|unas|algunos|algunas|several|varios|varias)\b(?=\s+{_UNIT}\b)",
        "3",
        folded,
    )
    folded = re.sub(r"\b(?:half a year|a half year|medio ano)\b", "6 months", folded)
    folded = re.sub(r"\b(?:half a month|medio mes)\b", "15 days", folded)
    folded = _strip_money(replace_number_words(folded))
    folded = re.sub(rf"\b(?:a|an|one|un|una)\s+(?={_UNIT}\b)", "1 ", folded)
    # "1 mes y medio", "1 month and a half", "1 and a half months", "mes y medio" -> 1.5.
    folded = re.sub(
        rf"\b(\d+) ({_UNIT}) (?:y medi[oa]|and a half)\b", lambda m: f"{m[1]}.5 {m[2]}", folded
    )
    folded = re.sub(rf"\b(\d+) and a half ({_UNIT})\b", r"\1.5 \2", folded)
    folded = re.sub(rf"(?<![\d.] )\b({_UNIT}) (?:y medi[oa]|and a half)\b", r"1.5 \1", folded)
    return re.sub(r"\s+", " ", folded).strip()


def _unit_days(unit: str) -> int:
    if unit.startswith(("mo", "mes")):
        return 30
    if unit.startswith("d"):
        return 1
    if unit.startswith(("w", "sem")):
        return 7
    return 365


def _season_days(today: date, season: str, force_next: bool) -> int:
    month, day = _SEASONS[season]
    start = date(today.year, month, day)
    # The season that started most recently, so "this spring" in April is now (0 days).
    previous_start = start if start <= today else date(today.year - 1, month, day)
    if (today - previous_start).days < 92 and not force_next:
        return 0
    target = start if start > today else date(today.year + 1, month, day)
    return (target - today).days


def _weekend(today: date) -> int:
    """Days to the coming Saturday; 0 during a weekend."""
    return 0 if today.weekday() >= 5 else 5 - today.weekday()


def parse_timeline(text: str, today: date | None = None, language: str | None = None) -> int | None:
    """Normalise a move/sale timeline to days from ``today`` (start of the period).

    Args:
        text: The user's words, e.g. "ASAP", "in 3 months", "en un mes y medio", "next
            spring", "by February 1st", "para el 20 de febrero", "el viernes", "a fin de mes".
        today: Reference date (injected by tests; defaults to the current date).
        language: "en" or "es"; only decides how "15/02" is read ("es": day first).
            Without it numeric dates are month first.

    Returns:
        Days (0 for now), or ``None`` when the text gives no usable timeline.
    """
    today = today or date.today()
    folded = _prepare(text)
    duration = _DURATION.search(folded)
    if duration:
        number = float(duration.group("num").replace(",", "."))
        return half_up(number * _unit_days(duration.group("unit")))
    found = _calendar_target(folded, today, language)
    if found is not None:
        return (found - today).days
    for pattern, days in _RELATIVE:
        if pattern.search(folded):
            return _weekend(today) if days is None else days
    if re.search(rf"\b{_NEXT_YEAR}\b", folded) or _NEW_YEAR.search(folded):
        return (date(today.year + 1, 1, 1) - today).days
    for season in _SEASONS:
        if re.search(rf"\b{season}\b", folded):
            force_next = bool(re.search(rf"\b{_NEXT}\b", folded))
            return _season_days(today, season, force_next)
    if re.search(r"\b(?:tomorrow|tmrw|tmr|manana|pasado manana)\b", folded):
        return 2 if "pasado manana" in folded else 1
    if _ASAP.search(folded):
        return 0
    if re.search(r"\b(?:soon|pronto|en breve|shortly)\b", folded):
        return 30
    return None


def _calendar_target(folded: str, today: date, language: str | None) -> date | None:
    """The date meant by an end-of-period phrase, a date, a month or a weekday, if any."""
    if _END_OF_NEXT_MONTH.search(folded):
        first_of_next = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        return last_day(first_of_next.year, first_of_next.month)
    if _END_OF_MONTH.search(folded):
        return last_day(today.year, today.month)
    if _END_OF_NEXT_YEAR.search(folded):
        return date(today.year + 1, 12, 31)
    if _END_OF_YEAR.search(folded):
        return next_occurrence(today, 12, 31)
    return (
        calendar_date(folded, today, language)
        or month_start(folded, today)
        or next_weekday(folded, today)
    )
