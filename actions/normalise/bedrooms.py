"""Bedroom counts: "3 bed", "tres recámaras", "a 2/2", "at least three", "studio" (0).

A range keeps its lower end ("tres o cuatro" is 3); "any" / "no preference" is ``None``.
"""

from __future__ import annotations

import re

from actions.normalise.answers import is_no_preference
from actions.normalise.numbers import replace_number_words
from actions.normalise.text import fold

_STUDIO = re.compile(r"\b(?:studio|estudio|monoambiente|mono ambiente|efficiency|eficiencia)\b")
_BEDROOM_UNIT = (
    r"(?:br|bd|bdr|bdrm|bdrms|bed|beds|bedrooms?|rooms?|habitacion(?:es)?|habs?|cuartos?|"
    r"recamaras?|dormitorios?|dorms?|alcobas?|piezas?)"
)
_WITH_UNIT = re.compile(
    rf"(?<![\d.,$])(\d{{1,2}})\s*-?\s*(?:\+\s*)?(?:or more |o mas )?{_BEDROOM_UNIT}\b"
)
# "3/2", "3x2", "2br/2ba": bedrooms come first.
_BED_BATH = re.compile(r"(?<![\d.,$/])(\d{1,2})\s*(?:/|x)\s*\d(?:\.5)?(?![\d/])")
_MORE_THAN = re.compile(r"\b(?:more than|over|mas de)\s+(\d{1,2})(?![\d.,])")
# Numbers that count something else: money, time, bathrooms.
_OTHER_COUNT = (
    r"(?:k|mil|thousand|grand|m|million|millon(?:es)?|%|months?|mes(?:es)?|weeks?|"
    r"semanas?|days?|dias?|years?|anos?|baths?|bathrooms?|banos?|ba)\b"
)
_RANGE = re.compile(
    rf"(?<![\d.,$])(\d{{1,2}})\s*(?:-|–|to|a|or|o|y|and)\s*(\d{{1,2}})(?![\d.,]?\d)"
    rf"(?!\s*{_OTHER_COUNT})"
)
_BARE = re.compile(rf"(?<![\d.,$])(\d{{1,2}})(?![\d.,]?\d)(?!\s*{_OTHER_COUNT})")
_ONE = r"(?:an|a|one|un|una|uno)"


def parse_bedrooms(text: str) -> int | None:
    """Extract a bedroom count ("3 bed", "3br", "tres recámaras", "cuatro cuartos", "studio").

    Args:
        text: The user's words.

    Returns:
        The smallest number of bedrooms meant (a studio is 0), or ``None``.
    """
    folded = fold(text)
    if _STUDIO.search(folded):
        return 0
    if is_no_preference(folded) and not re.search(rf"\d|{_BEDROOM_UNIT}\b", folded):
        return None
    # "una habitación", "a one bedroom", "una o dos": the article is the number 1 here.
    folded = re.sub(rf"\b{_ONE}\s+(?={_BEDROOM_UNIT}\b)", "1 ", folded)
    folded = re.sub(rf"\b{_ONE}\s+(?=(?:o|or|to|a|-|y|and)\s+\w)", "1 ", folded)
    folded = re.sub(rf"^\s*{_ONE}\s*$", "1", folded)
    folded = replace_number_words(folded)
    more_than = _MORE_THAN.search(folded)
    if more_than:
        return int(more_than.group(1)) + 1
    bounds = _RANGE.search(folded)
    if bounds:  # "3-4 bedrooms", "de 2 a 3 habitaciones": the lower end
        return min(int(bounds.group(1)), int(bounds.group(2)))
    bed_bath = _BED_BATH.search(folded)
    if bed_bath:
        return int(bed_bath.group(1))
    with_unit = _WITH_UNIT.search(folded)
    if with_unit:
        return int(with_unit.group(1))
    numbers = [int(n) for n in _BARE.findall(folded)]
    numbers = [n for n in numbers if n <= 20]
    return min(numbers) if numbers else None
