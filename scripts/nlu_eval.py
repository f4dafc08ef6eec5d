#!/usr/bin/env python3
"""Train the NLU part on nlu_data/en + nlu_data/es and evaluate it on the held-out set.

Usage (from the repo root, in the Rasa environment)::

    .venv-rasa/bin/python scripts/nlu_eval.py [--strict] [--keep-model]

Steps:

1. Copy the training files (nlu_data/en, nlu_data/es; never nlu_data/tests) to
   var/nlu_eval/train and train an NLU-only model with bot/config.yml.
2. For each language, run ``rasa test nlu`` on nlu_data/tests/<lang>*.yml (the project's own
   held-out set); Rasa writes its intent/entity reports, confusion matrix and histogram to
   var/reports/nlu-<lang>/.
3. For each language, run ``rasa test nlu`` on nlu_data/tests/generic_<lang>.yml (generic
   dialogue acts written by a third party: greet, goodbye, affirm, deny, thank, request_human,
   ask_if_bot, out_of_scope); reports go to var/reports/nlu-generic-<lang>/.
4. Print intent accuracy, intent macro F1 and entity F1 per language, the generic-acts intent
   accuracy per language with the 10 worst misclassified generic examples (the most confidently
   wrong), and write all of it to var/reports/nlu_eval_summary.json.

Targets: on the project's held-out set, intent macro F1 >= 0.95 and entity F1 (micro average
over entity types) >= 0.90 in each language; on the generic acts, intent accuracy >= 0.90 in
each language. Below any target the script says so; with ``--strict`` it also exits 1.

Rasa's evaluation undoes the FallbackClassifier, so a prediction counts as right even when its
confidence is below the fallback threshold (where the live bot gets ``nlu_fallback``); the
generic table reports how many right and how many wrong predictions are below that threshold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TypedDict

import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
CONFIG = ROOT / "bot" / "config.yml"
TRAIN_DIRS = {"en": ROOT / "nlu_data" / "en", "es": ROOT / "nlu_data" / "es"}
TEST_DIR = ROOT / "nlu_data" / "tests"
WORK = ROOT / "var" / "nlu_eval"
REPORTS = ROOT / "var" / "reports"
INTENT_MACRO_F1_TARGET = 0.95
ENTITY_F1_TARGET = 0.90
LANGS = ("en", "es")
# nlu_data/tests/generic_<lang>.yml: generic dialogue acts, evaluated apart from <lang>*.yml.
GENERIC_PREFIX = "generic_"
GENERIC_INTENT_ACCURACY_TARGET = 0.90
WORST_SHOWN = 10


class Misclassified(TypedDict):
    """One wrongly classified test example."""

    text: str
    expected: str
    predicted: str
    confidence: float


class GenericFigures(TypedDict):
    """Figures of one language's generic dialogue-act evaluation."""

    file: str
    examples: int
    errors: int
    intent_accuracy: float | None
    intent_macro_f1: float | None
    right_below_fallback: int
    wrong_below_fallback: int
    per_intent_recall: dict[str, float]
    worst: list[Misclassified]


def run_step(title: str, cmd: list[str], log: Path) -> None:
    """Run a long command, logging its output to ``log`` and printing a heartbeat.

    Args:
        title: What the step does, for the progress line.
        cmd: The command.
        log: Where stdout and stderr go.

    Raises:
        SystemExit: When the command fails (the log tail is printed first).
    """
    print(f"==> {title}", flush=True)
    start = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(15):
            print(f"    ... {time.monotonic() - start:.0f}s", flush=True)

    ticker = threading.Thread(target=heartbeat, daemon=True)
    ticker.start()
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
    done.set()
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"nlu_eval: step failed ({title}); full log: {log}")
    print(f"    done in {time.monotonic() - start:.0f}s (log: {log.relative_to(ROOT)})", flush=True)


