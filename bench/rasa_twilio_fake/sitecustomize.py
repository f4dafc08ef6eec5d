"""Loaded only by the Rasa process of `bench/peer.py` (this folder is put on its PYTHONPATH).

Rasa 3.6's own Twilio connector (`rasa/core/channels/twilio.py`) sends every reply with the
synchronous `twilio.rest.Client`, whose `TwilioHttpClient` posts to https://api.twilio.com.
When PRONTO_BENCH_TWILIO_URL is set, this rewrites that base URL to the benchmark's fake
Twilio API; nothing else about the connector or the client changes. Runs under .venv-rasa
(Python 3.10).
"""

import os

_FAKE = os.environ.get("PRONTO_BENCH_TWILIO_URL", "").rstrip("/")
_REAL = "https://api.twilio.com"

if _FAKE:
    from typing import Any

    from twilio.http import http_client

    _request = http_client.TwilioHttpClient.request

    def _to_fake(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(_REAL):
            url = _FAKE + url[len(_REAL):]
        return _request(self, method, url, *args, **kwargs)

    http_client.TwilioHttpClient.request = _to_fake  # type: ignore[method-assign]
