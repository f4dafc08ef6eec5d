"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and the
real trained Rasa model for the conversation test.

The Rasa server is started with an endpoints file naming this session's own action server:
bot/endpoints.yml names 127.0.0.1:5055, which is whatever else happens to run there.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import MODEL, RASA, RealRasa, _wait_http

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium; skipped only outside CI when Chromium is not installed."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium missing in CI (.ci/run installs it)")
        pytest.skip("/usr/bin/chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


class _OwnActionsRasa(RealRasa):
    def start_rasa(self, port: int) -> Any:
        endpoints = self.log_dir / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "{self.actions_url}/webhook"\n')
        proc = self._spawn(
            f"rasa-{port}",
            [
                str(RASA),
                "run",
                "--enable-api",
                "--model",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                "bot/credentials.yml",
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
            ],
            self._env(),
        )
        _wait_http(
            f"http://127.0.0.1:{port}/status",
            300,
            self.log_dir / f"rasa-{port}.log",
            need_model=True,
        )
        return proc


@pytest.fixture(scope="session")
def browser_rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Rasa server with the trained model and its own action server, for this session."""
    if not MODEL.exists() or not RASA.exists():
        pytest.fail(f"{MODEL} or {RASA} missing: run `make train` (make test does it first)")
    rr = _OwnActionsRasa(tmp_path_factory.mktemp("browser-rasa"))
    try:
        port = free_port()
        rr.start_rasa(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        rr.close()
