"""Alembic migrations produce exactly the schema the models describe (SQLite, and PostgreSQL
when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.store.db import migrate
from gateway.store.models import Base


async def test_migrations_match_models(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)  # idempotent: a second start changes nothing
    engine = create_async_engine(database_url)

    def diff(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    await engine.dispose()
    assert changes == [], f"models and migrations differ: {changes}"
