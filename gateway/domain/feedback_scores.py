"""CSAT (1–5) and NPS (0–10) answers read from free text, English and Spanish (pure).

    "5" | "cinco" | "10!" | "a 9" | "9/10" | "4 de 5" | "I'd say 4" | "4 stars" | "⭐⭐⭐⭐"
    "muy bien" | "terrible" | "not good"

Decisions (tests pin each one):

* Digits win over words ("5, excelente" is 5). Every number in the message must be the same
  in-range score: "4 or 5", "3-4", "4.5", "15" (CSAT), "0" (CSAT) are None. A number that is
  clearly something else makes the whole answer None: more than two digits ("305 555 0101",
  "2026"), a time ("5pm", "5:30"), money or percent ("$5", "100%"), a leading sign.
* "X/Y", "X out of Y", "X de Y", "X sobre Y" count only when Y is the scale's top (5 or 10):
  "8/10" for CSAT is None rather than a rescaled 4.
* Number words (cero…diez, zero…ten) count like digits. "one", "uno", "un", "una" and "a" are
  also articles and pronouns ("this one was great"), so they are 1 only alone or before
  "star"/"estrella" ("una estrella").
* Stars (⭐ ★ 🌟) are counted for CSAT only; on the 0–10 NPS scale a row of stars has no
  clear meaning, so it is None there.
* Words, when there is no number (CSAT → NPS):
  excellent/excelente/great/genial/perfect/muy bien/very good… → 5 → 10;
  good/bien/bueno/nice/happy… → 4 → 8; ok/fine/regular/más o menos/so so… → 3 → 5;
  bad/mal/malo/poor… → 2 → 3; terrible/pésimo/horrible/awful/muy mal… → 1 → 0.
  NPS also reads likelihood: definitely/por supuesto → 10, probably → 8, maybe/tal vez → 5,
  unlikely/probably not → 3, never/nunca/jamás → 0. Words that disagree ("great agent, bad
  process") are None.
* A negator ("not", "no", "never", "nunca", "nada", "ni") within three words before a word,
  in the same clause, flips it: a positive word becomes 2 ("not good", "no muy bien"), a
  negative one 3 ("not bad", "no fue tan malo").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Scale = Literal["csat", "nps"]

_TOP: dict[Scale, int] = {"csat": 5, "nps": 10}
_NUMBER_WORDS: dict[str, int] = {
    w: i for i, ws in enumerate(
        [("zero", "cero"), (), ("two", "dos"), ("three", "tres"),
         ("four", "cuatro"), ("five", "cinco"), ("six", "seis"), ("seven", "siete"),
         ("eight", "ocho"), ("nine", "nueve"), ("ten", "diez")]) for w in ws
}
_SENTIMENT: dict[str, int] = {
    **dict.fromkeys(
        ["excellent", "excelente", "great", "genial", "perfect", "perfecto", "perfecta",
         "amazing", "awesome", "fantastic", "fantastico", "outstanding", "wonderful",
         "increible", "maravilloso", "estupendo", "buenisimo", "loved it", "love it",
         "me encanto", "muy bien", "muy bueno", "muy buena", "very good", "really good",
         "super bien", "the best", "lo mejor"], 5),
    **dict.fromkeys(
        ["good", "bien", "bueno", "buena", "nice", "happy", "satisfied", "satisfecho",
         "satisfecha", "contento", "contenta", "pretty good"], 4),
    **dict.fromkeys(
        ["ok", "okay", "fine", "regular", "mas o menos", "so so", "so-so", "average", "meh",
         "normal", "decent", "alright", "all right", "asi asi", "aceptable"], 3),
    **dict.fromkeys(
        ["bad", "mal", "malo", "mala", "poor", "disappointed", "decepcionado",
         "decepcionada", "unhappy", "not great"], 2),
    **dict.fromkeys(
        ["terrible", "pesimo", "pesima", "horrible", "awful", "worst", "the worst", "lo peor",
         "fatal", "horrendo", "muy mal", "muy malo", "muy mala", "very bad", "really bad"], 1),
}
_NPS_FROM_CSAT = {5: 10, 4: 8, 3: 5, 2: 3, 1: 0}
_LIKELIHOOD: dict[str, int] = {
    **dict.fromkeys(["definitely", "absolutely", "of course", "for sure", "por supuesto",
                     "claro que si", "sin duda", "seguro que si", "seguramente"], 10),
    **dict.fromkeys(["probably", "likely", "probablemente"], 8),
    **dict.fromkeys(["maybe", "perhaps", "not sure", "quizas", "quiza", "tal vez",
                     "a lo mejor"], 5),
    **dict.fromkeys(["unlikely", "probably not", "doubt it", "lo dudo", "no creo"], 3),
    **dict.fromkeys(["never", "nunca", "jamas", "no way", "de ninguna manera"], 0),
}
_NEGATORS = frozenset({"not", "no", "never", "nunca", "nada", "ni", "isnt", "wasnt", "arent",
                       "dont", "didnt", "wasn", "isn"})
_STARS = ("⭐", "★", "🌟")
_FRACTION = re.compile(r"(?<![\w.,])(\d{1,2})\s*(?:/|out of|of|de|sobre)\s*(\d{1,2})(?![\w.,])")
_ONE_STAR = re.compile(r"\b(?:one|un|una|uno|a)\s+(?:star|estrella)\b")
_RUN = re.compile(r"\d+(?:[.,]\d+)?")
_SCORE_WORDS = re.compile(r"\b(?:stars?|estrellas?|points?|puntos?)\b")


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("\u20e3", "").replace("🔟", "10")  # keycap emoji "5️⃣" are digits
    return re.sub(r"\s+", " ", t.replace("'", "").replace("’", "")).strip()


def _numbers(text: str) -> list[int] | None:
    """Every number in `text`, or None if one of them is clearly not a score."""
    found: list[int] = []
    for m in _RUN.finditer(text):
        before, after = text[: m.start()], text[m.end():]
        if (len(m[0]) > 2 or not m[0].isdigit() or before.endswith(("-", "+", "$", "#", ":"))
                or re.match(r"\s*(?:%|:|am\b|pm\b|a\.m|p\.m|h\b|hrs?\b|-\s*\d)", after)):
            return None
        found.append(int(m[0]))
    return found


def _phrase_patterns(table: dict[str, int]) -> tuple[re.Pattern[str],
                                                      list[tuple[str, re.Pattern[str]]]]:
    """A table's phrases compiled once: one pattern for any of them (most messages hold
    none: one search, then nothing), and each phrase's own, longest first."""
    ordered = sorted(table, key=len, reverse=True)
    each = [(p, re.compile(rf"(?<![\w-]){re.escape(p)}(?![\w-])")) for p in ordered]
    anyone = re.compile(rf"(?<![\w-])(?:{'|'.join(map(re.escape, ordered))})(?![\w-])")
    return anyone, each


