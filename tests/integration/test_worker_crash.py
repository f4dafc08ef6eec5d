"""A worker process killed mid-message: the message is processed after restart, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.store.models import Message
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, free_port, wait_until
from tests.fakes.rasa import FakeRasa

PHONE = "+13055550123"


def _redis_url(stack: Any) -> str:
    return str(stack.settings.redis_url)


async def _start_worker(stack: Any, log: Path, **extra: str) -> asyncio.subprocess.Process:
    s = stack.settings
    env = {
        **os.environ,
        "PRONTO_ENV": "test",
        "PRONTO_VAR_DIR": str(s.var_dir),
        "DATABASE_URL": s.resolved_database_url(),
        "REDIS_URL": _redis_url(stack),
        "RASA_URL": s.rasa_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "PRONTO_TWILIO_API_URL": s.twilio_api_url,
        "PRONTO_ADMIN_TOKEN": "x",
        "PRONTO_SESSION_SECRET": "y",
        "PRONTO_PARTITIONS": str(s.partitions),
        "PRONTO_LEASE_SECONDS": str(s.lease_seconds),
        "PRONTO_ACK_BUDGET": str(s.ack_budget_seconds),
        **extra,
    }
    with log.open("ab") as fh:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "worker", env=env, stdout=fh, stderr=fh,
            start_new_session=True,
        )


async def test_killed_worker_message_is_processed_once_after_restart(
    make_stack: Any, tmp_path: Path
) -> None:
    rasa = await FakeRasa(delay=4.0).start()
    try:
        async with make_stack(fake_rasa=rasa, run_workers=False, ack_budget_seconds=30.0,
                              lease_seconds=2.0) as stack:
            log = tmp_path / "worker.log"
            first = await _start_worker(stack, log)
            await stack.sms("Hi, I want to buy a house", sid="SM" + "d" * 32)

            async def rasa_called() -> bool:
                return len(rasa.requests) == 1
            await wait_until(rasa_called, timeout=30, what="first worker to reach Rasa")
            first.send_signal(signal.SIGKILL)  # mid-message: Rasa has not answered yet
            await first.wait()
            assert stack.twilio.sent == []
            assert await stack.services.queue.depth() == 1  # still pending in the stream

            rasa.delay = 0.0
            port = free_port()
            second = await _start_worker(stack, log, PRONTO_WORKER_METRICS_PORT=str(port))
            try:
                sent = await stack.twilio.wait_for(PHONE, timeout=30)
                await asyncio.sleep(1.5)
                assert len(stack.twilio.to(PHONE)) == 1, log.read_text()[-2000:]
                assert sent[0].body.startswith("Hi! I'm the assistant")
                async with stack.services.store.maker() as s:
                    rows = (await s.execute(select(Message).where(
                        Message.direction == "in"))).scalars().all()
                assert len(rows) == 1 and rows[0].bot_status == "done"
                assert await stack.services.queue.depth() == 0
                # The worker did the work, so its own metrics endpoint shows it.
                async with stack.http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    body = await resp.text()
                assert 'pronto_outbound_total{channel="sms",status=' in body
                assert "pronto_bot_seconds_count 1.0" in body
            finally:
                second.send_signal(signal.SIGTERM)
                await asyncio.wait_for(second.wait(), 20)
            assert second.returncode == 0, log.read_text()[-2000:]
    finally:
        await rasa.stop()
