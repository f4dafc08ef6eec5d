"""Per-language lexical data (`data/<code>.yml` beside this file) for the detector."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.domain.language.models import LanguageDataError

DATA_DIR = Path(__file__).with_name("data")
STRONG = 2.0  # one function word ("the", "que") is good evidence on its own
WEAK = 1.0  # shorthand ("q", "bd", "u") counts, but less
_ACCENTED = frozenset("áéíóú")
_REPEATS_3 = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True, slots=True)
class LanguageProfile:
    """Lexical data for one language, loaded from ``data/<code>.yml``."""

    code: str
    names: frozenset[str]
    cues_before: frozenset[str]
    cues_after: frozenset[str]
    negations: frozenset[str]
    asking: frozenset[str]
    chars: Mapping[str, float]
    suffixes: tuple[tuple[str, float], ...]
    words: Mapping[str, float]
    enclitics: tuple[str, ...] = ()
    enclitic_hosts: tuple[str, ...] = ()
    enclitic_weight: float = 0.0

    def enclitic(self, word: str) -> float:
        """Weight of ``word`` (lower-case, accents kept) as a verb with pronouns attached.

        "dímelo", "pregúntale", "cómpralo": an accent before one or two attached pronouns is
        how this language writes an imperative. Without the accent ("ayudame", "llamarme")
        the rest must be a known word of this language or end like an infinitive or gerund,
        because "name", "sale" and "time" end like pronouns too.
        """
        if not word.endswith(self.enclitics):
            word = _REPEATS_3.sub(r"\1", word)  # "pregúntaleee", but keep "ll" and "rr"
            if not word.endswith(self.enclitics):
                return 0.0
        for rest in self._hosts_of(word):
            if any(c in _ACCENTED for c in rest) and len(rest) >= 2:
                return self.enclitic_weight
            key = fold(rest)
            if len(key) >= 3 and key in self.words:
                return self.enclitic_weight
            if any(key.endswith(h) and len(key) - len(h) >= 3 for h in self.enclitic_hosts):
                return self.enclitic_weight
        return 0.0

    def _hosts_of(self, word: str) -> list[str]:
        # What is left after taking one or two pronouns off the end ("dí|me|lo"). Two come
        # in one order only: me/te/se/nos, then lo/la/los/las/le/les ("dáselo", "dímelo").
        rests = []
        for last in self.enclitics:
            if not word.endswith(last):
                continue
            one = word[: -len(last)]
            if last != "se":  # "reverse", "universe", "diverse": a lone "se" is too common
                rests.append(one)
            if last[0] == "l":
                rests.extend(
                    one[: -len(p)] for p in self.enclitics if p[0] != "l" and one.endswith(p)
                )
        return [rest for rest in rests if rest]


def fold(word: str) -> str:
    """Lower-case, strip accents and apostrophes: SMS writers drop them inconsistently."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c not in "'’")


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LanguageDataError(f"no language data file {path}") from None
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path} must hold a mapping")
    return data


def strings(data: Mapping[str, Any], key: str, path: Path) -> list[str]:
    items = data.get(key) or []
    if isinstance(items, Mapping):
        items = list(items)
    bad = [item for item in items if not isinstance(item, str)]
    if not isinstance(items, list) or bad:
        # YAML 1.1 reads a bare no/yes/on/off as a boolean: fail loudly, not silently.
        raise LanguageDataError(f"{path}: {key} must list strings (quote {bad!r})")
    return items


def folded(data: Mapping[str, Any], key: str, path: Path) -> frozenset[str]:
    return frozenset(fold(item) for item in strings(data, key, path))


def load_profile(code: str, data_dir: Path = DATA_DIR) -> LanguageProfile:
    """Load one language's lexical data.

    Raises:
        LanguageDataError: when ``<code>.yml`` is missing or malformed.
    """
    path = data_dir / f"{code}.yml"
    data = load_yaml(path)
    if data.get("code") != code:
        raise LanguageDataError(f"{path}: code must be {code!r}")
    words: dict[str, float] = {}
    for word in strings(data, "weak", path):
        words[fold(word)] = WEAK
    for word in strings(data, "strong", path):  # strong wins where a word is listed twice
        words[fold(word)] = STRONG
    if not words:
        raise LanguageDataError(f"{path}: no strong or weak words")
    suffixes = sorted(
        (
            (str(s).lower().replace("’", "'"), float(w))
            for s, w in (data.get("suffixes") or {}).items()
        ),
        key=lambda item: -len(item[0]),  # the longest ending decides ("ciones" over "cion")
    )
    enclitics = data.get("enclitics") or {}
    if not isinstance(enclitics, Mapping):
        raise LanguageDataError(f"{path}: enclitics must be a mapping")
    return LanguageProfile(
        code=code,
        names=folded(data, "names", path),
        cues_before=folded(data, "cues_before", path),
        cues_after=folded(data, "cues_after", path),
        negations=folded(data, "negations", path),
        asking=folded(data, "asking", path),
        chars={str(c): float(w) for c, w in (data.get("chars") or {}).items()},
        suffixes=tuple(suffixes),
        words=words,
        enclitics=tuple(strings(enclitics, "pronouns", path)),
        enclitic_hosts=tuple(fold(h) for h in strings(enclitics, "hosts", path)),
        enclitic_weight=float(enclitics.get("weight", STRONG)),
    )
