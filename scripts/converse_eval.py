#!/usr/bin/env python3
"""`make converse-eval`: play whole prospect conversations against the real model and count.

Usage (from the repo root, in the gateway environment)::

    .venv/bin/python scripts/converse_eval.py [--set PATH ...] [--worst N] [--strict]

Starts the action server and a Rasa server with models/pronto.tar.gz (or uses --rasa-url),
an embedded Redis, SQLite and the gateway with a fake Twilio API, then plays each set:
``tests/conversations/data`` (the set the bot is tuned on) and ``bench/conversations/holdout``
(written separately, never tuned on). Prints per set and language: how many conversations
reached a person, field accuracy, right handoff reasons, wrong-language bot messages, and
the worst conversations with their transcripts. Writes var/reports/converse_eval.json.

``--strict`` exits 1 when the tuned set is below 100 % reached or 0.95 field accuracy in a
language (the same targets as tests/conversations).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.domain.language.detector import LanguageDetector  # noqa: E402
from tests.conversations.runner import TODAY, Summary, load, play_all  # noqa: E402
from tests.conversations.stack import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    conversation_stack,
    embedded_redis_url,
)
from tests.rasa_server import MODEL, RealRasa, _free_port  # noqa: E402

SETS = [ROOT / "tests" / "conversations" / "data", ROOT / "bench" / "conversations" / "holdout"]
REPORT = ROOT / "var" / "reports" / "converse_eval.json"


def _progress(title: str) -> object:
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        if done == total or done % 10 == 0:
            print(f"    {title}: {done}/{total} conversations ({time.monotonic() - start:.0f}s)",
                  flush=True)
    return show


async def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PRONTO_TODAY", TODAY)
    var = ROOT / "var" / "converse_eval"
    var.mkdir(parents=True, exist_ok=True)
    for old in var.glob("conversations.db*"):
        old.unlink()
    rasa: RealRasa | None = None
    rasa_url = args.rasa_url
    if not rasa_url:
        print(f"==> starting the action server and Rasa ({args.model}); takes about a minute",
              flush=True)
        rasa = await asyncio.to_thread(RealRasa, var, args.root, args.model)
        port = _free_port()
        await asyncio.to_thread(rasa.start_rasa, port)
        rasa_url = f"http://127.0.0.1:{port}"
    redis_url, redis_server = embedded_redis_url()
    detector = LanguageDetector(["en", "es"])
    figures: dict[str, object] = {}
    status = 0
    try:
        async with conversation_stack(var, rasa_url, redis_url=redis_url,
                                      language=detector) as stack:
            for path in args.set or SETS:
                if not path.exists():
                    print(f"==> {path}: missing, skipped")
                    continue
                conversations = load([path])
                print(f"==> playing {len(conversations)} conversations from "
                      f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}",
                      flush=True)
                summary: Summary = await play_all(
                    stack, conversations, detector, token=AUTH_TOKEN, account_sid=ACCOUNT_SID,
                    concurrency=args.concurrency, progress=_progress(path.name))
                print(summary.report(str(path.relative_to(ROOT)), worst=args.worst), flush=True)
                figures[str(path.relative_to(ROOT))] = {
                    lang or "all": {
                        "conversations": len(summary.of(lang)),
                        "completion": round(summary.completion(lang), 4),
                        "field_accuracy": round(summary.field_accuracy(lang), 4),
                        "all_right": summary.all_right(lang),
                    } for lang in (None, "en", "es")
                }
                tuned = path.resolve() == SETS[0].resolve()
                if args.strict and tuned and any(
                    summary.completion(lang) < 1.0 or summary.field_accuracy(lang) < 0.95
                    for lang in ("en", "es")
                ):
                    status = 1
    finally:
        redis_server.shutdown()
        if rasa is not None:
            rasa.close()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2))
    print(f"==> figures written to {REPORT.relative_to(ROOT)}")
    return status


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[],
                        help="a YAML file or folder of conversations (repeatable)")
    parser.add_argument("--rasa-url", default="", help="use this running Rasa server")
    parser.add_argument("--root", default=str(ROOT),
                        help="project whose actions/ the action server runs")
    parser.add_argument("--model", default=str(MODEL), help="the trained model")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--worst", type=int, default=8, help="transcripts to print per set")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    args.root, args.model = Path(args.root).resolve(), Path(args.model).resolve()
    args.set = [Path(p).resolve() for p in args.set]
    sys.exit(asyncio.run(_run(args)))


if __name__ == "__main__":
    main()
