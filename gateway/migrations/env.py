"""Alembic environment: async engines; on PostgreSQL an advisory lock serialises concurrent
starts (several gateway and worker processes may migrate at once)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.store.models import Base

config = context.config
target_metadata = Base.metadata
_LOCK_ID = 0x50524F4E  # "PRON"


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_lock({_LOCK_ID})"))
            await conn.commit()
        try:
            await conn.run_sync(_run)
            await conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK_ID})"))
                await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
