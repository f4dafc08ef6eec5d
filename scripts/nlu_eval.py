#!/usr/bin/env python3
"""Train the NLU part on nlu_data/en + nlu_data/es and evaluate it on the held-out set.

Usage (from the repo root, in the Rasa environment)::

    .venv-rasa/bin/python scripts/nlu_eval.py [--strict] [--keep-model]

Steps:

1. Copy the training files (nlu_data/en, nlu_data/es; never nlu_data/tests) to
   var/nlu_eval/train and train an NLU-only model with bot/config.yml.
2. For each language, run ``rasa test nlu`` on nlu_data/tests/<lang>*.yml; Rasa writes its
   intent/entity reports, confusion matrix and histogram to var/reports/nlu-<lang>/.
3. Print intent accuracy, intent macro F1 and entity F1 per language, and write
   var/reports/nlu_eval_summary.json.

Targets: intent macro F1 >= 0.95 and entity F1 (micro average over entity types) >= 0.90 in
each language. Below target the script says so; with ``--strict`` it also exits 1.
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

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
CONFIG = ROOT / "bot" / "config.yml"
TRAIN_DIRS = {"en": ROOT / "nlu_data" / "en", "es": ROOT / "nlu_data" / "es"}
TEST_DIR = ROOT / "nlu_data" / "tests"
WORK = ROOT / "var" / "nlu_eval"
REPORTS = ROOT / "var" / "reports"
INTENT_MACRO_F1_TARGET = 0.95
ENTITY_F1_TARGET = 0.90


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


def fmt(value: float | None) -> str:
    """Format a figure for the table."""
    return "  n/a" if value is None else f"{value:.3f}"


def main() -> int:
    """Train, evaluate per language, print the figures; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when below target")
    parser.add_argument("--keep-model", action="store_true", help="keep var/nlu_eval/model")
    args = parser.parse_args()

    if not RASA.exists():
        print(f"nlu_eval: {RASA} not found; run 'make setup'", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)

    train = prepare_training_data()
    model_dir = WORK / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    run_step(
        "[1/3] training the NLU model on nlu_data/en + nlu_data/es (about 2 minutes)",
        [str(RASA), "train", "nlu", "--config", str(CONFIG), "--nlu", str(train),
         "--out", str(model_dir), "--fixed-model-name", "nlu-eval", "--num-threads", "2"],
        WORK / "train.log",
    )  # fmt: skip
    model = model_dir / "nlu-eval.tar.gz"

    results: dict[str, dict[str, float | None]] = {}
    for step, lang in enumerate(("en", "es"), start=2):
        out_dir = REPORTS / f"nlu-{lang}"
        shutil.rmtree(out_dir, ignore_errors=True)
        test_dir = WORK / f"test-{lang}"
        shutil.rmtree(test_dir, ignore_errors=True)
        test_dir.mkdir(parents=True)
        test_files = sorted(TEST_DIR.glob(f"{lang}*.yml"))
        for path in test_files:
            shutil.copy(path, test_dir / path.name)
        names = ", ".join(f"nlu_data/tests/{p.name}" for p in test_files)
        run_step(
            f"[{step}/3] evaluating on the held-out set {names}",
            [str(RASA), "test", "nlu", "--model", str(model), "--nlu", str(test_dir),
             "--out", str(out_dir)],
            WORK / f"test-{lang}.log",
        )  # fmt: skip
        results[lang] = read_figures(out_dir)

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
    summary = {
        "targets": {"intent_macro_f1": INTENT_MACRO_F1_TARGET, "entity_f1": ENTITY_F1_TARGET},
        "languages": results,
        "targets_met": all_met,
    }
    (REPORTS / "nlu_eval_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if not args.keep_model:
        shutil.rmtree(model_dir, ignore_errors=True)
    if not all_met:
        print("BELOW TARGET" + (" (--strict: failing)" if args.strict else ""))
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
