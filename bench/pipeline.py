"""Pipeline benchmark: signed Twilio webhooks in, replies out through the real twilio client.

Starts the gateway in-process (embedded Redis or REDIS_URL, SQLite or DATABASE_URL), a fake
Twilio API, and uses the real Rasa + action server when `--rasa URL` is given (or starts them
from .venv-rasa with `--start-rasa`); otherwise a fake Rasa that answers at once, which
measures Pronto's own overhead. Prints measured figures; it is not a test.

    .venv/bin/python bench/pipeline.py --messages 200 --rate 20 --start-rasa
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bot_under_test import add_arguments, start_bot  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config.settings import load_settings  # noqa: E402
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, free_port, sign  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

TEXTS = ["Hi, I want to buy a house in Miami", "Hola, busco casa de 3 recamaras en Doral",
         "is the condo on Brickell still available?", "quiero vender mi departamento"]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0, help="webhooks offered per second")
    add_arguments(ap)
    args = ap.parse_args()

    bot = await start_bot(args)
    rasa_url = bot.url
    twilio = await FakeTwilio().start()
    port = free_port()
    tmp = Path(tempfile.mkdtemp())
    settings = load_settings(
        env="test", var_dir=tmp, port=port, public_url=f"https://bench.example:{port}",
        rasa_url=rasa_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url, admin_token="a",
        session_secret="s", ack_budget_seconds=2.5,
        database_url=os.environ.get("DATABASE_URL", ""), redis_url=os.environ.get("REDIS_URL", ""),
    )
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"{settings.public_url}/webhooks/twilio"
    answer: list[float] = []
    sent_at: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as http:
            async def one(i: int) -> None:
                phone = f"+1305555{i:04d}"
                params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                          "From": phone, "To": FROM_NUMBER, "Body": TEXTS[i % len(TEXTS)],
                          "NumMedia": "0"}
                t0 = time.perf_counter()
                sent_at[phone] = t0
                async with http.post(f"http://127.0.0.1:{port}/webhooks/twilio", data=params,
                                     headers={"X-Twilio-Signature": sign(url, params)}) as r:
                    await r.read()
                    assert r.status == 200, r.status
                answer.append(time.perf_counter() - t0)

            print(f"offering {args.messages} webhooks at {args.rate}/s "
                  f"({bot.kind} Rasa)...", flush=True)
            tasks = []
            start = time.perf_counter()
            for i in range(args.messages):
                tasks.append(asyncio.create_task(one(i)))
                await asyncio.sleep(max(0.0, start + (i + 1) / args.rate - time.perf_counter()))
            await asyncio.gather(*tasks)
            first_send: dict[str, float] = {}
            deadline = time.perf_counter() + 120
            while len(first_send) < args.messages and time.perf_counter() < deadline:
                for s in twilio.sent:
                    first_send[s.to] = min(first_send.get(s.to, s.at), s.at)
                await asyncio.sleep(0.01)
    finally:
        await runner.cleanup()
        await twilio.stop()
        await bot.stop()
    e2e = [first_send[p] - sent_at[p] for p in first_send]
    print(f"\nwebhook answer (ms):      p50 {pct(answer, 50) * 1000:.1f}  "
          f"p99 {pct(answer, 99) * 1000:.1f}  max {max(answer) * 1000:.1f}")
    print(f"webhook → outbound (ms):  p50 {pct(e2e, 50) * 1000:.1f}  p99 {pct(e2e, 99) * 1000:.1f}"
          f"  max {max(e2e) * 1000:.1f}  (n={len(e2e)} of {args.messages})")
    print(f"mean webhook → outbound: {statistics.mean(e2e) * 1000:.1f} ms")
    db = "postgresql" if settings.resolved_database_url().startswith("postgresql") else "sqlite"
    print(json.dumps({"bench": "pipeline", "rasa": bot.kind,
                      "database": db, "messages": args.messages, "rate": args.rate,
                      "answered": len(e2e),
                      "webhook_p50_ms": round(pct(answer, 50) * 1000, 1),
                      "webhook_p99_ms": round(pct(answer, 99) * 1000, 1),
                      "first_out_p50_s": round(pct(e2e, 50), 3),
                      "first_out_p99_s": round(pct(e2e, 99), 3)}))


if __name__ == "__main__":
    asyncio.run(main())
