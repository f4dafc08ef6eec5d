"""SQL errors never show bound values (phones, message bodies): the engine hides them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gateway.app import quiet_loggers
from gateway.store.db import make_engine

PHONE = "+13055550123"
BODY = "my ssn is 078-05-1120, call me"


async def test_an_sql_error_shows_the_statement_but_not_the_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_loggers()  # aiosqlite logs every statement with its values at DEBUG
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (phone TEXT UNIQUE, body TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES (:p, :b)"), {"p": PHONE, "b": BODY})
            with pytest.raises(IntegrityError) as caught:
                await conn.execute(text("INSERT INTO t VALUES (:p, :b)"),
                                   {"p": PHONE, "b": BODY})
    finally:
        await engine.dispose()
    shown = str(caught.value)
    assert "INSERT INTO t" in shown and "parameters hidden" in shown
    assert PHONE not in shown and BODY not in shown
    assert PHONE not in caplog.text and BODY not in caplog.text


def test_the_postgresql_engine_hides_them_too() -> None:
    engine = make_engine("postgresql+asyncpg://pronto:secret@127.0.0.1:1/pronto")
    assert engine.sync_engine.hide_parameters
    assert make_engine("sqlite+aiosqlite://").sync_engine.hide_parameters
