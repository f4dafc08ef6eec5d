"""Language identification benchmark on short EN/ES messages.

Compares, on the same labelled set, plain langdetect, langdetect restricted to the configured
languages, lingua restricted to them, and Pronto's ``LanguageDetector``; then checks the
sticky cases (no-evidence messages and explicit switches) against Pronto's detector.

Usage::

    .venv/bin/python bench/langid.py                 # the held-out set, bench/data/langid.tsv
    .venv/bin/python bench/langid.py --set fresh     # a second held-out set (202 messages)
    .venv/bin/python bench/langid.py --set dev       # the set the lexicon was tuned on
    .venv/bin/python bench/langid.py --set short_es  # 1-4 word texts, mostly Spanish imperatives
    .venv/bin/python bench/langid.py --errors        # also list every miss

Throughput is measured on one core (the process is pinned when the OS allows it), one pass
over the distinct messages (median of up to five passes), after one warm-up call so lazy
model loading is not counted, with Pronto's cache cleared before every pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.domain.language.detector import LanguageDetector  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es")
DEFAULT = "en"  # what each library's caller falls back to when it gives no answer
SETS = {
    "test": "langid.tsv",  # held out: 300 EN + 300 ES
    "fresh": "langid_fresh.tsv",  # second held-out set, written after tuning ended
    "dev": "langid_dev.tsv",  # the lexicon and thresholds were tuned on this one
    "short_es": "langid_short_es.tsv",  # 1-4 words, no context: 84 ES + 42 EN, 2026-12-01
}
SHORT = "short_es"  # always reported beside the chosen set: Pronto against lingua alone


def read_tsv(path: Path, columns: int) -> list[list[str]]:
    """Rows of a tab-separated file, skipping blank lines and ``#`` comments."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        row = line.split("\t")
        if len(row) != columns:
            raise SystemExit(f"{path}:{number}: expected {columns} columns, got {row!r}")
        rows.append(row)
    return rows


def langdetect_detectors() -> dict[str, Callable[[str], str]]:
    """Plain langdetect, and langdetect restricted in the two ways one can restrict it."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    full = DetectorFactory()
    full.load_profile(PROFILES_DIRECTORY)
    pair = DetectorFactory()
    pair.load_json_profile(
        [(Path(PROFILES_DIRECTORY) / c).read_text(encoding="utf-8") for c in LANGUAGES]
    )

    def raw(text: str) -> str:
        detector = full.create()
        detector.append(text)
        try:
            return str(detector.detect())  # "cy", "fr", ...: counted as wrong
        except LangDetectException:
            return DEFAULT

    def picked(text: str) -> str:
        # All of langdetect's per-language probabilities, then the best configured one.
        detector = full.create()
        detector.append(text)
        try:
            detector._detect_block()
        except LangDetectException:
            return DEFAULT
        probs: list[float] = detector.langprob
        ranked = {lang: probs[full.langlist.index(lang)] for lang in LANGUAGES}
        return max(ranked, key=lambda lang: ranked[lang])

    def profiles(text: str) -> str:
        detector = pair.create()
        detector.append(text)
        try:
            return str(detector.detect())
        except LangDetectException:
            return DEFAULT

    return {
        "langdetect (all 55 languages)": raw,
        "langdetect restricted (pick en/es)": picked,
        "langdetect en/es profiles only": profiles,
    }


def lingua_detector() -> Callable[[str], str]:
    """lingua built with only the configured languages."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in LANGUAGES]
    detector: Any = LanguageDetectorBuilder.from_languages(*langs).build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return DEFAULT if found is None else str(found.iso_code_639_1.name.lower())

    return detect


