"""Retries and races never create duplicates (issue 13, "one lead per person"): a new phone's
first messages delivered at once, with different MessageSids and with one MessageSid ten
times, on SQLite and on PostgreSQL (TEST_DATABASE_URL), through the webhook and, as after a
partition handover when two workers hold one person's messages, straight into the pipeline.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import func, select

from gateway.keys import PIPELINE
from gateway.messages import Inbound
from gateway.store.models import Identity, Lead, Message
from tests.conftest import wait_until

PHONE = "+13055550140"


async def count(stack: Any, model: Any, *where: Any) -> int:
    async with stack.services.store.maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def settle(stack: Any, inbound: int) -> None:
    async def stored() -> bool:
        return await count(stack, Message, Message.direction == "in") >= inbound
    await wait_until(stored, timeout=20, what=f"{inbound} inbound messages stored")
    await asyncio.sleep(0.5)  # anything still running would show up now


async def test_concurrent_first_messages_make_one_lead(make_stack: Any) -> None:
    async with make_stack() as stack:
        sids = ["SM" + secrets.token_hex(16) for _ in range(10)]
        await asyncio.gather(*(stack.sms(f"hello {i}", phone=PHONE, sid=sid)
                               for i, sid in enumerate(sids)))
        await settle(stack, 10)
        assert await count(stack, Lead) == 1
        assert await count(stack, Identity, Identity.address == PHONE) == 1
        assert await count(stack, Message, Message.direction == "in") == 10


async def test_one_message_sid_ten_times_is_stored_and_answered_once(make_stack: Any) -> None:
    async with make_stack() as stack:
        sid = "SM" + secrets.token_hex(16)
        replies = await asyncio.gather(*(stack.sms("hello", phone=PHONE, sid=sid)
                                         for _ in range(10)))
        assert all(r.status == 200 for r in replies)
        await settle(stack, 1)
        await stack.twilio.wait_for(PHONE, 1)
        await asyncio.sleep(0.5)
        assert await count(stack, Lead) == 1
        assert await count(stack, Identity) == 1
        assert await count(stack, Message, Message.provider_id == sid) == 1
        assert len(stack.twilio.to(PHONE)) == 1  # one reply


async def test_racing_workers_make_one_lead_and_one_message(make_stack: Any) -> None:
    """Two workers on one person (a partition handover): the unique constraints decide."""
    async with make_stack(run_workers=False) as stack:
        pipeline = stack.app[PIPELINE]

        def inbound(sid: str, text: str) -> Inbound:
            return Inbound(channel="sms", provider_id=sid, address=PHONE, text=text,
                           to="+13055550100")

        await asyncio.gather(*(pipeline.inbound(inbound("SM" + secrets.token_hex(16), f"hi {i}"))
                               for i in range(10)))
        assert await count(stack, Lead) == 1
        assert await count(stack, Identity) == 1
        assert await count(stack, Message, Message.direction == "in") == 10

        sid = "SM" + secrets.token_hex(16)
        await asyncio.gather(*(pipeline.inbound(inbound(sid, "same")) for _ in range(10)))
        assert await count(stack, Message, Message.provider_id == sid) == 1
        await asyncio.sleep(0.5)
        async with stack.services.store.maker() as s:
            msg = await s.scalar(select(Message).where(Message.provider_id == sid))
            assert msg is not None
            replies = await s.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "out", Message.author == "bot",
                Message.id > msg.id, Message.text.like("Hi! I'm%")))
        # The messages before it were answered too; after it, exactly one answer more at most
        # per message that came after it (none did).
        assert replies == 1
