"""Appointment times typed by an agent (`APPT <code> <when>`), and the prospect's reply (pure).

`parse_when` reads English and Spanish, relative to `now_local` (aware, in the lead's zone):

    tomorrow 5pm | tomorrow at 5:30 pm | today 17:00 | hoy a las 6pm | mañana a las 5
    mañana a las 5 de la tarde | sat 10am | el sábado a las 10 | next tuesday 3pm
    dec 5 2pm | 5 de diciembre a las 2 | 12/5 14:00 | 2026-12-05 14:00 | in 2 hours | en 2 horas

Decisions (tests pin each one):

* A time is required (except "in 2 hours"): "tomorrow" alone is None, never a made-up hour.
  A time alone ("5pm", "a las 5") is its next occurrence: today if still ahead, else tomorrow;
  a bare number needs a day beside it ("saturday 10" yes, "10" alone is None).
* An hour without am/pm: 1–7 is pm ("a las 5" → 17:00), 8–11 am, 12 noon, 0 and 13–23 as
  written; a zero-padded hour ("05:30") is a 24-hour clock. "de la mañana" / "in the morning"
  make it am, "de la tarde/noche" / "tonight" pm; a contradiction ("5pm de la mañana") is None.
* A bare weekday ("sat", "el sábado") is today when the time is still ahead, else next week.
  "next tuesday" / "el próximo martes" is the first such day strictly after today.
* Numeric dates are US month/day ("12/5" is December 5); one that can only be day/month
  ("25/12") is read so. A date without a year that has passed rolls to next year; today's date
  with a time already gone is None (a typo, not next year). A weekday that contradicts the
  date ("sat dec 6" when the 6th is a Sunday) is None.
* Past results and results more than one year ahead are None. Words left over that are not
  filler ("tomorrow 5pm or friday") make the whole text None: better to ask than to guess.
* Wall time is kept across DST; a time in the spring-forward gap moves forward one hour.

`parse_appointment_reply` puts reschedule before cancel before confirm ("I can't make it, can
we do 6?" is a reschedule). A bare "no" (or "nope") is None: it does not say whether to cancel
or move the showing, so it goes to the agent as text. Negated confirmations ("not sure",
"I can't confirm") are None.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

Reply = Literal["confirm", "reschedule", "cancel"]

_MONTHS: dict[str, int] = {
    **{m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                   "august", "september", "october", "november", "december"], 1)},
    **{m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                   "oct", "nov", "dec"], 1)},
    **{m: i for i, m in enumerate(["enero", "febrero", "marzo", "abril", "mayo", "junio",
                                   "julio", "agosto", "septiembre", "octubre", "noviembre",
                                   "diciembre"], 1)},
    "sept": 9, "setiembre": 9, "ene": 1, "abr": 4, "ago": 8, "dic": 12,
}
# "mar" is both March and martes: month patterns run first, so "mar 5" is March 5 and a
# lone "mar" ("mar 1 de dic", as format_when writes it) is Tuesday.
_WEEKDAYS: dict[str, int] = {
    **{d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"])},
    **{d: i for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{d: i for i, d in enumerate(["lunes", "martes", "miercoles", "jueves", "viernes", "sabado",
                                   "domingo"])},
    "tues": 1, "thur": 3, "thurs": 3,
    "lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6,
}
_NUMBER_WORDS: dict[str, str] = {
    w: str(i) for i, ws in enumerate(
        [(), ("one", "una", "uno"), ("two", "dos"), ("three", "tres"), ("four", "cuatro"),
         ("five", "cinco"), ("six", "seis"), ("seven", "siete"), ("eight", "ocho"),
         ("nine", "nueve"), ("ten", "diez"), ("eleven",), ("twelve", "doce")]) for w in ws
}
_FILLER = frozenset({"at", "on", "the", "a", "las", "la", "el", "de", "del", "this", "este",
                     "for", "para", "by", "around", "about", "al", "como", "ok"})


def _alt(words: dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_TIME = re.compile(
    r"(?<![\w/:-])(?:(?P<lead>at|a las|a la|las)\s+)?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2})|\s+y\s+(?P<frac>media|cuarto))?"
    r"(?:\s*(?P<mer>am|pm|hrs|hs|h)\b)?(?![\w/:-])"
)
_NOON = re.compile(r"\b(?:noon|midday|mediodia|medio dia)\b")
_QUALIFIERS: list[tuple[re.Pattern[str], str, bool]] = [
    # (pattern, am|pm, means today) — "esta mañana" before the date words see "mañana"
    (re.compile(r"\b(?:esta manana|this morning)\b"), "am", True),
    (re.compile(r"\b(?:tonight|esta (?:noche|tarde)|this (?:afternoon|evening))\b"), "pm", True),
    (re.compile(r"\b(?:de|por|en) la (?:manana|madrugada)\b"), "am", False),
    (re.compile(r"\b(?:de|por|en) la (?:tarde|noche)\b"), "pm", False),
    (re.compile(r"\b(?:in the )?morning\b"), "am", False),
    (re.compile(r"\b(?:in the )?(?:afternoon|evening)\b|\bat night\b|\b(?:tarde|noche)\b"),
     "pm", False),
]
_ISO = re.compile(r"(?<![\w-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w-])")
_SLASH = re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\w/])")
_ORD = r"(?:st|nd|rd|th)?"
_MONTH_DAY = re.compile(
    rf"\b({_alt(_MONTHS)})\s+(\d{{1,2}}){_ORD}(?:\s+(?:de\s+)?(\d{{4}}))?\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}}){_ORD}\s+(?:de\s+|of\s+)?({_alt(_MONTHS)})(?:\s+(?:de\s+)?(\d{{4}}))?\b")
_RELATIVE_DAYS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"\b(?:pasado manana|day after tomorrow)\b"), 2),
    (re.compile(r"\b(?:tomorrow|tomorow|tommorow|tmrw|tmr|manana)\b"), 1),
    (re.compile(r"\b(?:today|hoy)\b"), 0),
]
_IN_DAYS = re.compile(r"\b(?:in|en|dentro de)\s+(\d{1,3})\s+(?:days?|dias?)\b")
_WEEKDAY = re.compile(
    rf"\b(?:(next|proximo|proxima|this|este|coming)\s+)?({_alt(_WEEKDAYS)})\b"
    r"(?:\s+(que viene|proximo|next))?")
_IN_DURATION = re.compile(
    r"(?:in|en|dentro de)\s+(\d{1,5}|an?|half an?|media|1/2)\s*"
    r"(hours?|hrs?|h|horas?|minutes?|mins?|minutos?|min)")


def _fold(text: str, language: str | None) -> str:
    """Lower-case, drop accents and punctuation, and spell numbers as digits."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"(\d)t(\d)", r"\1 \2", t)  # ISO 2026-12-05T14:00
    t = re.sub(r"(?<![\d.])(\d{1,2})\.(\d{2})(?![\d.])", r"\1:\2", t)  # 17.30 is a time
    t = re.sub(r"(?<![a-z])([ap])(?:\.\s?m\.?|m)(?![a-z])", r" \1m ", t)  # a.m., p. m., 5pm
    t = t.replace("@", " at ").replace("'", "")
    t = re.sub(r"[^\w:/\-\s]|_", " ", t)
    words = t.split()
    # Spanish "once" is 11; in English it is an adverb, so only outside English.
    numbers = _NUMBER_WORDS if language == "en" else {**_NUMBER_WORDS, "once": "11"}
    return " ".join(numbers.get(w, w) for w in words)


