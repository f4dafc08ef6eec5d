"""What a bot turn costs in SQL, counted on the real database (SQLite or PostgreSQL) through the
real pipeline: the texts of one turn are one INSERT (sent in their order), and a new lead's
first answer schedules its follow-up without an UPDATE that could only find nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import event, select

from gateway.followup.silent import KINDS
from gateway.store.models import AuditEvent, Message, Timer
from tests.conftest import wait_until
from tests.fakes.rasa import FakeRasa

PHONE = "+13055550177"
TEXTS = ["Hi! I'm the assistant.", "A couple of quick questions first.",
         "Are you looking to buy, sell or rent?"]


class ThreeTexts(FakeRasa):
    """Answers every message with three texts and a question left open (like action_converse)."""

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        to = body["sender"]
        return web.json_response(
            [{"recipient_id": to, "text": t} for t in TEXTS]
            + [{"recipient_id": to, "custom": {"pronto": "progress", "pending": "lead_intent",
                                               "facts": {}}}])


@contextmanager
def statements(stack: Any) -> Iterator[list[str]]:
    """Every SQL statement the stack's engine sends while the block runs (one entry a round
    trip: an INSERT of several rows in one statement is one entry)."""
    engine = stack.services.store.maker.kw["bind"].sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count(seen: list[str], prefix: str) -> int:
    return sum(1 for s in seen if s.startswith(prefix))


async def _all_sent(rows: Callable[[], Awaitable[list[Any]]]) -> bool:
    found = await rows()
    return len(found) == len(TEXTS) and all(r.provider_id for r in found)


async def test_a_turns_texts_are_one_insert_and_go_out_in_order(make_stack: Any) -> None:
    rasa = await ThreeTexts().start()
    try:
        async with make_stack(fake_rasa=rasa) as stack:
            with statements(stack) as seen:
                await stack.sms("Hi, looking for a condo", phone=PHONE)
                sent = await stack.twilio.wait_for(PHONE, count=3, timeout=15)
            assert [s.body for s in sent] == TEXTS  # in the bot's order
            # The lead's message is one INSERT, the turn's three texts one more (were three).
            # SQLite's driver has no sentinel to match RETURNING rows to several inserted
            # ones, so SQLAlchemy inserts there a row at a time (the ids in order all the same).
            engine = stack.services.store.maker.kw["bind"]
            texts_inserts = 1 if engine.dialect.name == "postgresql" else len(TEXTS)
            assert count(seen, "INSERT INTO messages") == 1 + texts_inserts, seen

            async def rows() -> list[Any]:
                async with stack.services.store.maker() as session:
                    return list((await session.execute(
                        select(Message.id, Message.text, Message.provider_id)
                        .where(Message.direction == "out").order_by(Message.id))).all())

            await wait_until(lambda: _all_sent(rows), what="the three sends recorded")
            assert [r.text for r in await rows()] == TEXTS  # ids follow the bot's order
    finally:
        await rasa.stop()


async def test_a_new_leads_first_answer_schedules_its_follow_up_without_an_update(
        make_stack: Any) -> None:
    async with make_stack() as stack:

        async def pending() -> list[Timer]:
            async with stack.services.store.maker() as session:
                return list(await session.scalars(select(Timer).where(
                    Timer.kind.in_(KINDS), Timer.status == "pending")))

        with statements(stack) as seen:
            await stack.sms("Hi, looking for a place in Doral", phone=PHONE)
            await stack.twilio.wait_for(PHONE, count=1, timeout=15)
        assert count(seen, "UPDATE timers") == 0, seen
        assert count(seen, "INSERT INTO timers") == 1
        [first] = await pending()
        # The next answer moves that one follow-up in place: still one, the same row.
        with statements(stack) as seen:
            await stack.sms("I want to buy", phone=PHONE)
            await stack.twilio.wait_for(PHONE, count=2, timeout=15)
        assert count(seen, "UPDATE timers") == 1 and count(seen, "INSERT INTO timers") == 0
        assert [t.id for t in await pending()] == [first.id]


async def test_a_new_leads_created_and_opened_events_are_one_insert_in_order(
        make_stack: Any) -> None:
    async with make_stack() as stack:
        with statements(stack) as seen:
            await stack.sms("Hi, looking for a place in Doral", phone=PHONE)
            await stack.twilio.wait_for(PHONE, count=1, timeout=15)
        async with stack.services.store.maker() as session:
            types = list(await session.scalars(
                select(AuditEvent.type).order_by(AuditEvent.id)))
        assert types[:2] == ["lead.created", "conversation.opened"], types  # still in order
        # Recorded in one flush (with the message): on PostgreSQL one INSERT of both rows,
        # the only audit INSERT of the whole first turn (SQLite's driver inserts a row at a
        # time, see above). They were two flushes apart.
        engine = stack.services.store.maker.kw["bind"]
        audits = count(seen, "INSERT INTO audit_events")
        assert audits == (1 if engine.dialect.name == "postgresql" else 2), seen