_PATTERNS = {id(t): _phrase_patterns(t) for t in (_SENTIMENT, _LIKELIHOOD)}


def _phrase_hits(text: str, table: dict[str, int]) -> list[tuple[int, int]]:
    """(position, score) of each table phrase, longest phrases first and never overlapping."""
    anyone, each = _PATTERNS[id(table)]
    hits: list[tuple[int, int]] = []
    if anyone.search(text) is None:
        return hits
    taken = [False] * len(text)
    for phrase, pattern in each:
        for m in pattern.finditer(text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                hits.append((m.start(), table[phrase]))
    return hits


def _negated(text: str, start: int) -> bool:
    # Three words back, within the clause: "no fue tan malo" is negated, "no, it was great" not.
    clause = re.split(r"[,.;:!?¡¿]", text[:start])[-1]
    return any(w in _NEGATORS for w in re.findall(r"\w+", clause)[-3:])


def _from_words(text: str, scale: Scale) -> int | None:
    scores: set[int] = set()
    for start, score in _phrase_hits(text, _SENTIMENT):
        if _negated(text, start):
            score = 2 if score >= 3 else 3
        scores.add(_NPS_FROM_CSAT[score] if scale == "nps" else score)
    if scale == "nps":
        # "probably not", "never" and "not sure" carry their own negation.
        scores.update(score for _, score in _phrase_hits(text, _LIKELIHOOD))
    return scores.pop() if len(scores) == 1 else None


def parse_score(text: str, scale: Scale, language: str | None = None) -> int | None:
    """Read a CSAT (1–5) or NPS (0–10) answer from the prospect's free text.

    Args:
        text: the prospect's reply to the feedback question.
        scale: "csat" (1–5) or "nps" (0–10).
        language: "en" or "es" when known; both vocabularies always apply.

    Returns:
        The score, or None when the text gives no score, an out-of-range one, or more
        than one.
    """
    del language  # the vocabularies do not collide, and prospects mix languages
    top, low = _TOP[scale], 0 if scale == "nps" else 1
    folded = _fold(text)
    if re.fullmatch(r"\W*(?:one|uno|una)\W*", folded):
        return 1
    candidates: list[int] = []
    for m in _FRACTION.finditer(folded):
        if int(m[2]) != top:  # "8/10" on a 1–5 scale: refuse rather than rescale
            return None
        candidates.append(int(m[1]))
    rest = _FRACTION.sub(" ", folded)
    if _ONE_STAR.search(rest):
        candidates.append(1)
        rest = _ONE_STAR.sub(" ", rest)
    numbers = _numbers(rest)
    if numbers is None:
        return None
    candidates += numbers
    candidates += [_NUMBER_WORDS[w] for w in re.findall(r"\w+", rest) if w in _NUMBER_WORDS]
    stars = sum(text.count(s) for s in _STARS)
    if not candidates and stars:
        if scale == "nps":  # a row of stars on a 0–10 scale: 5 of 5, or 5 of 10?
            return None
        candidates.append(stars)
    if len(set(candidates)) > 1:
        return None
    score = candidates[0] if candidates else _from_words(_SCORE_WORDS.sub(" ", rest), scale)
    return score if score is not None and low <= score <= top else None
