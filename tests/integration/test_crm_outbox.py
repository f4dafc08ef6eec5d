"""The CRM outbox on real SQL with a controllable clock: an event is owed iff its transaction
commits, a receiver down for a minute (503, then refusing connections) loses nothing and keeps
each lead's order, two processes never deliver one event twice, refusals are dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from gateway.config.crm import CrmConfig, build_crm_config
from gateway.crm import Dispatcher, build_senders, install, transcript_links, uninstall
from gateway.store.leads import audit
from gateway.store.models import CrmDelivery
from tests.fakes.fub_api import FakeFub
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.webhook_receiver import FakeReceiver
from tests.integration.handoff_harness import Harness, harness

SECRET = "whsec-outbox-test"
RETRY = {"max_attempts": 30, "base_seconds": 2, "max_backoff_seconds": 8}


@asynccontextmanager
async def pushing(h: Harness, endpoints: list[dict[str, Any]], **section: Any
                  ) -> AsyncIterator[tuple[Dispatcher, CrmConfig]]:
    """The audit listener on the harness's store and a dispatcher on its clock (no loop:
    the test runs passes itself)."""
    config = build_crm_config({"endpoints": endpoints, "retry": RETRY, **section}, environ={})
    install(h.store, config, clock=h.clock)
    async with aiohttp.ClientSession() as http:
        d = Dispatcher(h.store, config, build_senders(config, http), clock=h.clock,
                       transcript_url=transcript_links(h.handoff.services.settings),
                       owner="p1", rng=lambda: 0.5)
        try:
            yield d, config
        finally:
            uninstall(h.store)


def hook(receiver: FakeReceiver) -> dict[str, Any]:
    return {"name": "hook", "kind": "webhook", "url": receiver.url, "secret": SECRET,
            "events": ["*"]}


async def drain(h: Harness, d: Dispatcher, *, step: float = 1.0, rounds: int = 200) -> None:
    """Run passes, moving the clock, until nothing is pending."""
    for _ in range(rounds):
        await d.run_once()
        if not await h.rows(CrmDelivery, CrmDelivery.status == "pending"):
            return
        await h.advance(step / 60)
    raise AssertionError("deliveries still pending")


async def lifecycle(h: Harness, phone: str) -> int:
    """A lead created, handed off, accepted, messaged, closed; plus the future event types."""
    lead = await h.new_lead(phone=phone)
    async with h.store.transaction() as s:
        audit(s, "lead.created", lead_id=lead, channel="sms")
    await h.handoff_lead(lead, intent="sell", location="Brickell", name="Tom Baker")
    code = h.code_in(h.to_agent("james")[-1])
    await h.agent_sends("james", f"ACCEPT {code}")
    await h.lead_writes(lead, "Is Saturday OK?")
    await h.agent_sends("james", "Saturday 10am works")
    async with h.store.transaction() as s:
        audit(s, "appointment.set", lead_id=lead, at=h.clock(), starts="2026-11-28T15:00Z")
        audit(s, "feedback.received", lead_id=lead, at=h.clock(), rating=5)
    await h.agent_sends("james", f"DONE {code} won")
    return lead


EXPECTED = [
    "lead.created", "handoff.offered", "handoff.accepted", "message.out",  # the lead is told
    "message.in", "message.out",                                           # relayed both ways
    "appointment.set", "feedback", "lead.closed",
]


async def test_a_receiver_down_for_a_minute_loses_nothing_and_keeps_order(tmp_path: Path) -> None:
    receiver = await FakeReceiver(SECRET).start()
    try:
        async with harness(tmp_path) as h, pushing(h, [hook(receiver)]) as (d, _):
            receiver.down = True
            a = await lifecycle(h, "+13055550901")
            b = await lifecycle(h, "+13055550902")
            for _ in range(6):  # thirty seconds of 503s
                await d.run_once()
                await h.advance(5 / 60)
            await receiver.stop()  # then thirty seconds of refused connections
            for _ in range(6):
                await d.run_once()
                await h.advance(5 / 60)
            assert receiver.accepted == []
            # Only the first event of each lead was tried: the others wait behind it.
            tried = {r.json["type"] for r in receiver.requests}
            assert tried == {"lead.created"} and len(receiver.requests) >= 4
            rows = await h.rows(CrmDelivery)
            assert {r.status for r in rows} == {"pending"}
            assert max(r.attempts for r in rows) >= 4
            await receiver.start()  # back, on the same port
            receiver.down = False
            await drain(h, d)
    finally:
        await receiver.stop()
    assert receiver.events(a) == EXPECTED
    assert receiver.events(b) == EXPECTED
    assert all(r.valid for r in receiver.requests)
    deliveries = [r.delivery for r in receiver.accepted]
    assert len(deliveries) == len(set(deliveries)) == 2 * len(EXPECTED)
    appointment = next(r.json for r in receiver.accepted if r.json["type"] == "appointment.set")
    assert appointment["data"]["starts"] == "2026-11-28T15:00Z"
    texts = [r.json["data"] for r in receiver.accepted if r.json["type"] == "message.in"]
    assert all("text" not in t for t in texts)  # include_text is off by default


async def test_an_event_is_owed_only_if_its_transaction_commits(tmp_path: Path) -> None:
    receiver = await FakeReceiver(SECRET).start()
    try:
        async with harness(tmp_path) as h, pushing(h, [hook(receiver)]):
            lead = await h.new_lead()
            with pytest.raises(RuntimeError):
                async with h.store.transaction() as s:
                    audit(s, "lead.created", lead_id=lead)
                    await s.flush()  # the delivery row exists inside the transaction…
                    assert len((await s.scalars(select(CrmDelivery))).all()) == 1
                    raise RuntimeError("the state change fails")
            assert await h.rows(CrmDelivery) == []  # …and went with its rollback
            async with h.store.transaction() as s:
                audit(s, "lead.created", lead_id=lead)
                audit(s, "relay.lead_to_agent", lead_id=lead)  # not a CRM event
            assert [r.event for r in await h.rows(CrmDelivery)] == ["lead.created"]
    finally:
        await receiver.stop()


async def test_two_processes_never_deliver_the_same_event_twice(tmp_path: Path) -> None:
    receiver = await FakeReceiver(SECRET).start()
    try:
        async with harness(tmp_path) as h, pushing(h, [hook(receiver)]) as (d1, config):
            leads = [await h.new_lead(phone=f"+1305555{n:04d}") for n in range(8)]
            for lead in leads:
                async with h.store.transaction() as s:
                    audit(s, "lead.created", lead_id=lead)
                    audit(s, "feedback.received", lead_id=lead, rating=4)
            async with aiohttp.ClientSession() as http:
                d2 = Dispatcher(h.store, config, build_senders(config, http), clock=h.clock,
                                transcript_url=lambda i: "", owner="p2")
                for _ in range(4):
                    await asyncio.gather(d1.run_once(), d2.run_once())
    finally:
        await receiver.stop()
    deliveries = [r.delivery for r in receiver.requests]
    assert len(deliveries) == len(set(deliveries)) == 16
    for lead in leads:
        assert receiver.events(lead) == ["lead.created", "feedback"]


async def test_refusals_are_dead_at_once_and_email_retries_temporary_failures(
    tmp_path: Path,
) -> None:
    fub = await FakeFub("the-right-key").start()
    smtp = await FakeSmtp(reject_with=[451, 451]).start()
    endpoints = [
        {"name": "fub", "kind": "fub", "url": fub.url, "secret_env": "FUB_KEY",
         "events": ["lead.created"]},
        {"name": "mail", "kind": "email", "url": f"smtp://127.0.0.1:{smtp.port}",
         "to": ["crm@example.com"], "sender": "pronto@example.com", "events": ["lead.created"]},
    ]
    try:
        async with harness(tmp_path) as h:
            config = build_crm_config({"endpoints": endpoints, "retry": RETRY},
                                      environ={"FUB_KEY": "a-wrong-key"})
            install(h.store, config, clock=h.clock)
            try:
                async with aiohttp.ClientSession() as http:
                    d = Dispatcher(h.store, config, build_senders(config, http),
                                   clock=h.clock, transcript_url=lambda i: f"https://x/{i}")
                    lead = await h.new_lead()
                    async with h.store.transaction() as s:
                        audit(s, "lead.created", lead_id=lead)
                    await drain(h, d, step=10)
            finally:
                uninstall(h.store)
            rows = {r.endpoint: r for r in await h.rows(CrmDelivery)}
    finally:
        await fub.stop()
        await smtp.stop()
    assert (rows["fub"].status, rows["fub"].attempts, rows["fub"].last_error) == (
        "dead", 1, "http 401")  # a refusal is not retried
    assert (rows["mail"].status, rows["mail"].attempts) == ("delivered", 3)
    [mail] = smtp.mails
    body = mail.message.get_content()
    assert "Phone: +13055550999" in body and "Transcript: https://x/" in body
    assert mail.message["Message-ID"] == f"<pronto-crm-{rows['mail'].id}@example.com>"
