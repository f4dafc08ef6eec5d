"""Numbers written in words, English and Spanish, up to the millions.

"four", "cuatro", "veintitrés", "twenty-five", "three hundred and fifty thousand",
"dos mil quinientos", "un millón doscientos mil". Common misspellings ("fourty", "trecientos")
are accepted because prospects type on phones.

Two entry points: ``words_to_number`` reads one phrase that is a single number, and
``replace_number_words`` rewrites every number phrase inside a sentence into digits, splitting
runs such as "between three hundred and three hundred fifty thousand" into two numbers.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from actions.normalise.text import alternation, fold

_UNITS = {
    "zero": 0, "cero": 0, "one": 1, "uno": 1, "una": 1, "un": 1, "two": 2, "dos": 2,
    "three": 3, "tres": 3, "four": 4, "cuatro": 4, "five": 5, "cinco": 5, "six": 6, "seis": 6,
    "seven": 7, "siete": 7, "eight": 8, "ocho": 8, "nine": 9, "nueve": 9,
}  # fmt: skip
# Everything from 10 to 29 that is written as one word and takes no unit after it.
_TEENS = {
    "ten": 10, "diez": 10, "eleven": 11, "once": 11, "twelve": 12, "doce": 12,
    "thirteen": 13, "trece": 13, "fourteen": 14, "catorce": 14, "fifteen": 15, "quince": 15,
    "sixteen": 16, "dieciseis": 16, "seventeen": 17, "diecisiete": 17, "eighteen": 18,
    "dieciocho": 18, "nineteen": 19, "diecinueve": 19, "veintiuno": 21, "veintiun": 21,
    "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip
_TENS = {
    "twenty": 20, "veinte": 20, "thirty": 30, "treinta": 30, "forty": 40, "cuarenta": 40,
    "fifty": 50, "cincuenta": 50, "sixty": 60, "sesenta": 60, "seventy": 70, "setenta": 70,
    "eighty": 80, "ochenta": 80, "ninety": 90, "noventa": 90,
}  # fmt: skip
# Spanish hundreds are additive words ("doscientos"), English "hundred" multiplies.
_HUNDREDS = {
    "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300,
    "trescientas": 300, "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500,
    "quinientas": 500, "seiscientos": 600, "seiscientas": 600, "setecientos": 700,
    "setecientas": 700, "ochocientos": 800, "ochocientas": 800, "novecientos": 900,
    "novecientas": 900,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 1_000, "mil": 1_000, "million": 1_000_000,
    "millions": 1_000_000, "millon": 1_000_000, "millones": 1_000_000,
}  # fmt: skip
# Misspellings seen in real messages, mapped to the word meant.
_TYPOS = {
    "fourty": "forty", "ninty": "ninety", "nintey": "ninety", "tweny": "twenty",
    "twenny": "twenty", "ninteen": "nineteen", "fiveteen": "fifteen", "eightteen": "eighteen",
    "hundered": "hundred", "hunderd": "hundred", "thousend": "thousand", "milion": "million",
    "sinco": "cinco", "sincuenta": "cincuenta", "beinte": "veinte",
    "trecientos": "trescientos", "tresientos": "trescientos", "dosientos": "doscientos",
    "cuatrosientos": "cuatrocientos", "seicientos": "seiscientos",
    "sietecientos": "setecientos", "setesientos": "setecientos", "ochosientos": "ochocientos",
    "nuevecientos": "novecientos", "novesientos": "novecientos", "diesiseis": "dieciseis",
    "diesisiete": "diecisiete", "diesiocho": "dieciocho", "diesinueve": "diecinueve",
    "ventidos": "veintidos", "ventitres": "veintitres",
}  # fmt: skip
# Words that join or introduce a number but are not numbers by themselves.
_CONNECTORS = {"and", "y", "a", "an"}
# Alone, "un"/"una" are articles ("un mes", "una casa"); callers that want them as 1 say so.
ARTICLES = ("a", "an", "un", "una")


class _Word(NamedTuple):
    kind: str  # unit, teen, tens, hundreds, hundred, thousand, million, and, y, article
    value: int


def _classify(word: str) -> _Word | None:
    word = _TYPOS.get(word, word)
    if word in _UNITS:
        return _Word("unit", _UNITS[word])
    if word in _TEENS:
        return _Word("teen", _TEENS[word])
    if word in _TENS:
        return _Word("tens", _TENS[word])
    if word in _HUNDREDS:
        return _Word("hundreds", _HUNDREDS[word])
    if word in _SCALES:
        value = _SCALES[word]
        return _Word({100: "hundred", 1_000: "thousand"}.get(value, "million"), value)
    if word in ("a", "an"):
        return _Word("article", 1)
    if word in ("and", "y"):
        return _Word(word, 0)
    return None


_ALL_WORDS = [*_UNITS, *_TEENS, *_TENS, *_HUNDREDS, *_SCALES, *_TYPOS, *_CONNECTORS]
_RUN = re.compile(rf"\b(?:{alternation(_ALL_WORDS)})(?:[\s-]+(?:{alternation(_ALL_WORDS)}))*\b")
_SCALE_KINDS = ("hundred", "thousand", "million")
_ADDITIVE_LIMIT = {"tens": 9, "hundreds": 99}  # what may still be added after such a word


def _parse_words(words: list[str]) -> int | None:
    """Value of a list of folded number words, or ``None`` when they are not one number.

    Strict on purpose: "three hundred and three hundred" is not 606 but two numbers, and
    the segmentation in ``replace_number_words`` relies on this to split ranges.
    """
    classified = [_classify(w) for w in words]
    if not classified or any(c is None for c in classified):
        return None
    items = [c for c in classified if c is not None]
    total, current, limit = 0, 0, 999
    seen = thousands = millions = False
    for index, item in enumerate(items):
        prev = items[index - 1] if index else None
        nxt = items[index + 1] if index + 1 < len(items) else None
        if item.kind == "article":
            # "a hundred", "a thousand", "a million": only first, and only before a scale.
            if index or nxt is None or nxt.kind not in ("hundred", "thousand", "million"):
                return None
            current, limit, seen = 1, 0, True
            continue
        if item.kind == "and":
            # English puts "and" after a scale word: "three hundred and fifty".
            if prev is None or prev.kind not in ("hundred", "thousand", "million"):
                return None
            if nxt is None or nxt.kind not in ("unit", "teen", "tens", "hundreds"):
                return None
            continue
        if item.kind == "y":
            # Spanish puts "y" only between tens and units: "treinta y cinco".
            if prev is None or prev.kind != "tens" or prev.value < 30:
                return None
            if nxt is None or nxt.kind != "unit" or nxt.value == 0:
                return None
            continue
        if item.kind in ("unit", "teen", "tens", "hundreds"):
            if item.value > limit or (item.value == 0 and len(items) > 1):
                return None
            current += item.value
            limit = _ADDITIVE_LIMIT.get(item.kind, 0)
        elif item.kind == "hundred":
            if current >= 100 or (current == 0 and seen):
                return None
            current = (current or 1) * 100
            limit = 99
        elif item.kind == "thousand":
            if thousands or (current == 0 and seen and not millions):
                return None
            if current == 0 and millions and prev is not None and prev.kind == "million":
                return None  # "un millón mil" is not a number anyone writes
            total += (current or 1) * 1_000
            current, limit, thousands = 0, 999, True
        else:  # million
            if millions or thousands or (current == 0 and seen):
                return None
            total += (current or 1) * 1_000_000
            current, limit, millions = 0, 999, True
        seen = True
    return total + current if seen else None


def _split_words(phrase: str) -> list[str]:
    return [w for w in re.split(r"[\s-]+", phrase) if w]


def words_to_number(words: str) -> int | None:
    """Convert one number written in words to an integer.

    Args:
        words: A phrase that is a single number, in any case and with or without accents:
            "three hundred fifty thousand", "dos mil quinientos", "veintitrés",
            "twenty-five", "un millón doscientos mil".

    Returns:
        The value, or ``None`` when the phrase holds anything else (other words, or two
        numbers such as "tres o cuatro").
    """
    return _parse_words(_split_words(fold(words)))


class _Piece(NamedTuple):
    start: int  # first word index
    end: int  # one past the last word index
    value: int | None  # None: the word is kept as text


_MAX_NUMBER_WORDS = 20  # "nine hundred and ninety-nine million nine hundred ..." fits
# Cost of a reading: (numbers, joins of two numbers without a connector, connectors as text).
_Cost = tuple[int, int, int]


def _segment(words: list[str]) -> list[_Piece]:
    """Split a run of number words into numbers, fewest numbers first.

    Ties are broken by preferring splits at a connector ("300 and 350") over splits between
    two number words, then by keeping fewer connectors as plain text. Dynamic programming from
    the end of the run: ``best[i][after_number]`` is the cheapest reading of ``words[i:]`` and
    the piece it starts with.
    """
    n = len(words)
    best: list[list[tuple[_Cost, _Piece | None]]] = [[((0, 0, 0), None)] * 2 for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        ends = range(i + 1, min(n, i + _MAX_NUMBER_WORDS) + 1)
        numbers_from_i = [(j, v) for j in ends if (v := _parse_words(words[i:j])) is not None]
        for after_number in (0, 1):
            options: list[tuple[_Cost, _Piece]] = []
            if words[i] in _CONNECTORS or _classify(words[i]) is None:
                numbers, joins, texts = best[i + 1][0][0]
                options.append(((numbers, joins, texts + 1), _Piece(i, i + 1, None)))
            for j, value in numbers_from_i:
                numbers, joins, texts = best[j][1][0]
                options.append(((numbers + 1, joins + after_number, texts), _Piece(i, j, value)))
            if not options:  # unreachable for real words; keep the word rather than fail
                numbers, joins, texts = best[i + 1][0][0]
                options.append(((numbers + n, joins, texts + 1), _Piece(i, i + 1, None)))
            best[i][after_number] = min(options, key=lambda option: option[0])
    pieces: list[_Piece] = []
    i, after_number = 0, 0
    while i < n:
        piece = best[i][after_number][1]
        assert piece is not None
        pieces.append(piece)
        i, after_number = piece.end, int(piece.value is not None)
    return pieces


def _render(value: int, last_word: str, keep_scale: bool) -> str:
    scale = _SCALES.get(_TYPOS.get(last_word, last_word), 0)
    if keep_scale and scale >= 1_000 and value % scale == 0:
        # "trescientos cincuenta mil" -> "350 mil": a later "between X and Y mil" can then
        # share the second number's magnitude with the first.
        return f"{value // scale} {_TYPOS.get(last_word, last_word)}"
    return str(value)


def replace_number_words(text: str, *, keep_scale: bool = False) -> str:
    """Rewrite every number written in words inside ``text`` as digits.

    "tres o cuatro" -> "3 o 4", "twenty-five" -> "25", "three hundred and three hundred
    fifty thousand" -> "300 and 350000". Articles alone ("a", "un", "una") are left as words.

    Args:
        text: Folded text (see ``fold``).
        keep_scale: Keep a trailing "thousand"/"mil"/"million" as a word ("350 mil",
            "1 million") so amount parsers can read the magnitude.

    Returns:
        The text with digits in place of number words.
    """
    out: list[str] = []
    position = 0
    for run in _RUN.finditer(text):
        out.append(text[position : run.start()])
        spans = [(m.start(), m.end()) for m in re.finditer(r"[^\s-]+", run.group(0))]
        words = [run.group(0)[a:b] for a, b in spans]
        first = _classify(words[0])
        if first and first.kind in _SCALE_KINDS and re.search(r"\d\s*$", text[: run.start()]):
            # "350 thousand", "400 mil": the scale word is the unit of the digits before it.
            rest = [_Piece(p.start + 1, p.end + 1, p.value) for p in _segment(words[1:])]
            pieces = [_Piece(0, 1, None), *rest]
        else:
            pieces = _segment(words)
        for index, piece in enumerate(pieces):
            if index:
                gap_start = spans[pieces[index - 1].end - 1][1]
                out.append(run.group(0)[gap_start : spans[piece.start][0]])
            phrase = run.group(0)[spans[piece.start][0] : spans[piece.end - 1][1]]
            if piece.value is None or phrase in ARTICLES:
                out.append(phrase)
            else:
                out.append(_render(piece.value, words[piece.end - 1], keep_scale))
        position = run.end()
    out.append(text[position:])
    return "".join(out)


def parse_number(raw: str) -> float:
    """Parse a number written with digits: "350,000", "350.000", "1.2", "1,5".

    A group of exactly three digits after a separator is thousands ("350.000" in Spanish,
    "350,000" in English); otherwise the separator is a decimal point.

    Args:
        raw: Digits with optional "." or "," separators.

    Returns:
        The value.
    """
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return float(re.sub(r"[.,]", "", raw))
    # "1.250.000,50" or a typo such as "1.5.25": the last separator is the decimal point.
    parts = re.split(r"[.,]", raw)
    if len(parts) == 1:
        return float(raw)
    return float(f"{''.join(parts[:-1]) or '0'}.{parts[-1]}")