def prepare_training_data() -> Path:
    """Copy en/ and es/ training files into one folder for ``rasa train nlu``."""
    train = WORK / "train"
    shutil.rmtree(train, ignore_errors=True)
    train.mkdir(parents=True)
    for lang, folder in TRAIN_DIRS.items():
        for path in sorted(folder.glob("*.y*ml")):
            shutil.copy(path, train / f"{lang}_{path.name}")
    return train


def read_figures(out_dir: Path) -> dict[str, float | None]:
    """Read intent accuracy, intent macro F1 and entity F1 from Rasa's JSON reports."""
    intent = json.loads((out_dir / "intent_report.json").read_text())
    figures: dict[str, float | None] = {
        "intent_accuracy": intent.get("accuracy"),
        "intent_macro_f1": intent["macro avg"]["f1-score"],
        "entity_f1": None,
        "entity_macro_f1": None,
    }
    entity_path = out_dir / "DIETClassifier_report.json"
    if entity_path.exists():
        entity = json.loads(entity_path.read_text())
        micro = entity.get("micro avg") or entity.get("weighted avg") or {}
        figures["entity_f1"] = micro.get("f1-score")
        figures["entity_macro_f1"] = (entity.get("macro avg") or {}).get("f1-score")
    return figures


def held_out_files(lang: str) -> list[Path]:
    """The project's held-out files of one language: nlu_data/tests/<lang>*.yml, not generic."""
    return sorted(
        path for path in TEST_DIR.glob(f"{lang}*.yml") if not path.name.startswith(GENERIC_PREFIX)
    )


def fallback_threshold() -> float:
    """The FallbackClassifier threshold in bot/config.yml (0 when there is none)."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Read Rasa's intent_errors.json / intent_successes.json (absent when there are none)."""
    if not path.exists():
        return []
    data: list[dict[str, Any]] = json.loads(path.read_text())
    return data


def read_generic_figures(out_dir: Path, test_file: Path, threshold: float) -> GenericFigures:
    """Read the generic dialogue-act figures and the worst misclassifications from Rasa's output.

    Args:
        out_dir: Where ``rasa test nlu --successes`` wrote its reports.
        test_file: The generic test file (for the summary).
        threshold: The FallbackClassifier threshold; predictions below it are counted.

    Returns:
        Accuracy, macro F1, per-intent recall, counts and the ``WORST_SHOWN`` most confidently
        wrong examples.
    """
    intent = json.loads((out_dir / "intent_report.json").read_text())
    errors = read_predictions(out_dir / "intent_errors.json")
    successes = read_predictions(out_dir / "intent_successes.json")
    errors.sort(key=lambda item: float(item["intent_prediction"]["confidence"]), reverse=True)
    wrong: list[Misclassified] = [
        {
            "text": item["text"],
            "expected": item["intent"],
            "predicted": item["intent_prediction"]["name"],
            "confidence": round(float(item["intent_prediction"]["confidence"]), 6),
        }
        for item in errors
    ]
    summary_keys = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    recall = {
        name: round(float(values["recall"]), 4)
        for name, values in sorted(intent.items())
        if name not in summary_keys and isinstance(values, dict) and values.get("support")
    }
    return {
        "file": str(test_file.relative_to(ROOT)),
        "examples": len(errors) + len(successes),
        "errors": len(errors),
        "intent_accuracy": intent.get("accuracy"),
        "intent_macro_f1": intent["macro avg"]["f1-score"],
        "right_below_fallback": sum(
            1 for item in successes if item["intent_prediction"]["confidence"] < threshold
        ),
        "wrong_below_fallback": sum(
            1 for item in errors if item["intent_prediction"]["confidence"] < threshold
        ),
        "per_intent_recall": recall,
        "worst": wrong[:WORST_SHOWN],
    }


