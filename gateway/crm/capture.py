"""The audit listener: every mapped audit event and lead message becomes durable deliveries.

A SQLAlchemy `after_flush` listener on the ORM `Session` (the sync session inside every
`AsyncSession`) looks at the rows the flush just inserted. For each new `AuditEvent` of a
mapped type and each new `Message` with a lead, it inserts one `CrmDelivery` per subscribed
endpoint on the same connection, inside the same transaction: the event is owed iff the state
change commits, and nobody has to remember to call anything.

The listener is installed once per process; the routing (which endpoints, which clock) is
registered per engine by `install`, so several apps in one process (tests) stay apart and an
engine nobody registered pays one dictionary lookup per flush.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, UOWTransaction

from gateway.config.crm import CrmConfig
from gateway.crm.events import event_for_audit, event_for_message
from gateway.store.leads import Store
from gateway.store.models import AuditEvent, CrmDelivery, Message

log = logging.getLogger(__name__)
_OWED = "pronto_crm_owed"


@dataclass(frozen=True)
class Route:
    """What the listener needs for one engine."""

    config: CrmConfig
    clock: Callable[[], datetime]
    wake: Callable[[], None] | None = None
    """Called after a commit that owed deliveries (the local delivery loop starts at once)."""


_ROUTES: weakref.WeakKeyDictionary[Engine, Route] = weakref.WeakKeyDictionary()


def _engine(store: Store) -> Engine:
    bind = store.maker.kw["bind"]
    return bind.sync_engine if hasattr(bind, "sync_engine") else bind  # type: ignore[no-any-return]


def install(
    store: Store,
    config: CrmConfig,
    *,
    clock: Callable[[], datetime],
    wake: Callable[[], None] | None = None,
) -> None:
    """Start recording CRM deliveries for every transaction of `store`.

    Args:
        store: the SQL store whose sessions are watched.
        config: the endpoints and the events each wants.
        clock: the time source (creation time of a delivery; its age counts from it).
        wake: called after a commit that owed deliveries.
    """
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    _ROUTES[_engine(store)] = Route(config, clock, wake)


def uninstall(store: Store) -> None:
    """Stop recording deliveries for `store` (the process-wide listener stays, idle)."""
    _ROUTES.pop(_engine(store), None)


def _route(session: Session) -> Route | None:
    bind = session.bind
    if bind is None:
        return None
    engine = bind if isinstance(bind, Engine) else bind.engine
    return _ROUTES.get(engine)


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    route = _route(session)
    if route is None or not route.config.endpoints:
        return
    # `session.new` still lists what this flush inserted (their ids are assigned now);
    # insert order is the order the code recorded the events in.
    new = sorted(
        (o for o in session.new if isinstance(o, AuditEvent | Message)),
        key=_insert_order,
    )
    rows: list[dict[str, Any]] = []
    now = route.clock()
    for obj in new:
        name, source, data, occurred = _describe(obj, now)
        if name is None:
            continue
        for endpoint in route.config.subscribers(name):
            rows.append({
                "endpoint": endpoint, "event": name, "lead_id": obj.lead_id, "source": source,
                "source_id": obj.id, "data": data, "occurred_at": occurred,
                "status": "pending", "attempts": 0, "next_attempt_at": None,
                "created_at": now,
            })
    if rows:
        session.connection().execute(insert(CrmDelivery), rows)
        session.info[_OWED] = True


def _insert_order(obj: object) -> int:
    # The order the code added the rows to the session (SQLAlchemy keeps it for its own
    # unit of work); ids are only comparable within one table.
    return int(getattr(inspect(obj), "insert_order", 0))


def _describe(
    obj: AuditEvent | Message, now: datetime
) -> tuple[str | None, str, dict[str, Any], datetime]:
    """(event name or None, source kind, event facts, event time) of a new row."""
    if isinstance(obj, AuditEvent):
        data = {"audit_type": obj.type, "agent_id": obj.agent_id, **(obj.data or {})}
        return event_for_audit(obj.type), "audit", data, obj.at or now
    name = event_for_message(obj.direction, obj.author, lead_id=obj.lead_id,
                             agent_id=obj.agent_id)
    data = {
        "message_id": obj.id, "direction": obj.direction, "author": obj.author,
        "channel": obj.channel, "agent_id": obj.agent_id, "language": obj.language,
    }
    return name, "message", data, obj.created_at or now


def _after_commit(session: Session) -> None:
    if session.info.pop(_OWED, False):
        route = _route(session)
        if route is not None and route.wake is not None:
            route.wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(_OWED, None)
