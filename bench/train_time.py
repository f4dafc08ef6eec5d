"""Training time: train one config like `make train` does and show where the seconds go.

Runs ``rasa train`` (from .venv-rasa) on bot/domain.yml + bot/data + nlu_data/en + nlu_data/es
with the given config, ``--force`` (no Rasa cache, like scripts/train.sh) and ``--num-threads``,
into ``var/train-exp/<name>/m.tar.gz``. Rasa's output is read as it comes and each line is
timestamped, so the figures are wall-clock seconds on this machine:

- startup: process start until Rasa's first log line (imports, telemetry);
- validate + rules: until the first NLU component starts (domain/data validation, RulePolicy);
- one row per trained component (its own training, from Rasa's "Starting/Finished to train
  component" lines), with vocabulary sizes for the CountVectorsFeaturizers;
- DIET split into its first epoch (mostly TensorFlow building the graph) and the mean of the
  other epochs;
- featurize/glue: time between components (featurizing the data for the next component);
- persist: after the last component until the process exits (packing the model).

    .venv/bin/python bench/train_time.py [--config bot/config.yml] [--name NAME] [--num-threads 2]

Prints a table, then one JSON line with the same figures. The log is kept next to the model.
On a shared machine, wrap it like the other CPU-heavy jobs, e.g.
``flock /tmp/pronto-cpu.lock nice -n 5 .venv/bin/python bench/train_time.py``. It measures; it
is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
START_RE = re.compile(r"Starting to train component '(\w+)'")
END_RE = re.compile(r"Finished training component '(\w+)'")
VOCAB_RE = re.compile(r"(\d+) vocabulary items were created for text attribute")
# tqdm's own elapsed time ("[01:04<..."): the pipe may deliver its redraws late.
EPOCH_RE = re.compile(r"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+) \[(?:(\d+):)?(\d+):(\d+)")
LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def run(config: Path, out: Path, threads: int) -> tuple[int, list[tuple[float, str]], float]:
    """Train and return the exit code, the timestamped output pieces and the total seconds."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(RASA), "train", "--config", str(config), "--domain", "bot/domain.yml",
           "--data", "bot/data", "nlu_data/en", "nlu_data/es", "--out", str(out),
           "--fixed-model-name", "m", "--force", "--num-threads", str(threads)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    pieces: list[tuple[float, str]] = []
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env) as proc:  # fmt: skip
        assert proc.stdout is not None
        buf = b""
        while chunk := os.read(proc.stdout.fileno(), 65536):
            now = time.monotonic() - start
            buf += chunk
            # tqdm redraws with \r, Rasa logs with \n: both end a piece.
            *done, buf = re.split(rb"[\r\n]", buf)
            pieces.extend((now, p.decode(errors="replace")) for p in done if p.strip())
        if buf.strip():
            pieces.append((time.monotonic() - start, buf.decode(errors="replace")))
        code = proc.wait()
    total = time.monotonic() - start
    (out / "train.log").write_text("".join(f"{t:8.2f} {p}\n" for t, p in pieces))
    return code, pieces, total


