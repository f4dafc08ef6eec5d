"""Rasa's REST channel alone, with the project's trained model: single-stream turn time and
throughput at saturation (N concurrent senders), plus NLU parsing alone (`/model/parse`).
Starts the action server and Rasa from .venv-rasa (`--rasa URL` uses a running one). Prints a
table and one JSON line; it is not a test.

    .venv/bin/python bench/rasa_rest.py --senders 16 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bot_under_test import add_arguments, start_bot  # noqa: E402
from bench.pipeline import pct  # noqa: E402

TURNS = ["Hi, I want to buy a house", "Doral", "3 bedrooms", "around 450k", "in 2 months",
         "I'm pre-approved", "Maria Lopez"]
TURNS_ES = ["Hola, busco casa", "en Doral", "3 habitaciones", "unos 450 mil", "en 2 meses",
            "tengo preaprobación", "María Núñez"]


async def turn(http: aiohttp.ClientSession, url: str, sender: str, text: str, lang: str
               ) -> float:
    t0 = time.perf_counter()
    async with http.post(f"{url}/webhooks/rest/webhook", json={
            "sender": sender, "message": text, "metadata": {"language": lang}}) as r:
        await r.read()
        assert r.status == 200, r.status
    return time.perf_counter() - t0


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    add_arguments(ap)
    ap.add_argument("--senders", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    if not args.rasa:
        args.start_rasa = True
    bot = await start_bot(args)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            single = []
            for i, text in enumerate(TURNS * 3):
                single.append(await turn(http, bot.url, f"single-{i // len(TURNS)}", text, "en"))
            parse = []
            for text in TURNS * 3:
                t0 = time.perf_counter()
                async with http.post(f"{bot.url}/model/parse", json={"text": text}) as r:
                    await r.read()
                parse.append(time.perf_counter() - t0)
            done: list[float] = []
            stop = time.perf_counter() + args.seconds
            ids = itertools.count()

            async def sender(n: int) -> None:
                lang = "es" if n % 2 else "en"
                texts = TURNS_ES if lang == "es" else TURNS
                while time.perf_counter() < stop:
                    conv = f"load-{n}-{next(ids)}"
                    for text in texts:
                        if time.perf_counter() >= stop:
                            return
                        done.append(await turn(http, bot.url, conv, text, lang))

            t0 = time.perf_counter()
            await asyncio.gather(*(sender(n) for n in range(args.senders)))
            elapsed = time.perf_counter() - t0
    finally:
        await bot.stop()
    result = {"bench": "rasa_rest", "senders": args.senders, "seconds": round(elapsed, 1),
              "turns": len(done), "turns_per_s": round(len(done) / elapsed, 2),
              "loaded_p50_s": round(pct(done, 50), 3), "loaded_p99_s": round(pct(done, 99), 3),
              "single_p50_ms": round(pct(single, 50) * 1000, 1),
              "single_p99_ms": round(pct(single, 99) * 1000, 1),
              "parse_p50_ms": round(pct(parse, 50) * 1000, 1)}
    print(f"\n| Rasa REST alone | {args.senders} senders, {result['seconds']} s |")
    print("| --- | --- |")
    print(f"| throughput | {result['turns_per_s']} turns/s ({len(done)} turns) |")
    print(f"| turn under load p50 / p99 | {result['loaded_p50_s']} s / "
          f"{result['loaded_p99_s']} s |")
    print(f"| single-stream turn p50 / p99 | {result['single_p50_ms']} ms / "
          f"{result['single_p99_ms']} ms |")
    print(f"| NLU parse alone p50 | {result['parse_p50_ms']} ms |")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
