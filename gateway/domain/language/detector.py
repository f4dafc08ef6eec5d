"""Language choice for one inbound message: which language to answer in.

Pure domain code: it takes a message and the conversation's language so far and returns a
:class:`LanguageDecision`. No I/O beyond reading the lexical data and model profiles once,
when a :class:`LanguageDetector` is built.

How a message is decided:

1. Explicit requests win ("Can we continue in English?", "¿hablas español?", "I don't
   speak Spanish"): a language name next to a request cue, or negated.
2. Lexical evidence from per-language data in ``gateway/domain/language/data/<code>.yml``
   (function words, SMS shorthand, characters such as "ñ" or "¿", word endings, verbs with
   attached pronouns such as "dímelo"), after dropping what is evidence for no language:
   numbers, prices, emails, URLs, emoji, acronyms, place names, people's names and the
   shared words in ``common.yml``. A capitalised first word is a word, not a name.
3. When the words alone are not decisive, lingua (restricted to the configured languages)
   and, if still close, langdetect (loaded with only the configured languages' profiles,
   seeded) add their votes in log-odds. A lone unknown word of five letters or more goes
   to them too, before any fallback.
4. Stickiness: an ongoing conversation keeps its language unless the message is an
   explicit request or clearly written in another language (several marker words).
   A new lead with no evidence gets the channel's fallback, else the default.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gateway.domain.language.decision import LanguageDecision
from gateway.domain.language.models import (
    LanguageDataError,
    build_langdetect,
    build_lingua,
    langdetect_vote,
    lingua_probabilities,
)
from gateway.domain.language.profiles import (
    DATA_DIR,
    STRONG,
    LanguageProfile,
    fold,
    folded,
    load_profile,
    load_yaml,
    strings,
)

__all__ = ["DATA_DIR", "LanguageDataError", "LanguageDecision", "LanguageDetector"]


_LINGUA_CLIP_MAX = 3.0  # lingua's vote in log-odds never outweighs two function words...
_LINGUA_CLIP_PER_LETTER = 0.15  # ...and is smaller on few letters, where it is overconfident
_LANGDETECT_VOTE = 1.0  # langdetect's probabilities are ~0 or ~1, so it only votes
_FAST_MARGIN = 4.0  # lexical margin beyond which the models cannot change the outcome
_CLOSE_MARGIN = 1.5  # still this close after lingua: ask langdetect as well
_MIN_CONFIDENCE = 0.6  # below this a message is treated as no evidence
_MODEL_ONLY_CAP = 0.85  # model-only evidence never reaches the switch threshold
_MODEL_MIN_LETTERS = 5  # a single unknown word shorter than this is no evidence ("ugh", "sad")
_SWITCH_CONFIDENCE = 0.9
_SWITCH_MIN_SCORE = 4.0  # two strong markers: "a full sentence in the other language"
_SWITCH_MIN_WORDS = 3

_URL_EMAIL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|@\w+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_CLAUSE_BREAK = re.compile(r"[,.;:!?¿¡\n]")
_REPEATS = re.compile(r"(.)\1+")
_STRETCHED = re.compile(r"(.)\1{2,}")  # "mmmmm", "jjjjj": one letter held down


@dataclass(frozen=True, slots=True)
class _Token:
    key: str  # folded form
    raw: str
    clause: int
    attached: bool  # glued to a digit or currency sign: "3bd", "400k", "$2k"
    name: bool = False  # a person's name: evidence for no language


@dataclass(frozen=True, slots=True)
class _Evidence:
    detected: str | None
    confidence: float
    target: str | None  # explicit request, if any
    scores: tuple[tuple[str, float], ...]
    markers: int  # marker words for `detected`
    words: int  # word tokens that are not neutral


class LanguageDetector:
    """Decides the answer language for each message. Build once and reuse.

    Args:
        languages: Configured language codes; each needs ``data/<code>.yml``.
        default: Answer language for a new lead when neither the message nor the channel
            gives one.
        data_dir: Where the lexical data lives (tests and new languages).
        cache_size: Entries in the per-text evidence cache (0 disables it).

    Raises:
        LanguageDataError: when a language has no data or ``default`` is not configured.
    """

    def __init__(
        self,
        languages: Sequence[str] = ("en", "es"),
        default: str = "en",
        *,
        data_dir: Path = DATA_DIR,
        cache_size: int = 8192,
    ) -> None:
        codes = tuple(dict.fromkeys(languages))
        if not codes:
            raise LanguageDataError("configure at least one language")
        if default not in codes:
            raise LanguageDataError(f"default language {default!r} is not in {codes}")
        self.languages = codes
        self.default = default
        self._profiles = {code: load_profile(code, data_dir) for code in codes}
        common_path = data_dir / "common.yml"
        common = load_yaml(common_path)
        self._neutral = folded(common, "neutral", common_path)
        self._people = folded(common, "people", common_path)
        phrases = sorted(strings(common, "places", common_path), key=len, reverse=True)
        exact = [re.escape(p) for p in strings(common, "places_exact", common_path)]
        self._places = re.compile(
            r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE
        )
        self._places_exact = re.compile(r"(?<!\w)(?:" + "|".join(exact) + r")(?!\w)")
        self._name_of = {n: p.code for p in self._profiles.values() for n in p.names}
        self._cues_before = frozenset().union(*(p.cues_before for p in self._profiles.values()))
        self._cues_after = frozenset().union(*(p.cues_after for p in self._profiles.values()))
        self._negations = frozenset().union(*(p.negations for p in self._profiles.values()))
        self._asking = frozenset().union(*(p.asking for p in self._profiles.values()))
        self._known = frozenset().union(self._neutral, *(p.words for p in self._profiles.values()))
        self._lingua = build_lingua(codes)
        self._langdetect = build_langdetect(codes)
        evidence = self._evidence
        self._cached = functools.lru_cache(maxsize=cache_size)(evidence) if cache_size else evidence

    def cache_clear(self) -> None:
        """Forget cached evidence (benchmarks time cold detections)."""
        clear = getattr(self._cached, "cache_clear", None)
        if clear is not None:
            clear()

    def decide(
        self, text: str, previous: str | None = None, fallback: str | None = None
    ) -> LanguageDecision:
        """Decide the answer language for one message.

        Args:
            text: The inbound message.
            previous: The conversation's language so far (None for a new lead). A value
                that is not configured is treated as None.
            fallback: The channel/number default for a new lead with no evidence; ignored
                when not configured, so a config typo cannot break the pipeline.

        Returns:
            The decision; ``changed`` tells the caller to store and audit the new language.
        """
        ev = self._cached(" ".join(text.split()))
        current = previous if previous in self._profiles else None
        if ev.target is not None:
            language = ev.target
        elif current is None:
            if ev.detected is not None:
                language = ev.detected
            else:
                language = fallback if fallback in self._profiles else self.default
        elif ev.detected is not None and ev.detected != current and self._clear_switch(ev, current):
            language = ev.detected
        else:
            language = current
        return LanguageDecision(
            language=language,
            detected=ev.detected,
            confidence=ev.confidence,
            explicit=ev.target is not None,
            changed=previous is not None and language != previous,
        )

    @staticmethod
    def _clear_switch(ev: _Evidence, current: str) -> bool:
        # A sentence in the other language, not one borrowed word ("gracias", "ok thanks").
        scores = dict(ev.scores)
        return (
            ev.confidence >= _SWITCH_CONFIDENCE
            and ev.words >= _SWITCH_MIN_WORDS
            and ev.markers >= 2
            and scores[ev.detected or ""] - scores.get(current, 0.0) >= _SWITCH_MIN_SCORE
        )

    # -- evidence -------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[_Token]:
        text = _URL_EMAIL.sub(" ", text)
        text = self._places_exact.sub(" ", text)
        text = self._places.sub(" ", text)
        breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
        tokens: list[_Token] = []
        clause = 0
        for match in _WORD.finditer(text):
            start, end = match.span()
            while clause < len(breaks) and breaks[clause] < start:
                clause += 1
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            attached = before.isdigit() or before in "$€" or after.isdigit()
            key = fold(match.group())
            if key not in self._known and key not in self._name_of:
                # "holaaa", "pleasee", "graciaas": SMS stretches words; match the plain one.
                squeezed = _REPEATS.sub(r"\1", key)
                if squeezed in self._known:
                    key = squeezed
            tokens.append(_Token(key, match.group(), clause, attached))
        names = [i for i in range(len(tokens)) if self._is_name(tokens, i)]
        for i in names:
            tokens[i] = replace(tokens[i], name=True)
        return tokens

    def _is_name(self, tokens: Sequence[_Token], i: int) -> bool:
        tok, after = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.key in self._known or tok.key in self._name_of or tok.attached:
            return False
        if tok.key in self._people:
            return True  # "José", "Maribel", "Tom": alone they say nothing of the language
        if not tok.raw[:1].isupper() or _acronym(tok.raw):
            return False
        if i and tokens[i - 1].clause == tok.clause:
            return True  # capitalised inside a sentence: a name ("hola soy Jennifer")
        # Phones capitalise the first word of any message ("Ayúdame", "Escucha"): it is a
        # name only before another unknown capitalised word ("Maribel Ortega") or when it
        # ends like a Spanish surname ("Hernández", "Gonzalez").
        run = after is not None and after.clause == tok.clause and after.key not in self._known
        run = run and after is not None and after.raw[:1].isupper() and not _acronym(after.raw)
        accented = any(c in "áéíóú" for c in tok.raw.lower())  # "Pregúntale Tom"
        return (run and not accented) or (len(tok.key) >= 5 and tok.key.endswith("ez"))

    def _evidence(self, text: str) -> _Evidence:
        tokens = self._tokens(text)
        scores = dict.fromkeys(self.languages, 0.0)
        markers = dict.fromkeys(self.languages, 0)
        unknown: list[_Token] = []
        words = 0
        for tok in tokens:
            if tok.key in self._name_of or tok.name:
                continue
            if tok.key in self._neutral:
                # "no"/"si" are no evidence, but "sí" with its accent is.
                for code, profile in self._profiles.items():
                    scores[code] += _char_weight(tok.raw, profile)
                continue
            if tok.attached and tok.key not in self._known:
                continue  # "400k", "2x": units and typos glued to numbers are no evidence
            hit = False
            known = tok.key in self._known  # "estate" is English, not "esta" + "te"
            for code, profile in self._profiles.items():
                weight = self._word_weight(tok, profile, known)
                if weight:
                    scores[code] += weight
                    markers[code] += 1
                    hit = True
            if not tok.attached:
                words += 1
                if not hit and not _acronym(tok.raw):
                    unknown.append(tok)
        for code, profile in self._profiles.items():
            for char, weight in profile.chars.items():
                if not char.isalpha() and char in text:
                    scores[code] += weight  # "¿", "¡": once per message is plenty
                    markers[code] += 1
        target = self._explicit(tokens, scores)
        detected, confidence = self._combine(scores, tokens, unknown)
        return _Evidence(
            detected=detected,
            confidence=confidence,
            target=target,
            scores=tuple(scores.items()),
            markers=markers[detected] if detected else 0,
            words=words,
        )

    @staticmethod
    def _word_weight(tok: _Token, profile: LanguageProfile, known: bool) -> float:
        weight = profile.words.get(tok.key, 0.0)
        if not known and profile.enclitics and len(tok.key) >= 4:
            weight = profile.enclitic(tok.raw.lower())
        if not weight and len(tok.key) >= 5:
            raw = tok.raw.lower().replace("’", "'")
            folded_raw = fold(raw) if "'" not in raw else raw
            for suffix, suffix_weight in profile.suffixes:
                # The ending must leave a stem: "taste" is not "-aste", "baron" not "-aron".
                if folded_raw.endswith(suffix) and len(folded_raw) - len(suffix) >= 2:
                    weight = suffix_weight
                    break
        return weight + _char_weight(tok.raw, profile)

    def _explicit(self, tokens: Sequence[_Token], scores: Mapping[str, float]) -> str | None:
        wanted: set[str] = set()
        refused: set[str] = set()
        content = [t for t in tokens if t.key not in self._cues_after]
        for tok in tokens:
            code = self._name_of.get(tok.key)
            if code is None:
                continue
            same = [t for t in tokens if t.clause == tok.clause]
            j = same.index(tok)
            before = [t.key for t in same[max(0, j - 4) : j]]
            after = [t.key for t in same[j + 1 : j + 3]]
            negated = any(k in self._negations for k in before)
            # "¿No hablan español?" and "Don't you speak Spanish?" ask us; "No hablo
            # inglés" and "I don't speak Spanish" refuse.
            asking = any(t.key in self._asking for t in same[:j])
            if negated and not asking:
                refused.add(code)
            elif (
                len(content) == 1
                or any(k in self._cues_before for k in before[-3:])
                or any(k in self._cues_after for k in after)
            ):
                wanted.add(code)
        wanted -= refused
        if len(wanted) == 1:
            return wanted.pop()
        if wanted or not refused:
            return None  # "I speak English and Spanish": no single request
        # "No hablo inglés": the language it is written in, else the only other one.
        others = [c for c in self.languages if c not in refused]
        written = max(others, key=lambda c: scores[c], default=None)
        if written is not None and scores[written] > 0:
            return written
        return others[0] if len(others) == 1 else None

    def _combine(
        self, scores: Mapping[str, float], tokens: Sequence[_Token], unknown: Sequence[_Token]
    ) -> tuple[str | None, float]:
        lexical = any(scores.values())
        if not lexical and not _model_worthy(unknown):
            return None, 0.0
        if len(self.languages) == 1:
            return self.languages[0], 1.0
        z = dict(scores)
        ranked = sorted(z.values(), reverse=True)
        one_sided = ranked[1] == 0.0 and ranked[0] >= STRONG
        if not one_sided and ranked[0] - ranked[1] < _FAST_MARGIN:
            # The words are not decisive: let the statistical models vote. Both are unreliable
            # on one or two words, so their vote grows with the letters they get to see.
            model_text = " ".join(t.raw for t in tokens if not t.attached)
            letters = sum(c.isalpha() for c in model_text)
            clip = min(_LINGUA_CLIP_MAX, _LINGUA_CLIP_PER_LETTER * letters)
            if self._lingua is not None and letters:
                for code, prob in lingua_probabilities(self._lingua, model_text).items():
                    p = min(max(prob, 1e-9), 1.0 - 1e-9)
                    z[code] += max(-clip, min(clip, math.log(p / (1.0 - p))))
            ranked = sorted(z.values(), reverse=True)
            if ranked[0] - ranked[1] < _CLOSE_MARGIN and self._langdetect is not None:
                vote = langdetect_vote(self._langdetect, model_text)
                if vote is not None:
                    z[vote] += _LANGDETECT_VOTE
        best = max(z, key=lambda code: z[code])
        top = max(z.values())
        confidence = 1.0 / sum(math.exp(v - top) for v in z.values())
        if not lexical:
            confidence = min(confidence, _MODEL_ONLY_CAP)
        if confidence < _MIN_CONFIDENCE:
            return None, 0.0
        return best, round(confidence, 4)


def _model_worthy(unknown: Sequence[_Token]) -> bool:
    # Without marker words, the models may judge two real words, or one word long enough
    # ("Escucha", "corre", "gorgeous"); names never reach this list ("Maria Lopez").
    if not unknown:
        return False
    return len(unknown) >= 2 or len(_STRETCHED.sub(r"\1", unknown[0].key)) >= _MODEL_MIN_LETTERS


def _char_weight(raw: str, profile: LanguageProfile) -> float:
    # Accented letters count once per word ("está", "información", "año").
    return max((profile.chars[c] for c in raw.lower() if c in profile.chars), default=0.0)


def _acronym(raw: str) -> bool:
    # "FHA", "HOA", "MLS": short all-caps tokens name things, they are not words.
    return 2 <= len(raw) <= 5 and raw.isupper()