def analyse(pieces: list[tuple[float, str]], total: float) -> dict[str, object]:
    """Turn the timestamped output into per-phase seconds."""
    first_log = next((t for t, p in pieces if LOG_LINE_RE.match(p)), 0.0)
    rows: list[tuple[str, float]] = [("startup (imports)", first_log)]
    components: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    open_at: dict[str, float] = {}
    vocab: list[int] = []
    epochs: dict[int, float] = {}
    n_epochs = 0
    for t, p in pieces:
        if m := START_RE.search(p):
            open_at[m.group(1)] = t
        elif m := END_RE.search(p):
            name = m.group(1)
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name} #{seen[name]}"
            components.append({"name": label, "start": open_at.pop(name, t), "end": t})
        elif m := VOCAB_RE.search(p):
            vocab.append(int(m.group(1)))
        elif m := EPOCH_RE.search(p):
            done, n_epochs = int(m.group(1)), int(m.group(2))
            hours, minutes, seconds = (int(g or 0) for g in m.group(3, 4, 5))
            epochs.setdefault(done, hours * 3600 + minutes * 60 + seconds)
    nlu = [c for c in components if c["name"] != "RulePolicy"]
    first_nlu = float(nlu[0]["start"]) if nlu else first_log  # type: ignore[arg-type]
    rows.append(("validate + rules", first_nlu - first_log))
    glue = 0.0
    previous_end = first_nlu
    cv = 0
    diet: dict[str, float] = {}
    for comp in nlu:
        start, end = float(comp["start"]), float(comp["end"])  # type: ignore[arg-type]
        glue += max(0.0, start - previous_end)
        previous_end = end
        label = str(comp["name"])
        if label.startswith("CountVectorsFeaturizer") and cv < len(vocab):
            label += f" (vocab {vocab[cv]})"
            cv += 1
        rows.append((label, end - start))
        if label.startswith("DIETClassifier") and epochs:
            last = max(epochs)
            first = epochs.get(1, epochs[last])
            diet = {"epochs": n_epochs, "prepare_s": round(end - start - epochs[last], 1),
                    "first_epoch_s": first,
                    "other_epochs_mean_s": round((epochs[last] - first) / max(1, last - 1), 2)}
    rows.append(("featurize/glue between components", glue))
    rows.append(("persist + exit", total - previous_end))
    return {"rows": rows, "diet": diet, "vocab": vocab}


def main() -> int:
    """Parse arguments, train, print the table and the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "bot" / "config.yml")
    ap.add_argument("--name", default="", help="var/train-exp/<name> (default: config stem)")
    ap.add_argument("--num-threads", type=int, default=2)
    args = ap.parse_args()
    if not RASA.exists():
        print(f"train_time: {RASA} not found; run 'make setup'", file=sys.stderr)
        return 2
    config = args.config.resolve()
    name = args.name or config.stem
    out = ROOT / "var" / "train-exp" / name
    print(f"==> training {config.relative_to(ROOT) if config.is_relative_to(ROOT) else config}"
          f" into {out.relative_to(ROOT)}/m.tar.gz", flush=True)  # fmt: skip
    load_before = os.getloadavg()[0]
    code, pieces, total = run(config, out, args.num_threads)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    load_after = os.getloadavg()[0]
    if code != 0 or not (out / "m.tar.gz").exists():
        print("\n".join(p for _, p in pieces[-30:]), file=sys.stderr)
        print(f"train_time: rasa train failed (exit {code}); log: {out / 'train.log'}",
              file=sys.stderr)  # fmt: skip
        return 1
    fig = analyse(pieces, total)
    rows: list[tuple[str, float]] = fig["rows"]  # type: ignore[assignment]
    diet: dict[str, float] = fig["diet"]  # type: ignore[assignment]
    width = max(len(label) for label, _ in rows) + 2
    print(f"{'phase':<{width}}{'seconds':>9}{'share':>8}")
    for label, secs in rows:
        print(f"{label:<{width}}{secs:>9.1f}{secs / total:>8.0%}")
    print(f"{'total':<{width}}{total:>9.1f}")
    print(f"CPU time of rasa train: {cpu:.0f} s on {os.cpu_count()} cores; 1-minute load average "
          f"{load_before:.1f} before, {load_after:.1f} after (other jobs slow the wall clock)")
    if diet:
        print(f"DIET: {diet['prepare_s']:.0f} s preparing data and saving, {diet['epochs']:.0f} "
              f"epochs: the first {diet['first_epoch_s']:.0f} s (TensorFlow builds the graph), "
              f"then {diet['other_epochs_mean_s']:.2f} s an epoch (tqdm's clock)")
    print(json.dumps({"bench": "train_time", "name": name, "config": str(config.relative_to(ROOT))
                      if config.is_relative_to(ROOT) else str(config),
                      "num_threads": args.num_threads, "cpus": os.cpu_count(),
                      "total_s": round(total, 1), "cpu_s": round(cpu, 1),
                      "load_before": round(load_before, 2), "load_after": round(load_after, 2),
                      "phases_s": {label: round(secs, 1) for label, secs in rows},
                      "diet": diet, "vocab": fig["vocab"]}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
