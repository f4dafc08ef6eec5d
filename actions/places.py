"""The places the team works in, read from the NLU lookup table admins already edit.

``nlu_data/en/lookups.yml`` lists the areas (its ``location`` lookup helps DIET tag them). The
dialogue uses the same list to prefer a known place over a partial entity ("North" out of
"North Miami Beach") or a guess. The file is parsed with a regular expression, because the
action server's image has no YAML library of its own; the Dockerfile copies it next to actions/.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from actions.normalise import fold

LOOKUPS = Path(__file__).resolve().parent.parent / "nlu_data" / "en" / "lookups.yml"


@lru_cache(maxsize=1)
def known_places(path: str | None = None) -> tuple[tuple[str, str], ...]:
    """``(folded, display)`` pairs of the lookup's places, longest first.

    Args:
        path: The lookups file (default: ``PRONTO_LOOKUPS`` or ``nlu_data/en/lookups.yml``).

    Returns:
        The places; empty when the file is missing.
    """
    source = Path(path or os.environ.get("PRONTO_LOOKUPS", "") or LOOKUPS)
    if not source.exists():
        return ()
    places: list[tuple[str, str]] = []
    inside = False
    for line in source.read_text(encoding="utf-8").splitlines():
        lookup = re.match(r"\s*-\s*lookup:\s*(\S+)", line)
        if lookup:
            inside = lookup.group(1) == "location"
            continue
        item = re.match(r"\s+-\s+(.+?)\s*$", line)
        if inside and item and not line.lstrip().startswith("- regex"):
            places.append((fold(item.group(1)), item.group(1)))
    return tuple(sorted(places, key=lambda p: -len(p[0])))


def find_place(text: str) -> str | None:
    """The longest known place named in ``text`` ("moving to north miami beach" -> "North Miami
    Beach"), or ``None``."""
    folded = fold(text)
    for key, display in known_places():
        if re.search(rf"(?<![a-z]){re.escape(key)}(?![a-z])", folded):
            return display
    return None