def clip(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters for a table cell."""
    return text if len(text) <= width else text[: width - 1] + "…"


def print_generic(generic: dict[str, GenericFigures], threshold: float) -> dict[str, bool]:
    """Print the generic dialogue-act table and the worst misclassifications per language.

    Args:
        generic: The figures per language.
        threshold: The FallbackClassifier threshold (for the table).

    Returns:
        Whether each language meets ``GENERIC_INTENT_ACCURACY_TARGET``.
    """
    print()
    print("Generic dialogue acts (nlu_data/tests/generic_<lang>.yml, third party, not trained on)")
    low = f"conf < {threshold:g}"
    print(f"{'lang':<6}{'examples':>9}{'errors':>8}{'intent acc':>12}{'macro F1':>10}{low:>15}"
          "  target met")  # fmt: skip
    generic_met: dict[str, bool] = {}
    for lang, gen in generic.items():
        met = (gen["intent_accuracy"] or 0) >= GENERIC_INTENT_ACCURACY_TARGET
        generic_met[lang] = met
        below = f"{gen['right_below_fallback']} ok/{gen['wrong_below_fallback']} bad"
        print(f"{lang:<6}{gen['examples']:>9}{gen['errors']:>8}{fmt(gen['intent_accuracy']):>12}"
              f"{fmt(gen['intent_macro_f1']):>10}{below:>15}  "
              f"{'yes' if met else 'NO'}")  # fmt: skip
    intents = sorted({name for gen in generic.values() for name in gen["per_intent_recall"]})
    print("recall per intent: " + "  ".join(
        f"{name} " + "/".join(fmt(gen["per_intent_recall"].get(name)) for gen in generic.values())
        for name in intents
    ) + f"  ({'/'.join(generic)})")  # fmt: skip
    print(f"target: intent accuracy >= {GENERIC_INTENT_ACCURACY_TARGET}; '{low}': right (ok) and "
          "wrong (bad) predictions below the FallbackClassifier threshold, which the live bot "
          "gets as nlu_fallback")  # fmt: skip
    for lang, gen in generic.items():
        print()
        print(f"{WORST_SHOWN} worst misclassified generic examples, {lang} "
              f"(most confidently wrong first; {gen['errors']} errors in all)")  # fmt: skip
        if not gen["worst"]:
            print("    none")
            continue
        print(f"    {'text':<44}{'expected':<15}{'predicted':<18}{'conf':>8}")
        for item in gen["worst"]:
            print(f"    {clip(item['text'], 42):<44}{item['expected']:<15}"
                  f"{item['predicted']:<18}{item['confidence']:>8.4f}")  # fmt: skip
    print("generic reports: var/reports/nlu-generic-en/, var/reports/nlu-generic-es/")
    return generic_met


def fmt(value: float | None) -> str:
    """Format a figure for the table."""
    return "  n/a" if value is None else f"{value:.3f}"


def main() -> int:
    """Train, evaluate per language, print the figures; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when below target")
    parser.add_argument("--keep-model", action="store_true", help="keep var/nlu_eval/model")
    parser.add_argument(
        "--model", type=Path, default=None,
        help="evaluate this trained model (e.g. models/pronto.tar.gz, whose NLU is trained on "
        "the same files) instead of training an NLU-only one; what `make test` does in CI",
    )
    args = parser.parse_args()

    if not RASA.exists():
        print(f"nlu_eval: {RASA} not found; run 'make setup'", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)

    total_steps = 2 * len(LANGS) + (0 if args.model else 1)
    if args.model:
        model = args.model.resolve()
        if not model.exists():
            print(f"nlu_eval: {model} not found; run 'make train'", file=sys.stderr)
            return 2
        print(f"==> evaluating {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}"
              " (no training)", flush=True)
        first = 1
    else:
        train = prepare_training_data()
        model_dir = WORK / "model"
        shutil.rmtree(model_dir, ignore_errors=True)
        run_step(
            f"[1/{total_steps}] training the NLU model on nlu_data/en + nlu_data/es "
            "(a few minutes)",
            [str(RASA), "train", "nlu", "--config", str(CONFIG), "--nlu", str(train),
             "--out", str(model_dir), "--fixed-model-name", "nlu-eval", "--num-threads", "2"],
            WORK / "train.log",
        )  # fmt: skip
        model = model_dir / "nlu-eval.tar.gz"
        first = 2

    results: dict[str, dict[str, float | None]] = {}
    for step, lang in enumerate(LANGS, start=first):
        out_dir = REPORTS / f"nlu-{lang}"
        shutil.rmtree(out_dir, ignore_errors=True)
        test_dir = WORK / f"test-{lang}"
        shutil.rmtree(test_dir, ignore_errors=True)
        test_dir.mkdir(parents=True)
        test_files = held_out_files(lang)
        for path in test_files:
            shutil.copy(path, test_dir / path.name)
        names = ", ".join(f"nlu_data/tests/{p.name}" for p in test_files)
        run_step(
            f"[{step}/{total_steps}] evaluating on the held-out set {names}",
            [str(RASA), "test", "nlu", "--model", str(model), "--nlu", str(test_dir),
             "--out", str(out_dir)],
            WORK / f"test-{lang}.log",
        )  # fmt: skip
        results[lang] = read_figures(out_dir)

    threshold = fallback_threshold()
    generic: dict[str, GenericFigures] = {}
    for step, lang in enumerate(LANGS, start=first + len(LANGS)):
        test_file = TEST_DIR / f"{GENERIC_PREFIX}{lang}.yml"
        if not test_file.exists():
            print(f"nlu_eval: {test_file.relative_to(ROOT)} not found", file=sys.stderr)
            return 2
        out_dir = REPORTS / f"nlu-generic-{lang}"
        shutil.rmtree(out_dir, ignore_errors=True)
        run_step(
            f"[{step}/{total_steps}] evaluating on the generic dialogue acts "
            f"{test_file.relative_to(ROOT)}",
            [str(RASA), "test", "nlu", "--model", str(model), "--nlu", str(test_file),
             "--out", str(out_dir), "--successes"],
            WORK / f"test-generic-{lang}.log",
        )  # fmt: skip
        generic[lang] = read_generic_figures(out_dir, test_file, threshold)

    print()
    print("Held-out NLU evaluation (nlu_data/tests, never trained on)")
    print(f"{'lang':<6}{'intent acc':>12}{'intent macro F1':>17}{'entity F1':>11}"
          f"{'entity macro F1':>17}  target met")  # fmt: skip
    all_met = True
    for lang, fig in results.items():
        met = (fig["intent_macro_f1"] or 0) >= INTENT_MACRO_F1_TARGET and (
            fig["entity_f1"] or 0
        ) >= ENTITY_F1_TARGET
        all_met &= met
        print(f"{lang:<6}{fmt(fig['intent_accuracy']):>12}{fmt(fig['intent_macro_f1']):>17}"
              f"{fmt(fig['entity_f1']):>11}{fmt(fig['entity_macro_f1']):>17}  "
              f"{'yes' if met else 'NO'}")  # fmt: skip
    print(f"targets: intent macro F1 >= {INTENT_MACRO_F1_TARGET}, "
          f"entity F1 (micro avg) >= {ENTITY_F1_TARGET}")  # fmt: skip
    print("reports and confusion matrices: var/reports/nlu-en/, var/reports/nlu-es/")

    generic_met = print_generic(generic, threshold)
    all_met &= all(generic_met.values())

    summary = {
        "targets": {
            "intent_macro_f1": INTENT_MACRO_F1_TARGET,
            "entity_f1": ENTITY_F1_TARGET,
            "generic_intent_accuracy": GENERIC_INTENT_ACCURACY_TARGET,
        },
        "languages": results,
        "generic": {
            lang: {**gen, "target_met": generic_met[lang]} for lang, gen in generic.items()
        },
        "fallback_threshold": threshold,
        "targets_met": all_met,
    }
    (REPORTS / "nlu_eval_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if not args.keep_model and not args.model:
        shutil.rmtree(WORK / "model", ignore_errors=True)
    if not all_met:
        print("BELOW TARGET" + (" (--strict: failing)" if args.strict else ""))
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
