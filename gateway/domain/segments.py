"""SMS segments (pure): how many parts a text costs, and a GSM-7 transliteration for Spanish.

A carrier bills and delivers an SMS in segments. A text that fits the GSM 03.38 7-bit
alphabet (basic set plus the extension table, whose characters take an escape septet and so
count 2) holds 160 septets in one segment, or 153 per segment once split (the user-data
header takes 7). One character outside it turns the whole text into UCS-2: 70 UTF-16 code
units in one segment, 67 per segment once split; an emoji outside the BMP is 2 units.

Spanish is the trap: é, ñ, ü, ¿ and ¡ are in GSM-7, but á, í, ó and ú are not, so a single
"está" makes a 100-character Spanish text cost as much as a 200-character English one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set, in table order (0x00-0x7F; 0x1B, the escape, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as escape + character, 2 septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_MULTI = {"GSM-7": 153, "UCS-2": 67}

# Typography that word processors and phones put in Spanish (and English) text and GSM-7
# lacks; replaced by the nearest GSM-7 characters.
_PUNCTUATION = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "«": '"', "»": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ",
    "\u2009": " ", "\u202f": " ", "\t": " ",
}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a text goes over SMS.

    Attributes:
        encoding: "GSM-7" when every character is in the GSM 03.38 tables, else "UCS-2".
        segments: the number of SMS parts (0 for an empty text).
        units: septets for GSM-7, UTF-16 code units for UCS-2.
    """

    encoding: Encoding
    segments: int
    units: int


def encode_info(text: str) -> SegmentInfo:
    """The encoding, segment count and length of `text` as an SMS.

    Segments are packed the way senders split a long text: an extension character's escape
    and character, or an emoji's two UTF-16 halves, are never split across two segments, so
    a long text may need one more segment than its length divided by 153 (or 67).

    Args:
        text: the message body, exactly as it will be sent.

    Returns:
        The SegmentInfo.
    """
    encoding: Encoding = "GSM-7" if all(_in_gsm7(c) for c in text) else "UCS-2"
    costs = [_cost(c, encoding) for c in text]
    units = sum(costs)
    if units == 0:
        return SegmentInfo(encoding, 0, 0)
    if units <= _SINGLE[encoding]:
        return SegmentInfo(encoding, 1, units)
    size, segments, used = _MULTI[encoding], 1, 0
    for cost in costs:
        if used + cost > size:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, segments, units)


def non_gsm7(text: str) -> list[str]:
    """The distinct characters of `text` that GSM-7 lacks, in order of first appearance."""
    return list(dict.fromkeys(c for c in text if not _in_gsm7(c)))


def to_gsm7(text: str) -> str:
    """Replace the characters GSM-7 lacks by their nearest GSM-7 letters; an opt-in for Spanish.

    Removes only what GSM-7 lacks: á→a, í→i, ó→o, ú→u, Á→A, Í→I, Ó→O, Ú→U (and any other
    letter whose base letter is in GSM-7, such as ç→c or â→a), curly quotes → straight quotes,
    dashes → "-", "…" → "...", unusual spaces → " ". Everything GSM-7 has is kept: ñ, é, É,
    ü, Ü, ¿, ¡, à, è, ì, ò, ù. Characters with no GSM-7 stand-in (emoji, other scripts) are
    kept as they are, so the result may still be UCS-2; check it with `encode_info`.

    Trade-off: this halves or thirds the cost of a Spanish text (160 characters a segment
    instead of 70) but misspells it, and some misspellings change the meaning ("está" → "esta",
    "sí" → "si", "él" is kept since é is GSM-7). Readers understand it and many Spanish
    speakers text this way, yet a brokerage may prefer correct accents; hence opt-in.

    Args:
        text: the text to transliterate.

    Returns:
        The text with GSM-7 stand-ins.
    """
    out: list[str] = []
    for char in text:
        if _in_gsm7(char):
            out.append(char)
        elif char in _PUNCTUATION:
            out.append(_PUNCTUATION[char])
        else:
            base = unicodedata.normalize("NFD", char)[0]
            out.append(base if base != char and _in_gsm7(base) else char)
    return "".join(out)


def check_templates(
    templates: Mapping[str, Mapping[str, str]], budget: Mapping[str, int]
) -> list[str]:
    """Warnings for every template text over its language's segment budget.

    Placeholders such as `{name}` or `{brokerage}` are counted as written (and "{", "}" are
    GSM-7 extension characters, 2 septets each): the filled-in text may be longer or shorter,
    and a value with "á" turns even a GSM-7 template into UCS-2, so keep some margin.

    A language missing from `budget` falls back to its "*" entry, and is not checked when
    there is none.

    Args:
        templates: template key → language code → text (the shape of config/templates.yml).
        budget: language code (or "*") → the most segments one message may cost.

    Returns:
        One human-readable warning per template and language over budget, in file order.
    """
    warnings: list[str] = []
    for key, texts in templates.items():
        for language, text in texts.items():
            limit = budget.get(language, budget.get("*"))
            if limit is None:
                continue
            info = encode_info(text)
            if info.segments <= limit:
                continue
            why = ""
            if info.encoding == "UCS-2":
                chars = " ".join(repr(c) for c in non_gsm7(text)[:5])
                why = f"; UCS-2 because of {chars}"
            warnings.append(
                f"template '{key}' ({language}): {info.segments} SMS segments "
                f"({info.encoding}, {info.units} units) over the budget of {limit}{why}"
            )
    return warnings


def _in_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1