@dataclass(slots=True)
class _Day:
    """What the date words said (at most one of each, or the text contradicts itself)."""

    day: date | None = None
    month_day: tuple[int, int] | None = None
    weekday: int | None = None
    strict: bool = False  # "next tuesday": never today


def _take(pattern: re.Pattern[str], text: str) -> tuple[list[re.Match[str]], str]:
    matches = list(pattern.finditer(text))
    return matches, pattern.sub(" ", text)


def _read_days(text: str, today: date) -> tuple[_Day, str] | None:
    month_days: list[tuple[int, int]] = []
    matches, text = _take(_ISO, text)
    concrete = [date(int(m[1]), int(m[2]), int(m[3])) for m in matches]
    matches, text = _take(_SLASH, text)
    for m in matches:
        mo, d = int(m[1]), int(m[2])
        if mo > 12 >= d:  # only day/month can be meant
            mo, d = d, mo
        if m[3]:
            concrete.append(date(int(m[3]) + (2000 if len(m[3]) == 2 else 0), mo, d))
        else:
            month_days.append((mo, d))
    # Day-first before month-first: in "mar 1 de dic" the month is "dic", not "mar".
    for pattern, month_first in ((_DAY_MONTH, False), (_MONTH_DAY, True)):
        matches, text = _take(pattern, text)
        for m in matches:
            mo, d = (_MONTHS[m[1]], int(m[2])) if month_first else (_MONTHS[m[2]], int(m[1]))
            if m[3]:
                concrete.append(date(int(m[3]), mo, d))
            else:
                month_days.append((mo, d))
    for rel, offset in _RELATIVE_DAYS:
        matches, text = _take(rel, text)
        concrete.extend(today + timedelta(days=offset) for _ in matches)
    matches, text = _take(_IN_DAYS, text)
    concrete.extend(today + timedelta(days=int(m[1])) for m in matches)
    matches, text = _take(_WEEKDAY, text)
    weekdays = {(_WEEKDAYS[m[2]], m[1] in {"next", "proximo", "proxima"} or bool(m[3]))
                for m in matches}
    if len(set(concrete)) + len(set(month_days)) > 1 or len(weekdays) > 1:
        return None
    weekday, strict = weekdays.pop() if weekdays else (None, False)
    found = _Day(concrete[0] if concrete else None, month_days[0] if month_days else None,
                 weekday, strict)
    return found, text


