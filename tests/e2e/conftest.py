"""End-to-end tests run against the real Rasa server (fixtures `real_rasa` and `rasa_url` in
tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """End-to-end tests run on SQLite only (PostgreSQL is covered by the integration suite)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'pronto.db'}"
