"""CRM push through the real stack (fake Rasa, fake Twilio, real Redis and SQL): a lead from
first message to accept to close reaches a signed-webhook receiver, Follow Up Boss's fake and
an SMTP server, every event in order; dead letters are listed and re-sent by the admin API."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from gateway.store.models import Conversation, CrmDelivery
from tests.conftest import wait_until
from tests.fakes.fub_api import FakeFub
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.webhook_receiver import FakeReceiver
from tests.integration.handoff_harness import MONDAY_10AM, Clock

PHONE = "+13055550166"
AGENT_PHONES = ("+13055550101", "+13055550102", "+13055550103", "+13055550104")  # agents.yml
SECRET = "whsec-test-0123456789"
FUB_KEY = "fub-api-key-123"
ADMIN = {"Authorization": "Bearer admin-test-token"}
LIFECYCLE = [
    "lead.created", "message.in", "message.out",          # "Hi, I'd like to buy a house"
    "message.in", "lead.qualified", "handoff.offered",    # "agent please": the bot hands off
    "message.out",                                        # the lead is told who will help
    "handoff.accepted", "message.out",                    # ACCEPT; the lead is told
    "lead.closed",                                        # DONE <code> won
]


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    r = await FakeReceiver(SECRET).start()
    yield r
    await r.stop()


def crm(receiver: FakeReceiver, **extra: Any) -> dict[str, Any]:
    hook = {"name": "hook", "kind": "webhook", "url": receiver.url, "secret": SECRET,
            "events": ["*"], "include_text": True}
    return {"endpoints": [hook, *extra.pop("more", [])], "poll_seconds": 0.05, **extra}


async def status(stack: Any) -> str | None:
    async with stack.services.store.maker() as s:
        return await s.scalar(select(Conversation.status).order_by(Conversation.id.desc()))


async def lead_to_close(stack: Any) -> None:
    """First message → bot → handoff → ACCEPT → DONE won, as a prospect and an agent do."""
    await stack.sms("Hi, I'd like to buy a house", phone=PHONE)
    await stack.twilio.wait_for(PHONE)
    await stack.sms("agent please", phone=PHONE)

    def alerts() -> list[Any]:
        return [m for m in stack.twilio.sent if m.to in AGENT_PHONES]

    async def alerted() -> bool:
        return bool(alerts())

    await wait_until(alerted, what="an agent alert")
    alert = alerts()[0]
    code = re.search(r"\b(\d{4,6})\b", alert.body)
    assert code, alert.body
    await stack.twilio.wait_for(PHONE, 2)
    await stack.sms(f"ACCEPT {code.group(1)}", phone=alert.to)

    async def owned() -> bool:
        return await status(stack) == "agent"

    await wait_until(owned, what="the accept")
    await stack.twilio.wait_for(PHONE, 3)
    await stack.sms(f"DONE {code.group(1)} won", phone=alert.to)

    async def closed() -> bool:
        return await status(stack) == "closed"

    await wait_until(closed, what="the close")


async def test_a_lead_from_first_message_to_close_reaches_every_crm_in_order(
    make_stack: Any, receiver: FakeReceiver,
) -> None:
    fub = await FakeFub(FUB_KEY).start()
    smtp = await FakeSmtp().start()
    more = [
        {"name": "fub", "kind": "fub", "url": fub.url, "secret": FUB_KEY, "system": "Pronto",
         "events": ["lead.created", "lead.qualified", "handoff.accepted", "lead.closed"]},
        {"name": "mail", "kind": "email", "url": f"smtp://127.0.0.1:{smtp.port}",
         "to": ["leads@crm.example"], "sender": "pronto@realty.example",
         "events": ["lead.qualified"]},
    ]
    try:
        async with make_stack(clock=Clock(MONDAY_10AM), crm=crm(receiver, more=more)) as stack:
            await lead_to_close(stack)
            await receiver.wait_for(len(LIFECYCLE))

            async def drained() -> bool:
                async with stack.services.store.maker() as s:
                    rows = (await s.scalars(select(CrmDelivery.status))).all()
                return bool(rows) and set(rows) == {"delivered"}

            await wait_until(drained, what="every delivery delivered")
    finally:
        await fub.stop()
        await smtp.stop()

    # The webhook: the full sequence, in order, each signature verified, each delivery once.
    assert receiver.events() == LIFECYCLE
    assert all(r.valid for r in receiver.requests)
    assert len({r.delivery for r in receiver.requests}) == len(receiver.requests)
    bodies = [r.json for r in receiver.accepted]
    assert [b["type"] for b in bodies] == [r.event for r in receiver.accepted]  # Pronto-Event
    lead = bodies[-1]["lead"]
    assert lead["phone"] == PHONE and lead["name"] == "Ana"
    assert lead["qualification"]["intent"] == "buy" and lead["score"] == 80
    assert lead["transcript_url"].endswith(f"/admin/leads/{lead['id']}")
    assert bodies[1]["data"]["text"] == "Hi, I'd like to buy a house"  # include_text
    accepted = bodies[LIFECYCLE.index("handoff.accepted")]
    assert accepted["agent"]["name"] and accepted["agent"]["key"]
    assert bodies[-1]["data"]["outcome"] == "won"

    # Follow Up Boss: the person from the Events API, then notes as the lead moved.
    assert all(r.headers["Authorization"] == "Basic " + base64.b64encode(
        f"{FUB_KEY}:".encode()).decode() for r in fub.requests)
    assert all(r.headers["X-System"] == "Pronto" for r in fub.requests)
    [person] = fub.people.values()
    assert person["phones"] == [{"value": PHONE}] and person["firstName"] == "Ana"
    assert person["events"] == ["General Inquiry", "General Inquiry"]
    first = fub.requests[0]
    assert (first.path, first.body["type"], first.body["system"]) == (
        "/v1/events", "General Inquiry", "Pronto")
    assert first.body["source"] == "sms"
    assert fub.requests[1].body["person"]["id"] == person["id"]  # the same person, by id
    subjects = [n["subject"] for n in fub.notes]
    assert subjects == ["Qualified by Pronto", "Accepted by an agent", "Conversation closed"]
    assert all(n["personId"] == person["id"] for n in fub.notes)
    qualified = fub.notes[0]["body"]
    assert "buy" in qualified and "Miami" in qualified and "score 80" in qualified
    assert f"/admin/leads/{lead['id']}" in qualified  # the transcript link
    assert "won" in fub.notes[-1]["body"]

    # The email CRM: one lead email in the lead-metadata convention.
    [mail] = smtp.mails
    assert mail.recipients == ["leads@crm.example"]
    text = mail.message.get_content()
    for line in ("Name: Ana", f"Phone: {PHONE}", "Email: ", "Source: sms",
                 "Event: lead.qualified"):
        assert line in text, text
    assert re.search(r"^Message: .*buy.*Miami", text, re.M), text


async def test_dead_letters_are_listed_and_resent_by_the_admin_api(
    make_stack: Any, receiver: FakeReceiver,
) -> None:
    receiver.down = True
    retry = {"max_attempts": 2, "base_seconds": 0.01, "max_backoff_seconds": 0.02}
    async with make_stack(crm=crm(receiver, retry=retry)) as stack:
        await stack.sms("hello there", phone=PHONE)
        api = f"{stack.base}/admin/api/crm/deliveries"

        async def dead() -> list[dict[str, Any]]:
            async with stack.http.get(api, params={"status": "dead"}, headers=ADMIN) as r:
                assert r.status == 200
                return await r.json()  # type: ignore[no-any-return]

        async def three_dead() -> bool:
            return len(await dead()) == 3

        await wait_until(three_dead, what="three dead letters")
        letters = await dead()
        assert [d["event"] for d in letters] == ["lead.created", "message.in", "message.out"]
        assert all(d["attempts"] == 2 and d["last_error"] == "http 503" for d in letters)
        assert len(receiver.requests) == 6 and receiver.accepted == []

        async with stack.http.get(api, params={"status": "dead"}) as r:
            assert r.status == 401  # behind the admin token
        async with stack.http.post(f"{api}/{letters[0]['id']}/resend") as r:
            assert r.status == 401
        async with stack.http.post(f"{api}/999999/resend", headers=ADMIN) as r:
            assert r.status == 404

        receiver.down = False
        for letter in letters:
            async with stack.http.post(f"{api}/{letter['id']}/resend", headers=ADMIN) as r:
                assert r.status == 202
                assert (await r.json())["status"] in ("pending", "delivered")
        await receiver.wait_for(3)
        assert receiver.events() == ["lead.created", "message.in", "message.out"]
        assert [r.delivery for r in receiver.accepted] == [str(d["id"]) for d in letters]
        assert await dead() == []
        async with stack.http.get(api, params={"status": "delivered"}, headers=ADMIN) as r:
            assert len(await r.json()) == 3
        async with stack.http.get(api, params={"status": "bogus"}, headers=ADMIN) as r:
            assert r.status == 400
