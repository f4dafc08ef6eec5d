"""Opt-out end to end: keywords and revocations in free text through the real pipeline and
handoff (real Redis, real SQL, fake Twilio, fake Rasa), with one agent on SMS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from gateway.store import handoff as hs
from gateway.store.models import Assignment, AuditEvent, Conversation, Lead, Message, Timer
from tests.conftest import wait_until

PHONE = "+13055550123"
OTHER = "+13055550124"
ANA = "+13055550101"


@pytest.fixture
def agents_file(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yml"
    agent = {
        "key": "ana", "name": "Ana García", "phone": ANA, "languages": ["en", "es"],
        "timezone": "America/New_York", "hours": {"daily": "00:00-23:59"},
        "notify": ["sms"], "max_open_leads": 1,
    }
    path.write_text(yaml.safe_dump({"agents": [agent]}))
    return path


async def events(stack: Any, type_: str, lead_id: int | None = None) -> list[AuditEvent]:
    async with stack.services.store.maker() as s:
        q = select(AuditEvent).where(AuditEvent.type == type_)
        if lead_id is not None:
            q = q.where(AuditEvent.lead_id == lead_id)
        return list((await s.execute(q.order_by(AuditEvent.id))).scalars())


async def lead_of(stack: Any, phone: str = PHONE) -> Lead:
    async with stack.services.store.maker() as s:
        lead = await s.scalar(select(Lead).where(Lead.phone == phone))
    assert lead is not None
    return lead


async def offered(stack: Any, phone: str = PHONE) -> str:
    """The lead asks for an agent; returns the code of the offer Ana gets."""
    await stack.sms("hello", phone=phone)
    await stack.twilio.wait_for(phone, 1)
    before = len(stack.twilio.to(ANA))
    await stack.sms("agent please", phone=phone)
    alert = (await stack.twilio.wait_for(ANA, before + 1))[-1]
    assert "New lead" in alert.body
    await stack.twilio.wait_for(phone, 2)
    lead = await lead_of(stack, phone)
    async with stack.services.store.maker() as s:
        a = await s.scalar(select(Assignment).where(Assignment.lead_id == lead.id))
    assert a is not None and a.status == "offered"
    return a.code


async def test_spanish_revocation_opts_out_confirms_once_and_silences(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("Hola, busco casa en Miami")
        await stack.twilio.wait_for(PHONE, 1)
        await stack.sms("No estoy interesado, ya no me escriban más")
        sent = await stack.twilio.wait_for(PHONE, 2)
        assert "Ha cancelado los mensajes" in sent[1].body  # stop_confirm, in Spanish
        lead = await lead_of(stack)
        assert lead.opted_out and lead.opted_out_at is not None
        [ev] = await events(stack, "lead.opted_out", lead.id)
        assert ev.data["reason"] == "revocation" and ev.data["channel"] == "sms"
        assert ev.data["words"] == "no me escriban" and ev.data["rule"] == "es.no_me_escriban"
        assert len(stack.rasa.requests) == 1  # the revocation never reached the bot
        await stack.sms("¿hola?")
        await stack.sms("please stop texting me")  # already out: no second confirmation
        await asyncio.sleep(0.8)
        assert len(stack.twilio.to(PHONE)) == 2 and len(stack.rasa.requests) == 1
        assert len(await events(stack, "lead.opted_out", lead.id)) == 1


async def test_first_message_revocation_is_confirmed_in_its_language(make_stack: Any) -> None:
    async with make_stack() as stack:  # the number's default language is English
        await stack.sms("bórrenme de su lista por favor")
        sent = await stack.twilio.wait_for(PHONE, 1)
        assert "Ha cancelado los mensajes" in sent[0].body
        assert stack.rasa.requests == []
        assert (await lead_of(stack)).language == "es"


async def test_an_opt_out_drops_messages_still_waiting_for_the_bot(make_stack: Any) -> None:
    from tests.conftest import free_port
    from tests.fakes.rasa import FakeRasa

    port = free_port()
    async with make_stack(rasa_url=f"http://127.0.0.1:{port}", rasa_retry_seconds=0.3) as stack:
        await stack.sms("Hola, quiero comprar una casa")  # Rasa is down: acknowledged, pending
        await stack.twilio.wait_for(PHONE, 1)
        await stack.sms("ALTO")
        await stack.twilio.wait_for(PHONE, 2)
        rasa = await FakeRasa(port=port).start()
        try:
            await stack.sms("START")
            await stack.twilio.wait_for(PHONE, 3)
            await stack.sms("busco en Doral")
            await stack.twilio.wait_for(PHONE, 4)
            # The question asked before the opt-out is not answered after it.
            assert [r["message"] for r in rasa.requests] == ["busco en Doral"]
        finally:
            await rasa.stop()


async def test_stop_keyword_audit_has_time_channel_and_words(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("NO MÁS", channel="whatsapp")
        sent = await stack.twilio.wait_for(f"whatsapp:{PHONE}", 1)
        assert "Ha cancelado" in sent[0].body
        lead = await lead_of(stack)
        [ev] = await events(stack, "lead.opted_out", lead.id)
        assert ev.data == {"reason": "keyword", "channel": "whatsapp", "words": "NO MÁS",
                           "rule": None, "message_id": ev.data["message_id"]}
        assert ev.at is not None
        await stack.sms("comenzar", channel="whatsapp")
        sent = await stack.twilio.wait_for(f"whatsapp:{PHONE}", 2)
        assert "vuelto a suscribir" in sent[1].body
        assert not (await lead_of(stack)).opted_out


async def test_ordinary_message_with_stop_in_it_goes_to_the_bot(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("Can we stop by the house tomorrow at 5pm?")
        sent = await stack.twilio.wait_for(PHONE, 1)
        assert sent[0].body.startswith("Hi! I'm the assistant")
        assert not (await lead_of(stack)).opted_out
        assert await events(stack, "compliance.flagged") == []


@pytest.mark.parametrize("words", ["please stop texting me", "STOP"])
async def test_opt_out_withdraws_the_waiting_offer_and_frees_the_agent(
    make_stack: Any, agents_file: Path, words: str
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await offered(stack)
        lead = await lead_of(stack)
        ana_before = len(stack.twilio.to(ANA))
        await stack.sms(words)
        sent = await stack.twilio.wait_for(PHONE, 3)
        assert "unsubscribed" in sent[2].body
        told = (await stack.twilio.wait_for(ANA, ana_before + 1))[-1]
        assert code in told.body and "opted out" in told.body  # agent_lead_opted_out
        async with stack.services.store.maker() as s:
            a = await s.scalar(select(Assignment).where(Assignment.lead_id == lead.id))
            conv = await s.scalar(select(Conversation).where(Conversation.lead_id == lead.id))
            pending = await s.scalar(select(func.count()).select_from(Timer).where(
                Timer.lead_id == lead.id, Timer.status == "pending"))
            loads = await hs.agent_loads(s, await hs.active_agents(s))
        assert a is not None and a.status == "withdrawn" and a.decided_at is not None
        assert conv is not None and conv.status == "closed"
        assert pending == 0
        assert loads["ana"].open_leads == 0
        [ev] = await events(stack, "assignment.withdrawn", lead.id)
        assert ev.data["code"] == code and ev.agent_id == a.agent_id
        # Ana's cap (1 open lead) is free again: the next lead is offered to her.
        await offered(stack, OTHER)
        # A late ACCEPT of the withdrawn offer does not give her an opted-out lead.
        await stack.sms(f"ACCEPT {code}", phone=ANA)
        await wait_until(lambda: _has_text(stack, ANA, "no longer available"),
                         what="too late answer")


async def test_carrier_opt_out_21610_withdraws_the_offer_and_sends_no_confirmation(
    make_stack: Any, agents_file: Path
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await offered(stack)
        lead = await lead_of(stack)
        sid = stack.twilio.to(PHONE)[-1].sid

        async def stored() -> bool:
            async with stack.services.store.maker() as s:
                return await s.scalar(select(Message.id).where(Message.provider_id == sid)
                                      ) is not None
        await wait_until(stored, what="the reply's provider sid stored")
        ana_before, lead_before = len(stack.twilio.to(ANA)), len(stack.twilio.to(PHONE))
        # The carrier says the number opted out (STOP sent to the carrier, not to us).
        assert await stack.status_callback(sid, "undelivered", "21610") == 204
        told = (await stack.twilio.wait_for(ANA, ana_before + 1))[-1]
        assert code in told.body and "opted out" in told.body  # agent_lead_opted_out
        async with stack.services.store.maker() as s:
            a = await s.scalar(select(Assignment).where(Assignment.lead_id == lead.id))
            conv = await s.scalar(select(Conversation).where(Conversation.lead_id == lead.id))
            fresh = await s.get(Lead, lead.id)
            pending = await s.scalar(select(func.count()).select_from(Timer).where(
                Timer.lead_id == lead.id, Timer.status == "pending"))
            loads = await hs.agent_loads(s, await hs.active_agents(s))
        assert fresh is not None and fresh.opted_out
        assert a is not None and a.status == "withdrawn"
        assert conv is not None and conv.status == "closed"
        assert pending == 0 and loads["ana"].open_leads == 0
        [ev] = await events(stack, "lead.opted_out", lead.id)
        assert ev.data["reason"] == "provider:21610"
        [w] = await events(stack, "assignment.withdrawn", lead.id)
        assert w.data["code"] == code
        # A repeated callback changes nothing, and no confirmation text goes to the lead.
        assert await stack.status_callback(sid, "undelivered", "21610") == 204
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(PHONE)) == lead_before
        assert len(stack.twilio.to(ANA)) == ana_before + 1
        assert len(await events(stack, "lead.opted_out", lead.id)) == 1


async def test_owning_agent_is_told_of_a_revocation_and_cannot_relay(
    make_stack: Any, agents_file: Path
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await offered(stack)
        await stack.sms(f"ACCEPT {code}", phone=ANA)
        await stack.twilio.wait_for(PHONE, 3)  # the lead is told Ana is helping
        ana_before = len(stack.twilio.to(ANA))
        await stack.sms("Thanks, but please remove my number")
        await stack.twilio.wait_for(PHONE, 4)
        told = (await stack.twilio.wait_for(ANA, ana_before + 1))[-1]
        assert code in told.body and "opted out" in told.body
        lead = await lead_of(stack)
        assert lead.opted_out
        # Ana keeps the conversation on record, but nothing she writes reaches the lead.
        await stack.sms("Hi, just checking in!", phone=ANA)
        await stack.twilio.wait_for(ANA, ana_before + 2)
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(PHONE)) == 4


async def test_timing_request_is_flagged_to_the_owner_and_not_an_opt_out(
    make_stack: Any, agents_file: Path
) -> None:
    async with make_stack(agents_path=agents_file) as stack:
        code = await offered(stack)
        await stack.sms(f"ACCEPT {code}", phone=ANA)
        await stack.twilio.wait_for(PHONE, 3)
        ana_before = len(stack.twilio.to(ANA))
        await stack.sms("ok but stop texting me so late")
        got = await stack.twilio.wait_for(ANA, ana_before + 2)  # the relay and the note
        bodies = [m.body for m in got[ana_before:]]
        assert any("Heads-up on lead" in b and code in b and "so late" in b for b in bodies)
        assert any(b.startswith(f"[{code}]") for b in bodies)  # relayed as usual
        lead = await lead_of(stack)
        assert not lead.opted_out
        [ev] = await events(stack, "compliance.flagged", lead.id)
        assert ev.data["reason"] == "timing" and ev.data["words"] == "stop texting me"
        assert await events(stack, "lead.opted_out", lead.id) == []


async def test_timing_request_without_an_agent_is_audited_and_answered(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("no me escribas tan tarde")
        sent = await stack.twilio.wait_for(PHONE, 1)
        assert "Soy el asistente" in sent[0].body  # the bot answers as usual
        lead = await lead_of(stack)
        assert not lead.opted_out
        [ev] = await events(stack, "compliance.flagged", lead.id)
        assert ev.data["language"] == "es" and ev.data["reason"] == "timing"


async def _has_text(stack: Any, address: str, text: str) -> bool:
    return any(text in m.body for m in stack.twilio.to(address))