def _hour(m: re.Match[str], qualifier: str | None) -> tuple[int, int] | None:
    h, mer = int(m["h"]), m["mer"]
    minute = int(m["m"]) if m["m"] else {"media": 30, "cuarto": 15}.get(m["frac"] or "", 0)
    if minute > 59:
        return None
    if mer in ("am", "pm"):
        if not 1 <= h <= 12 or (qualifier and qualifier != mer):
            return None
        return h % 12 + (12 if mer == "pm" else 0), minute
    if h > 23:
        return None
    if mer or (m["h"].startswith("0") and len(m["h"]) == 2):  # "17h", "05:30": 24-hour clock
        return h, minute
    if qualifier == "am":
        return (h % 12, minute) if h <= 12 else None
    if qualifier == "pm":
        return (h + 12 if h < 12 else h, minute) if h != 0 else None
    return (h + 12 if 1 <= h <= 7 else h), minute  # nobody books a showing at 5 am


def _at(day: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    # Through UTC so a wall time in the spring-forward gap becomes a real instant.
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone)


def _one_year_after(now: datetime) -> datetime:
    try:
        return now.replace(year=now.year + 1)
    except ValueError:  # February 29
        return now.replace(year=now.year + 1, day=28)


def parse_when(text: str, now_local: datetime, language: str | None = None) -> datetime | None:
    """Read the appointment time an agent typed, relative to `now_local`.

    Args:
        text: the `<when>` part of `APPT <code> <when>`, English or Spanish.
        now_local: the current time, aware, in the lead's zone.
        language: "en" or "es" when known; only decides whether "once" is 11.

    Returns:
        An aware datetime in `now_local`'s zone, after `now_local` and at most one year
        ahead, or None when the text cannot be read with confidence.

    Raises:
        ValueError: `now_local` is naive.
    """
    zone = now_local.tzinfo
    if zone is None or now_local.utcoffset() is None:
        raise ValueError("now_local must be timezone-aware")
    try:
        result = _parse(_fold(text, language), now_local, zone)
    except (ValueError, OverflowError):  # impossible dates such as "feb 30 2027"
        return None
    if result is None or result <= now_local or result > _one_year_after(now_local):
        return None
    return result


