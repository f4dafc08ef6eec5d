"""SQL engine, sessions and migrations (Alembic, run on start)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
POOL_SIZE = 20
"""Connections a PostgreSQL engine keeps (`make_engine`); a worker opens them at start."""
log = logging.getLogger(__name__)


def make_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL and a busy timeout so workers can share it.

    `pre_ping` tests a pooled PostgreSQL connection before each use: with asyncpg that is
    three round trips (BEGIN, an empty query, ROLLBACK) per checkout, so a worker, which
    retries an event whose connection died (`gateway.worker.TRANSIENT`), does without it.

    `hide_parameters`: an SQL error (and its log line or traceback) shows the statement but
    never the bound values, which are phone numbers, message bodies and names.
    """
    if url.startswith("sqlite"):
        if "///" in url:
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(
        # A worker has up to `worker_in_flight` (32) events at once, most of them waiting for
        # Rasa with no connection; 20 kept connections cover the rest, so overflow connections
        # (opened and closed again, their prepared statements with them) stay rare. Three
        # processes stay under PostgreSQL's default 100 connections. The statement cache holds
        # every statement the ORM emits (each set of updated columns is its own statement).
        url, pool_size=POOL_SIZE, max_overflow=10, pool_pre_ping=pre_ping, hide_parameters=True,
        connect_args={"prepared_statement_cache_size": 500},
    )


async def open_pool(engine: AsyncEngine, connections: int = POOL_SIZE) -> int:
    """Open the pool's connections at once and put them back: a worker just started (a deploy,
    a restart) then meets its first burst with its connections open, instead of twenty
    connects (each a TCP and TLS negotiation, a login and asyncpg's type set-up) in front of
    the queue. PostgreSQL only (SQLite's are files); best effort: returns how many opened.
    """
    if engine.dialect.name != "postgresql":
        return 0

    async def one() -> AsyncConnection:
        return await engine.connect()

    opened = await asyncio.gather(*(one() for _ in range(connections)), return_exceptions=True)
    conns = [c for c in opened if isinstance(c, AsyncConnection)]
    for c in conns:
        await c.close()  # back to the pool, open
    failed = [e for e in opened if isinstance(e, BaseException)]
    if failed:
        log.warning("opened %d of %d SQL connections at start (%s); the rest open on use",
                    len(conns), connections, type(failed[0]).__name__)
    return len(conns)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (values are passed on after I/O)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and the given URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


async def migrate(url: str) -> None:
    """Upgrade the database to the newest revision (idempotent; serialised on PostgreSQL)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


@asynccontextmanager
async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in a transaction: commit on success, roll back on error."""
    async with maker() as session, session.begin():
        yield session
