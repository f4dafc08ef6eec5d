"""Times read back from SQL, with their zone: SQLite returns naive datetimes even for
`timezone=True` columns (Pronto stores UTC), PostgreSQL returns them aware. One helper for
every reader, so a comparison never mixes naive and aware times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(d: datetime) -> datetime: ...


@overload
def as_utc(d: None) -> None: ...


def as_utc(d: datetime | None) -> datetime | None:
    """`d` with its zone: a naive time is UTC (how Pronto stores times); None stays None."""
    if d is None:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)
