"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and the
real trained Rasa model for the conversation test.

The Rasa server is the session's (tests/conftest.py `rasa_url`), which reaches this session's
own action server.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="session")
def browser_rasa_url(rasa_url: str) -> str:
    """The session's real Rasa (shared with the end-to-end tests)."""
    return rasa_url
