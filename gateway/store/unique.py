"""Insert a row unless one with the same unique key exists, in one statement.

A redelivered webhook, or two processes after a partition handover, may try to store the same
provider message (or identity) twice; a unique constraint decides. The ORM way to survive the
loser's IntegrityError is a savepoint around the flush: SAVEPOINT, INSERT, RELEASE, three round
trips for every message. `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL, SQLite ≥
3.35) is one, and the loser gets no row instead of an exception.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
"""The dialects Pronto runs on (DESIGN.md), each with its own ON CONFLICT construct."""


async def insert_unless_exists(session: AsyncSession, obj: T) -> T | None:
    """Insert the transient `obj` unless its unique key is taken.

    Args:
        session: The transaction to insert in.
        obj: A new, unsaved ORM object; only the attributes set on it are inserted (the
            columns' defaults fill the rest, as a flush would).

    Returns:
        The stored row as a persistent object of the session (not `obj` itself: read ids
        and defaults from it), or None when a row with the same unique key exists already.
    """
    state = inspect(obj)
    mapper = state.mapper
    values: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        value = state.dict.get(attr.key)
        # As a flush does: a None is left to the column's default (SQL NULL), except for
        # types that store None as a value of their own (JSON's "null").
        if value is not None or (attr.key in state.dict
                                 and attr.columns[0].type.should_evaluate_none):
            values[attr.key] = value
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect not in _INSERTS:
        raise NotImplementedError(f"insert_unless_exists: no ON CONFLICT for {dialect!r}")
    stmt = _INSERTS[dialect](mapper.class_).values(**values).on_conflict_do_nothing()
    stored = await session.scalars(stmt.returning(mapper.class_))
    row: T | None = stored.first()
    return row