def evaluate(
    name: str, detect: Callable[[str], str], rows: Sequence[list[str]], before: Callable[[], None]
) -> tuple[str, float, dict[str, float], float, list[tuple[str, str, str]]]:
    """Accuracy, per-language recall, cold throughput and the misses of one detector."""
    texts = list(dict.fromkeys(text for text, _ in rows))
    detect("warm up the models, cargar los modelos")  # one-off model loading is not timed
    rates = []
    spent = 0.0
    while len(rates) < 5 and (not rates or spent < 2.0):
        before()
        start = time.perf_counter()
        for text in texts:
            detect(text)
        elapsed = time.perf_counter() - start
        spent += elapsed
        rates.append(len(texts) / elapsed)
    rate = sorted(rates)[len(rates) // 2]  # median of up to five cold passes
    misses = []
    hits = dict.fromkeys(LANGUAGES, 0)
    totals = dict.fromkeys(LANGUAGES, 0)
    for text, label in rows:
        got = detect(text)
        totals[label] += 1
        if got == label:
            hits[label] += 1
        else:
            misses.append((text, label, got))
    recall = {lang: hits[lang] / totals[lang] for lang in LANGUAGES if totals[lang]}
    accuracy = sum(hits.values()) / len(rows)
    return name, accuracy, recall, rate, misses


def accuracy_only(
    detect: Callable[[str], str], rows: Sequence[list[str]]
) -> tuple[float, dict[str, float], list[tuple[str, str, str]]]:
    """Accuracy, per-language recall and misses, untimed."""
    misses = [(text, label, got) for text, label in rows if (got := detect(text)) != label]
    wrong = {lang: sum(1 for _, label, _ in misses if label == lang) for lang in LANGUAGES}
    totals = {lang: sum(1 for _, label in rows if label == lang) for lang in LANGUAGES}
    recall = {lang: 1 - wrong[lang] / totals[lang] for lang in LANGUAGES if totals[lang]}
    return 1 - len(misses) / len(rows), recall, misses


def main(argv: Sequence[str] | None = None) -> None:
    """Print the side-by-side table and the sticky figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=tuple(SETS), default="test")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    rows = read_tsv(DATA / SETS[args.set], 2)
    counts = {lang: sum(1 for _, label in rows if label == lang) for lang in LANGUAGES}
    short = sum(1 for text, _ in rows if len(text.split()) < 8) / len(rows)
    print(f"set: {args.set}, {len(rows)} messages {counts}, {short:.0%} under eight words")

    start = time.perf_counter()
    pronto = LanguageDetector(LANGUAGES, default=DEFAULT)
    print(f"Pronto detector built in {time.perf_counter() - start:.2f} s\n")

    def nothing() -> None:
        return None

    detectors: list[tuple[str, Callable[[str], str], Callable[[], None]]] = [
        (name, fn, nothing) for name, fn in langdetect_detectors().items()
    ]
    detectors.append(("lingua restricted (en/es)", lingua_detector(), nothing))
    detectors.append(
        ("Pronto LanguageDetector", lambda t: pronto.decide(t).language, pronto.cache_clear)
    )

    header = f"{'detector':<36} {'accuracy':>9} " + " ".join(
        f"{'recall ' + lang:>10}" for lang in LANGUAGES
    )
    print(header + f" {'msgs/s (cold)':>14}")
    print("-" * (len(header) + 15))
    results = [evaluate(name, fn, rows, before) for name, fn, before in detectors]
    for name, accuracy, recall, rate, _ in results:
        cells = " ".join(f"{recall.get(lang, 0.0):>10.1%}" for lang in LANGUAGES)
        print(f"{name:<36} {accuracy:>9.1%} {cells} {rate:>14,.0f}")

    texts = [text for text, _ in rows]
    start = time.perf_counter()
    for text in texts:
        pronto.decide(text)
    warm = len(texts) / (time.perf_counter() - start)
    print(f"\nPronto warm cache (same messages again): {warm:,.0f} msgs/s")

    sticky = read_tsv(DATA / "sticky.tsv", 3)
    wrong = []
    for text, previous, expected in sticky:
        got = pronto.decide(text, previous=None if previous == "-" else previous).language
        if got != expected:
            wrong.append((text, previous, expected, got))
    correct = len(sticky) - len(wrong)
    print(f"Pronto sticky cases: {correct}/{len(sticky)} = {correct / len(sticky):.1%}")
    for text, previous, expected, got in wrong:
        print(f"  STICKY MISS {text!r} previous={previous} expected={expected} got={got}")

    if args.errors:
        for name, _, _, _, misses in results:
            print(f"\n{name}: {len(misses)} misses")
            for text, label, got in misses:
                print(f"  {label} -> {got}: {text}")

    if args.set != SHORT:
        # Each line judged alone, as `pronto detect-language --each` does: no previous language.
        short_rows = read_tsv(DATA / SETS[SHORT], 2)
        print(f"\nshort set ({SETS[SHORT]}, {len(short_rows)} messages, each line alone):")
        pairs = [
            ("lingua restricted (en/es)", lingua_detector()),
            ("Pronto LanguageDetector", lambda t: pronto.decide(t).language),
        ]
        for name, detect in pairs:
            accuracy, recall, misses = accuracy_only(detect, short_rows)
            cells = " ".join(f"{recall.get(lang, 0.0):>10.1%}" for lang in LANGUAGES)
            print(f"{name:<36} {accuracy:>9.1%} {cells}")
            if args.errors:
                for text, label, got in misses:
                    print(f"  {label} -> {got}: {text}")


if __name__ == "__main__":
    main()
