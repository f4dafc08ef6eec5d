"""A local fake of Rasa's REST channel for tests that are not about the model itself.

It answers in the language given in the metadata, records every request, can be slowed
down or switched off (connection refused), and emits a handoff payload on "agent please".
The real model is exercised in tests/e2e.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

REPLIES = {"en": "Hi! I'm the assistant. Are you looking to buy, sell or rent?",
           "es": "¡Hola! Soy el asistente. ¿Busca comprar, vender o alquilar?"}


@dataclass
class FakeRasa:
    """Fake Rasa server on 127.0.0.1."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    port: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        lang = body.get("metadata", {}).get("language", "en")
        text = str(body.get("message", ""))
        intake = body.get("metadata", {}).get("intake")
        if isinstance(intake, dict):  # Pronto's first touch: the opening names what is known
            opening = (f"[{lang}] Hi {intake.get('name') or 'there'}, this is the "
                       f"{intake.get('brokerage')} assistant about "
                       f"{intake.get('listing') or intake.get('kind')}.")
            return web.json_response([{"recipient_id": body["sender"], "text": opening}])
        if "agent please" in text.lower() or "agente por favor" in text.lower():
            return web.json_response([
                {"recipient_id": body["sender"], "custom": {
                    "pronto": "handoff", "reason": "request_human",
                    "lead": {"intent": "buy", "location": "Miami", "budget_min": 300000,
                             "budget_max": 400000, "timeline_days": 90, "financing": "cash",
                             "bedrooms": 3, "name": "Ana", "language": lang, "score": 80}}},
                {"recipient_id": body["sender"],
                 "text": "{agent_name} will contact you shortly." if lang == "en"
                 else "{agent_name} le contactará en breve."},
            ])
        if "ask my wife" in text.lower():
            return web.json_response([
                {"recipient_id": body["sender"], "custom": {
                    "pronto": "not_understood", "topic": "budget", "attempt": 2,
                    "intent": "inform", "confidence": 0.93}},
                {"recipient_id": body["sender"], "text": "No worries, I've noted that."},
            ])
        if "gibberish" in text.lower():
            return web.json_response([
                {"recipient_id": body["sender"],
                 "custom": {"pronto": "low_confidence", "intent": "inform", "confidence": 0.31}},
                {"recipient_id": body["sender"], "text": "Sorry, could you rephrase?"},
            ])
        # Like action_converse: the question left open (a silent lead gets nudged), the facts.
        progress = {"pronto": "progress", "pending": "lead_intent",
                    "facts": {"location": "Doral"} if "doral" in text.lower() else {}}
        return web.json_response([{"recipient_id": body["sender"], "text": REPLIES[lang]},
                                  {"recipient_id": body["sender"], "custom": progress}])

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz"})

    async def start(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        """Stop answering (connections are refused until `start` again on the same port)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
