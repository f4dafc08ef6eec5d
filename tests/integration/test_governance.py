"""Data governance end to end: a real lead (form, texts, handoff, agent relay, opt-out, CRM
push) through the real stack, then export (everything, texts included), erase (no personal
value left in any text column of any table; the same phone writing again is a new lead;
idempotent) and unmerge, on SQLite and PostgreSQL. The admin API and its guard too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import JSON, String, Text, cast, func, select

from gateway.governance import Governance, GovernanceRefused, LeadNotFound, forget_webchat
from gateway.store.models import (
    Assignment,
    AuditEvent,
    Base,
    Consent,
    Conversation,
    CrmDelivery,
    Identity,
    Lead,
    Message,
)
from tests.conftest import wait_until
from tests.fakes.webhook_receiver import FakeReceiver
from tests.integration.invariants import violations

KEY = "intake-test-key"
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in Miami
PHONE = "+13055550142"
OTHER = "+13055550177"
ANA = "+13055550101"
EMAIL = "maria.lopez@example.com"
ADMIN = {"Authorization": "Bearer admin-test-token"}
FORM_MESSAGE = "Is 123 Palm Ave still available? Call me after five"
FIRST = "Hi, I want to buy a condo near the beach"
AGENT_TEXT = "Good news, I can show you the condo on Saturday morning"
STOP = "please stop texting me"
PERSONAL = ["Maria Lopez", "Lopez", PHONE, "3055550142", "555-0142", EMAIL, "maria.lopez",
            FORM_MESSAGE, FIRST, AGENT_TEXT, STOP, "Palm Ave"]


def clock() -> datetime:
    return NOON


@pytest.fixture
def agents_file(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    agent = {"key": "ana", "name": "Ana García", "phone": ANA, "languages": ["en", "es"],
             "timezone": "America/New_York", "hours": {"daily": "00:00-23:59"},
             "notify": ["sms"]}
    path.write_text(yaml.safe_dump({"agents": [agent]}))
    return path


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    r = await FakeReceiver("crm-secret").start()
    yield r
    await r.stop()


def settings(agents_file: Path, receiver: FakeReceiver) -> dict[str, Any]:
    hook = {"name": "hook", "kind": "webhook", "url": receiver.url, "secret": "crm-secret",
            "events": ["*"], "include_text": True}
    return {"clock": clock, "intake_token": KEY, "brokerage": "Coral Realty",
            "agents_path": agents_file, "crm": {"endpoints": [hook], "poll_seconds": 0.05}}


def form(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "website", "external_id": "f-1", "name": "Maria Lopez",
        "phone": "(305) 555-0142", "email": EMAIL, "message": FORM_MESSAGE,
        "listing": {"address": "123 Palm Ave", "mls_id": "A111", "price": 450000},
        "consent": {"text": "I agree that Coral Realty may text me about my inquiry.",
                    "given_at": "2026-12-01T16:12:00Z"},
    }
    body.update(over)
    return body


async def post_form(stack: Any, body: dict[str, Any]) -> dict[str, Any]:
    async with stack.http.post(f"{stack.base}/api/leads", json=body,
                               headers={"Authorization": f"Bearer {KEY}"}) as resp:
        assert resp.status in (200, 201), await resp.text()
        return dict(await resp.json())


async def audit_types(stack: Any, lead_id: int) -> list[str]:
    async with stack.services.store.maker() as s:
        return list((await s.scalars(select(AuditEvent.type).where(
            AuditEvent.lead_id == lead_id).order_by(AuditEvent.id))).all())


async def drive(stack: Any) -> int:
    """Form → first touch → the lead writes → handoff → ACCEPT → agent relay → opt-out."""
    lead_id = int((await post_form(stack, form()))["lead_id"])
    await stack.twilio.wait_for(PHONE, 1)
    await stack.sms(FIRST, phone=PHONE)
    await stack.twilio.wait_for(PHONE, 2)
    await stack.sms("agent please", phone=PHONE)
    await stack.twilio.wait_for(ANA, 1)
    await stack.twilio.wait_for(PHONE, 3)
    async with stack.services.store.maker() as s:
        code = await s.scalar(select(Assignment.code).where(Assignment.lead_id == lead_id))
    await stack.sms(f"ACCEPT {code}", phone=ANA)
    await wait_until(lambda: _has(stack, lead_id, "assignment.accepted"), what="accept")
    await stack.sms(AGENT_TEXT, phone=ANA)
    await wait_until(lambda: _has(stack, lead_id, "relay.agent_to_lead"), what="relay")
    await stack.sms(STOP, phone=PHONE)
    await wait_until(lambda: _has(stack, lead_id, "lead.opted_out"), what="opt-out")
    return lead_id


async def _has(stack: Any, lead_id: int, type_: str) -> bool:
    return type_ in await audit_types(stack, lead_id)


async def find_everywhere(stack: Any, needles: list[str]) -> dict[str, list[str]]:
    """{needle: ["table.column", …]} for every text or JSON column of every table holding it."""
    hits: dict[str, list[str]] = {}
    async with stack.services.store.maker() as s:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if not isinstance(col.type, String | Text | JSON):
                    continue
                for needle in needles:
                    n = await s.scalar(select(func.count()).select_from(table).where(
                        func.lower(cast(col, Text)).contains(needle.lower(), autoescape=True)))
                    if n:
                        hits.setdefault(needle, []).append(f"{table.name}.{col.name}")
    return hits


async def test_export_holds_everything_and_erase_leaves_no_personal_data_anywhere(
    make_stack: Any, agents_file: Path, receiver: FakeReceiver,
) -> None:
    async with make_stack(**settings(agents_file, receiver)) as stack:
        lead_id = await drive(stack)
        await wait_until(lambda: _delivered(stack), what="CRM deliveries")
        gov = Governance(stack.services.store, stack.services.redis, clock)

        data = await gov.export(PHONE, how="admin")
        # (the bot's handoff payload renamed her "Ana": the fake Rasa always says so)
        assert data["lead"]["id"] == lead_id and data["lead"]["phone"] == PHONE
        assert data["lead"]["created_at"].startswith("20")  # ISO 8601
        # Every table that holds rows of a lead is in the export, including ones added later.
        assert {t.name for t in Base.metadata.sorted_tables if "lead_id" in t.c} <= set(data)
        texts = [m["text"] for m in data["messages"]]
        assert FIRST in texts and STOP in texts and AGENT_TEXT in texts
        assert {(i["kind"], i["address"]) for i in data["identities"]} == {
            ("phone", PHONE), ("email", EMAIL)}
        assert data["intake_records"][0]["data"]["message"] == FORM_MESSAGE
        assert [c["kind"] for c in data["consents"]] == ["form"]
        assert data["assignments"] and data["timers"] and data["crm_deliveries"]
        assert data["conversations"] and "lead.opted_out" in [
            e["type"] for e in data["audit_events"]]
        assert (await gov.export("maria.LOPEZ@example.com", how="cli"))["lead"]["id"] == lead_id
        assert (await gov.export(str(lead_id), how="cli"))["lead"]["id"] == lead_id
        assert (await audit_types(stack, lead_id)).count("lead.exported") == 3

        [stop] = [e for e in data["audit_events"] if e["type"] == "lead.opted_out"]
        personal = [*PERSONAL, stop["data"]["words"]]  # the words quoted in the audit trail
        before = await find_everywhere(stack, personal)
        # Not vacuous: the scan sees the lead's data in the tables that hold it.
        assert {"identities.address", "messages.text", "messages.address",
                "intake_records.data", "audit_events.data", "crm_deliveries.data",
                } <= {c for cols in before.values() for c in cols}, before

        erased = await gov.erase(lead_id, by="admin")
        assert erased.first and erased.counts["identities"] == 2
        assert erased.counts["messages"] >= 8 and erased.counts["agent_messages"] == 1
        assert await find_everywhere(stack, personal) == {}

        async with stack.services.store.maker() as s:
            lead = await s.get(Lead, lead_id)
            assert lead is not None and lead.erased_at is not None  # the tombstone row
            assert (lead.name, lead.phone, lead.email, lead.qualification) == (None,) * 3 + ({},)
            [consent] = (await s.scalars(select(Consent))).all()
            assert consent.kind == "form" and consent.wording.startswith("I agree")
            [tomb] = (await s.scalars(select(AuditEvent).where(
                AuditEvent.type == "lead.erased"))).all()
            assert tomb.data["by"] == "admin" and tomb.data["identities"] == 2
            assert all(isinstance(v, int | bool | str) for v in tomb.data.values())
            assert not (await s.scalars(select(CrmDelivery).where(
                CrmDelivery.status == "pending"))).all()
            convs = (await s.scalars(select(Conversation).where(
                Conversation.lead_id == lead_id))).all()
            assert {(c.status, c.outcome) for c in convs} == {("closed", "erased")}
        assert await violations(stack.services.store, timers=stack.services.timers) == []

        again = await gov.erase(lead_id, by="cli")  # idempotent
        assert not again.first and not any(again.counts.values())
        assert (await audit_types(stack, lead_id)).count("lead.erased") == 1
        with pytest.raises(LeadNotFound):
            await gov.export(PHONE, how="cli")  # the phone names nobody now

        # The same phone writing again is a new person to Pronto: a new lead.
        await stack.sms("Hello again", phone=PHONE)
        await wait_until(lambda: _lead_for(stack, PHONE), what="new lead")
        async with stack.services.store.maker() as s:
            new_id = await s.scalar(select(Identity.lead_id).where(Identity.address == PHONE))
        assert new_id is not None and new_id != lead_id


async def _delivered(stack: Any) -> bool:
    async with stack.services.store.maker() as s:
        return bool(await s.scalar(select(func.count()).select_from(CrmDelivery).where(
            CrmDelivery.event == "opt_out")))


async def _lead_for(stack: Any, phone: str) -> bool:
    async with stack.services.store.maker() as s:
        return await s.scalar(select(Identity.id).where(Identity.address == phone)) is not None


async def test_unmerge_moves_a_wrongly_attached_phone_and_its_messages_to_a_new_lead(
    make_stack: Any, agents_file: Path, receiver: FakeReceiver,
) -> None:
    async with make_stack(**settings(agents_file, receiver)) as stack:
        lead_id = int((await post_form(stack, form()))["lead_id"])
        await stack.twilio.wait_for(PHONE, 1)
        # Someone else's form with Maria's email: intake attaches their phone to her lead.
        wrong = await post_form(stack, form(external_id="f-2", name="Tom Reed",
                                            phone="(305) 555-0177", message="Hi"))
        assert wrong["lead_id"] == lead_id
        await stack.sms("Hello, this is Tom about the listing", phone=OTHER)
        await stack.twilio.wait_for(OTHER, 1)
        gov = Governance(stack.services.store, stack.services.redis, clock)

        with pytest.raises(GovernanceRefused):
            await gov.unmerge(lead_id, "telegram:12345")  # not this lead's
        with pytest.raises(LeadNotFound):
            await gov.unmerge(999999, f"phone:{OTHER}")
        done = await gov.unmerge(lead_id, "phone:(305) 555-0177", by="test")
        assert done.from_lead_id == lead_id and done.messages == 2  # Tom's text, our answer

        async with stack.services.store.maker() as s:
            moved = (await s.scalars(select(Message).where(Message.address == OTHER))).all()
            assert {m.lead_id for m in moved} == {done.new_lead_id}
            new = await s.get(Lead, done.new_lead_id)
            assert new is not None and new.phone == OTHER
            old = await s.get(Lead, lead_id)
            assert old is not None and old.phone == PHONE
        [ev] = [e for e in await _events(stack, lead_id) if e.type == "lead.unmerged"]
        assert ev.data["new_lead_id"] == done.new_lead_id and OTHER not in str(ev.data)

        # Tom writes again: his own lead now. Maria's lead keeps her phone and email.
        await stack.sms("Still interested", phone=OTHER)
        await stack.twilio.wait_for(OTHER, 2)
        async with stack.services.store.maker() as s:
            last = await s.scalar(select(Message).where(Message.address == OTHER)
                                  .order_by(Message.id.desc()).limit(1))
            assert last is not None and last.lead_id == done.new_lead_id
        with pytest.raises(GovernanceRefused):  # her last two identities are hers
            await gov.unmerge(done.new_lead_id, f"phone:{OTHER}")  # his only identity


async def _events(stack: Any, lead_id: int) -> list[AuditEvent]:
    async with stack.services.store.maker() as s:
        return list((await s.scalars(select(AuditEvent).where(
            AuditEvent.lead_id == lead_id))).all())


async def test_admin_api_exports_and_erases_behind_the_guard(make_stack: Any) -> None:
    async with make_stack(clock=clock) as stack:
        await stack.sms(FIRST, phone=PHONE)
        await stack.twilio.wait_for(PHONE, 1)
        async with stack.services.store.maker() as s:
            lead_id = await s.scalar(select(Identity.lead_id).where(Identity.address == PHONE))
        base = f"{stack.base}/admin/api/leads/{lead_id}"
        async with stack.http.get(f"{base}/export") as resp:
            assert resp.status == 401
        async with stack.http.post(f"{base}/erase", json={"confirm": True}) as resp:
            assert resp.status == 401
        async with stack.http.get(f"{base}/export?download=1", headers=ADMIN) as resp:
            assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
            body = await resp.json()
        assert FIRST in [m["text"] for m in body["messages"]]
        for bad in (None, {}, {"confirm": "yes"}, [True]):
            async with stack.http.post(f"{base}/erase", json=bad, headers=ADMIN) as resp:
                assert resp.status == 400, bad
        async with stack.http.post(f"{base}/erase", data=b"{not json", headers=ADMIN) as resp:
            assert resp.status == 400
        async with stack.http.post(f"{stack.base}/admin/api/leads/999999/erase",
                                   json={"confirm": True}, headers=ADMIN) as resp:
            assert resp.status == 404
        async with stack.http.get(f"{stack.base}/admin/api/leads/99999999999999999999/export",
                                  headers=ADMIN) as resp:
            assert resp.status == 400
        async with stack.http.post(f"{base}/erase", json={"confirm": True},
                                   headers=ADMIN) as resp:
            assert resp.status == 200
            result = await resp.json()
        assert result["lead_id"] == lead_id and result["removed"]["identities"] == 1
        assert not result["already_erased"] and "Rasa" in result["not_reachable"]
        assert await find_everywhere(stack, [PHONE, FIRST]) == {}
        types = await audit_types(stack, lead_id)
        assert "lead.exported" in types and "lead.erased" in types


async def test_a_web_chat_history_in_redis_goes_with_the_lead(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        for key in ("log:abc123", "meta:abc123", "rate:abc123", "cid:abc123:c1", "log:other"):
            await client.set(f"pronto:webchat:{key}", "x")
        assert await forget_webchat(client, ["abc123", "a*"]) == 1  # a pattern is refused
        left = sorted([k.decode() async for k in client.scan_iter(match="pronto:webchat:*")])
        assert left == ["pronto:webchat:log:other"]
    finally:
        await client.aclose()
