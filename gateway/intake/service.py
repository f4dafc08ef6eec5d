"""The intake service: what forms, lead emails and missed calls share.

`take` records a delivery (one lead per person, the consent basis, the source's id) and queues
the first touch on the lead's own queue key, so it runs in order with the lead's messages. A
repeated delivery whose touch has not run yet is queued again (the touch itself runs once).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from sqlalchemy.exc import OperationalError

from gateway.config.intake import IntakeConfig
from gateway.intake.record import INTAKE_EVENT, TOUCH_PENDING, Accepted, IntakeLead, accept
from gateway.services import Services

SQLITE_RETRIES = 8
_SPANISH_PAGE = re.compile(r"(/es(/|$|\?)|[?&](lang|hl|language)=es\b|\.es/)", re.I)


class Intake:
    """Turns intake deliveries into leads and first touches."""

    def __init__(self, services: Services, config: IntakeConfig) -> None:
        self.s = services
        self.config = config

    def language_of(self, item: IntakeLead, to: str = "") -> str:
        """The lead's language: the form's, else its page's, else its words, else the number's
        (or the source's) default."""
        if item.language:
            return item.language
        if item.page_url and _SPANISH_PAGE.search(item.page_url):
            return "es"
        settings = self.s.settings
        default = (settings.numbers.get(to) if to else None) or \
            self.config.source(item.source).language or settings.default_language
        if item.message.strip():
            return self.s.language.decide(item.message, previous=None, fallback=default).language
        return default

    async def take(self, item: IntakeLead, *, to: str = "") -> Accepted:
        """Record one delivery and queue its first touch.

        Args:
            item: the delivery, validated.
            to: the business number it reached (calls), for that number's default language.
        """
        language = self.language_of(item, to)
        item = replace(item, language=language)
        for attempt in range(SQLITE_RETRIES):
            try:
                async with self.s.store.transaction() as session:
                    result = await accept(session, item)
                break
            except OperationalError as exc:
                # SQLite (the embedded default) refuses a read-then-write transaction whose
                # snapshot another writer moved on ("database is locked", no busy wait): run
                # it again. PostgreSQL never raises this here.
                if "locked" not in str(exc.orig) or attempt == SQLITE_RETRIES - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
        if result.touch == TOUCH_PENDING and result.queue_key:
            # After the commit: the worker must find the record. If Redis fails here the
            # caller answers 5xx, the source retries, and the repeat queues it again.
            await self.s.queue.enqueue(result.queue_key, INTAKE_EVENT,
                                       {"intake_id": result.record_id})
        return result