def _parse(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    duration = _IN_DURATION.fullmatch(text)
    if duration:
        amount, unit = duration[1], duration[2]
        if amount in ("media", "1/2") or amount.startswith("half"):
            minutes = 30 if unit.startswith("h") else 0
        else:
            count = 1 if amount in ("a", "an") else int(amount)
            minutes = count * 60 if unit.startswith("h") else count
        return (now.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)
    qualifier, says_today = None, False
    for pattern, meridiem, today_word in _QUALIFIERS:
        matches, text = _take(pattern, text)
        if matches:
            if qualifier not in (None, meridiem):
                return None
            qualifier, says_today = meridiem, says_today or today_word
    noon, text = _take(_NOON, text)
    clock: tuple[int, int] | None = (12, 0) if noon else None
    explicit = [m for m in _TIME.finditer(text) if m["lead"] or m["m"] or m["frac"] or m["mer"]]
    if len(explicit) + len(noon) > 1:
        return None
    if explicit:
        clock = _hour(explicit[0], qualifier)
        if clock is None:
            return None
        text = text[: explicit[0].start()] + " " + text[explicit[0].end():]
    read = _read_days(text, now.date())
    if read is None:
        return None
    found, rest = read
    if says_today:
        if found.day not in (None, now.date()):
            return None
        found.day = now.date()
    rest = " ".join(w for w in rest.split() if w not in _FILLER)
    if rest:
        bare = _TIME.fullmatch(rest)
        # A bare hour needs a day beside it: "saturday 10" is a time, a lone "10" is not.
        dated = found.day or found.month_day or found.weekday is not None
        if clock is not None or bare is None or not dated:
            return None
        clock = _hour(bare, qualifier)
    return None if clock is None else _combine(found, clock, now, zone)


def _combine(found: _Day, clock: tuple[int, int], now: datetime, zone: tzinfo) -> datetime | None:
    today = now.date()
    day = found.day
    if found.month_day is not None:
        if day is not None:
            return None
        month, dom = found.month_day
        for year in (today.year, today.year + 1):
            try:
                day = date(year, month, dom)
            except ValueError:  # February 29 in a common year: try the next
                continue
            if day >= today:
                break
        else:
            return None
    if found.weekday is not None:
        if day is not None:  # "sat dec 5": the two must agree
            return _at(day, *clock, zone) if day.weekday() == found.weekday else None
        ahead = (found.weekday - today.weekday()) % 7
        if ahead == 0 and (found.strict or _at(today, *clock, zone) <= now):
            ahead = 7
        day = today + timedelta(days=ahead)
    if day is None:
        day = today if _at(today, *clock, zone) > now else today + timedelta(days=1)
    return _at(day, *clock, zone)


_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ES_DAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
_ES_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def format_when(dt: datetime, language: str) -> str:
    """Write an appointment time for a confirmation message.

    Args:
        dt: the appointment, in the lead's zone.
        language: "es" (or "es-…") for Spanish; anything else is English.

    Returns:
        "Sat Dec 5 at 10:00 AM" or "sáb 5 de dic a las 10:00" (24-hour; hours before 8
        say "de la mañana" so that `parse_when` reads the text back to the same time).
    """
    if language.lower().startswith("es"):
        at = "a la" if dt.hour == 1 else "a las"
        morning = " de la mañana" if dt.hour < 8 else ""
        return (f"{_ES_DAYS[dt.weekday()]} {dt.day} de {_ES_MONTHS[dt.month - 1]} "
                f"{at} {dt.hour}:{dt.minute:02d}{morning}")
    hour12 = dt.hour % 12 or 12
    meridiem = "AM" if dt.hour < 12 else "PM"
    return (f"{_EN_DAYS[dt.weekday()]} {_EN_MONTHS[dt.month - 1]} {dt.day} "
            f"at {hour12}:{dt.minute:02d} {meridiem}")


_NEGATORS = frozenset({"no", "not", "dont", "cant", "cannot", "wont", "never", "nunca", "ni"})
_RESCHEDULE = re.compile(
    r"\b(?:re-?schedule\w*|reprogram\w*|reagend\w*|instead|(?:another|different|other) "
    r"(?:time|day|date|hour)|change (?:it|the (?:time|date|day))|move (?:it|the|to)|"
    r"push (?:it|back)|postpone\w*|(?<!see you )later|earlier|how about|what about|"
    r"(?:can|could) (?:we|you|i) (?:do|make it|change|move|switch)|"
    r"otro (?:dia|horario|momento)|otra (?:hora|fecha)|(?<!nos vemos )mas tarde|mas temprano|"
    r"cambi\w+|mover\w*|muev\w+|en (?:vez|lugar) de|pospon\w+|aplaz\w+|adelant\w+|atras\w+)\b")
_WHEN_WORDS = re.compile(rf"\d|\b(?:tomorrow|manana|hoy|today|{_alt(_WEEKDAYS)})\b")
_CANCEL_WORDS = re.compile(r"\b(?:cancel\w*|anul\w+|call it off)\b")  # "don't cancel" is not
_CANCEL_PHRASES = re.compile(
    r"\b(?:(?:cant|cannot|can not|wont|will not|unable to) (?:make it|come|go|attend|be there)"
    r"|not (?:coming|going to make it|gonna make it|be able)|never ?mind|no longer"
    r"|no (?:puedo|podre|voy a poder|podemos|vamos a poder) (?:ir|asistir|llegar|venir|estar)"
    r"|no (?:voy|ire|iremos|asistire|llegare)\b|ya no)\b|\bno puedo$|\bi cant$")
_CONFIRM_ALONE = frozenset({"c", "y", "k", "si", "va", "sale", "correct", "correcto"})
_CONFIRM = re.compile(
    r"\b(?:confirm\w*|yes|yep|yup|yeah|ok|okay|sure|sounds good|see you|(?:ill|i will) be there"
    r"|works for me|that works|perfect|perfecto|great|claro|vale|dale|listo|de acuerdo"
    r"|nos vemos|(?:ahi|alli) (?:estare|estaremos|nos vemos)|estare (?:ahi|alli)|esta bien"
    r"|me parece bien|count me in|absolutely|definitely|of course|por supuesto)\b")


def _negated(folded: str, start: int) -> bool:
    return any(w in _NEGATORS for w in folded[:start].split()[-2:])


def parse_appointment_reply(text: str, language: str | None = None) -> Reply | None:
    """Read the prospect's answer to an appointment confirmation.

    Args:
        text: the prospect's message.
        language: "en" or "es" when known; both vocabularies always apply.

    Returns:
        "reschedule" (checked first: it may also say it cannot come), "cancel", "confirm",
        or None for anything else, including a bare "no" and negated confirmations.
    """
    del language  # prospects mix languages; the words do not collide
    raw = unicodedata.normalize("NFC", text.lower().strip())
    folded = _fold(text, "en")
    if _RESCHEDULE.search(folded) or ("?" in raw and _WHEN_WORDS.search(folded)):
        return "reschedule"
    cancel = _CANCEL_WORDS.search(folded)
    if (cancel and not _negated(folded, cancel.start())) or _CANCEL_PHRASES.search(folded):
        return "cancel"
    if folded in _CONFIRM_ALONE or any(e in raw for e in ("👍", "✅", "👌")):
        return "confirm"
    # "sí" with its accent, or "si" followed by a pause: unaccented "si" is also "if".
    if re.search(r"(?<!\w)sí(?!\w)", raw) or re.match(r"si\s*[,.!]", raw):
        return "confirm"
    hits = list(_CONFIRM.finditer(folded))
    if hits and not any(_negated(folded, h.start()) for h in hits):
        return "confirm"
    return None
