"""First-touch benchmark: form posts (`POST /api/leads`) in, the first text out.

Starts the gateway in-process (embedded Redis or REDIS_URL, SQLite or DATABASE_URL) with a
fake Twilio API, and the real Rasa + action server with `--start-rasa` (or `--rasa URL`);
otherwise a fake Rasa that answers at once, which measures Pronto's own overhead. Posts
`--leads` distinct form leads at `--rate` per second (unsaturated by default), then measures,
per lead, the time from the post to the first text reaching the fake Twilio. Prints a table
and one JSON line; it is not a test.

    .venv/bin/python bench/intake.py --leads 200 --rate 5 --start-rasa
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bot_under_test import add_arguments, start_bot  # noqa: E402
from bench.pipeline import pct  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config.settings import load_settings  # noqa: E402
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, free_port  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

KEY = "bench-intake-key"
MESSAGES = ["Is this home still available?", "¿Sigue disponible esta casa? Quisiera verla.",
            "Can I see it this weekend?", "Me interesa, ¿cuál es el precio final?"]
# Quiet hours would hold every text outside 8:00-20:00 in Miami: the benchmark measures the
# path, so its clock is fixed at noon there (the intake's real time is still measured).
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--leads", type=int, default=200)
    ap.add_argument("--rate", type=float, default=5.0, help="form posts per second")
    add_arguments(ap)
    args = ap.parse_args()

    bot = await start_bot(args)
    rasa_url = bot.url
    twilio = await FakeTwilio().start()
    port = free_port()
    settings = load_settings(
        env="test", var_dir=Path(tempfile.mkdtemp()), port=port,
        public_url=f"https://bench.example:{port}", rasa_url=rasa_url,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url, admin_token="a",
        session_secret="s", intake_token=KEY,
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
    )
    runner = web.AppRunner(create_app(settings, clock=lambda: NOON), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    posted: dict[str, float] = {}
    answers: list[float] = []
    errors = 0
    try:
        async with aiohttp.ClientSession() as http:
            async def one(i: int) -> None:
                nonlocal errors
                phone = f"+1305555{i % 10000:04d}"
                body = {"source": "website", "external_id": f"bench-{i}",
                        "name": f"Lead {i}", "phone": phone,
                        "message": MESSAGES[i % len(MESSAGES)],
                        "listing": {"address": f"{100 + i} Palm Ave"},
                        "consent": {"text": "I agree to be texted about my inquiry."}}
                t0 = time.perf_counter()
                posted[phone] = t0
                async with http.post(f"http://127.0.0.1:{port}/api/leads", json=body,
                                     headers={"Authorization": f"Bearer {KEY}"}) as r:
                    await r.read()
                    if r.status != 201:
                        errors += 1
                answers.append(time.perf_counter() - t0)

            kind = bot.kind
            print(f"posting {args.leads} form leads at {args.rate}/s ({kind} Rasa)...",
                  flush=True)
            tasks = []
            start = time.perf_counter()
            for i in range(args.leads):
                tasks.append(asyncio.create_task(one(i)))
                await asyncio.sleep(max(0.0, start + (i + 1) / args.rate - time.perf_counter()))
            await asyncio.gather(*tasks)
            first: dict[str, float] = {}
            deadline = time.perf_counter() + 120
            while len(first) < len(posted) and time.perf_counter() < deadline:
                for s in twilio.sent:
                    if s.to in posted:
                        first[s.to] = min(first.get(s.to, s.at), s.at)
                await asyncio.sleep(0.02)
    finally:
        await runner.cleanup()
        await twilio.stop()
        await bot.stop()
    touch = [first[p] - posted[p] for p in first]
    db = "postgresql" if settings.resolved_database_url().startswith("postgresql") else "sqlite"
    result = {
        "bench": "intake_first_touch", "rasa": kind, "database": db, "leads": args.leads,
        "rate": args.rate, "touched": len(touch), "errors": errors,
        "answer_p50_ms": round(pct(answers, 50) * 1000, 1),
        "answer_p99_ms": round(pct(answers, 99) * 1000, 1),
        "first_text_p50_s": round(pct(touch, 50), 3) if touch else None,
        "first_text_p99_s": round(pct(touch, 99), 3) if touch else None,
        "first_text_max_s": round(max(touch), 3) if touch else None,
    }
    print(f"\n| form posts | {args.leads} at {args.rate}/s, {kind} Rasa, {db} |")
    print("| --- | --- |")
    print(f"| API answer p50 / p99 | {result['answer_p50_ms']} ms / {result['answer_p99_ms']} ms |")
    print(f"| post → first text p50 / p99 / max | {result['first_text_p50_s']} s / "
          f"{result['first_text_p99_s']} s / {result['first_text_max_s']} s |")
    print(f"| leads texted | {len(touch)} of {args.leads} (errors {errors}) |")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
