"""`POST /api/leads`: a form lead gets its first text in seconds, in its language, once; bad
keys, phones and bodies are refused with the field named and nothing stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from gateway.store.models import Agent, AuditEvent, Consent, IntakeRecord, Lead, Message
from tests.conftest import wait_until

KEY = "intake-test-key"
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in Miami: inside quiet hours


def clock() -> datetime:
    return NOON
CONSENT = {"text": "I agree that Coral Realty may text me about my inquiry.",
           "given_at": "2026-12-01T20:12:00Z"}


def form(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "website", "external_id": "f-1001", "name": "Maria Lopez",
        "phone": "(305) 555-0142", "email": "Maria@Example.com",
        "message": "Is 123 Palm Ave still available?",
        "listing": {"address": "123 Palm Ave", "mls_id": "A111", "price": 450000},
        "consent": CONSENT,
    }
    body.update(over)
    return body


async def post(stack: Any, body: Any, key: str | None = KEY) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with stack.http.post(f"{stack.base}/api/leads", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def count(stack: Any, model: Any) -> int:
    async with stack.services.store.maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_form_lead_gets_one_first_text_in_its_language_and_a_repeat_touches_nobody(
        make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY, brokerage="Coral Realty") as stack:
        status, body = await post(stack, form())
        assert status == 201 and body["status"] == "accepted" and body["new_lead"]
        sent = await stack.twilio.wait_for("+13055550142")
        assert sent[0].body == "[en] Hi Maria Lopez, this is the Coral Realty assistant " \
            "about 123 Palm Ave."
        again, body2 = await post(stack, form())
        assert again == 200 and body2["lead_id"] == body["lead_id"]
        assert body2["status"] == "duplicate"
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to("+13055550142")) == 1  # never twice
        async with stack.services.store.maker() as session:
            lead = await session.get(Lead, body["lead_id"])
            assert lead is not None
            assert (lead.source, lead.phone, lead.email) == ("website", "+13055550142",
                                                             "maria@example.com")
            assert lead.listing == {"address": "123 Palm Ave", "mls_id": "A111",
                                    "price": 450000}
            consent = (await session.scalars(select(Consent))).one()
            assert (consent.kind, consent.wording) == ("form", CONSENT["text"])
            out = (await session.scalars(select(Message).where(Message.direction == "out"))
                   ).one()
            assert out.lead_id == lead.id and out.author == "bot"
        # The metadata told the bot who and what; the text is the bot's opening.
        assert stack.rasa.requests[0]["message"] == "/greet"
        assert stack.rasa.requests[0]["metadata"]["intake"]["listing"] == "123 Palm Ave"


async def test_the_lead_reply_continues_the_same_conversation(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY, brokerage="Coral Realty") as stack:
        status, _ = await post(stack, form(external_id="f-2"))
        assert status == 201
        await stack.twilio.wait_for("+13055550142")
        await stack.sms("I want to buy", phone="+13055550142")
        await stack.twilio.wait_for("+13055550142", count=2)
        senders = {r["sender"] for r in stack.rasa.requests}
        assert len(senders) == 1  # one lead, one Rasa conversation
        assert await count(stack, Lead) == 1


async def test_spanish_from_the_form_the_page_or_the_words(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY) as stack:
        await post(stack, form(external_id="a", phone="+13055550151", language="es"))
        await post(stack, form(external_id="b", phone="+13055550152", email=None,
                               page_url="https://coral.example/es/casas/123"))
        await post(stack, form(external_id="c", phone="+13055550153", email=None,
                               message="Hola, ¿sigue disponible la casa? Quisiera verla."))
        await post(stack, form(external_id="d", phone="+13055550154", email=None,
                               message=""))
        for phone, lang in (("+13055550151", "es"), ("+13055550152", "es"),
                            ("+13055550153", "es"), ("+13055550154", "en")):
            sent = await stack.twilio.wait_for(phone)
            assert sent[0].body.startswith(f"[{lang}]"), (phone, sent[0].body)


async def test_bad_requests_name_the_field_and_store_nothing(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY) as stack:
        cases = [
            (form(), "wrong-key", 401, "Authorization"),
            (form(), None, 401, "Authorization"),
            (form(phone="12"), KEY, 422, "phone"),
            (form(email="not an email"), KEY, 422, "email"),
            (form(phone=None, email=None), KEY, 422, "phone"),
            (form(language="fr"), KEY, 422, "language"),
            (form(listing={"price": -5}), KEY, 422, "listing.price"),
            (form(source=""), KEY, 422, "source"),
            ([1, 2], KEY, 422, "body"),
        ]
        for body, key, status, field in cases:
            got, answer = await post(stack, body, key)
            assert (got, answer["field"]) == (status, field), (body, answer)
        async with stack.http.post(f"{stack.base}/api/leads", data=b"\xff\xfe{",
                                   headers={"Authorization": f"Bearer {KEY}"}) as resp:
            assert resp.status == 415
        assert await count(stack, Lead) == 0 and await count(stack, IntakeRecord) == 0
        assert stack.twilio.sent == []


async def test_a_per_source_key_opens_only_its_source(make_stack: Any) -> None:
    intake = {"sources": {"zapier": {"key": "zap-key"}}}
    async with make_stack(clock=clock, intake_token=KEY, intake=intake) as stack:
        assert (await post(stack, form(source="zapier"), "zap-key"))[0] == 201
        assert (await post(stack, form(source="website", external_id="x"), "zap-key"))[0] == 401


async def test_no_consent_no_text_and_an_agent_is_alerted(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY) as stack:
        status, _ = await post(stack, form(consent=None))
        assert status == 201
        await wait_until(lambda: _has_outbound(stack, exclude="+13055550142"), what="alert")
        assert stack.twilio.to("+13055550142") == []
        alert = stack.twilio.sent[0]
        async with stack.services.store.maker() as session:
            rec = (await session.scalars(select(IntakeRecord))).one()
            assert rec.data["touch"] == "no_consent"
            agent_phones = set(await session.scalars(select(Agent.phone)))
        assert alert.to in agent_phones and "Maria" in alert.body


async def test_an_opted_out_phone_gets_no_first_touch(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY) as stack:
        await stack.sms("STOP", phone="+13055550142")
        await stack.twilio.wait_for("+13055550142")  # the one confirmation
        status, _ = await post(stack, form(external_id="after-stop"))
        assert status == 201
        async def touched() -> bool:
            async with stack.services.store.maker() as session:
                rec = (await session.scalars(select(IntakeRecord))).one()
                return rec.data["touch"] == "opted_out"
        await wait_until(touched, what="the touch to be refused")
        assert len(stack.twilio.to("+13055550142")) == 1


async def test_when_rasa_is_down_a_template_opens_in_the_lead_language(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY, rasa_url="http://127.0.0.1:9",
                          brokerage="Coral Realty", rasa_timeout_seconds=1.0) as stack:
        await post(stack, form(language="es"))
        sent = await stack.twilio.wait_for("+13055550142")
        assert sent[0].body == ("Hola Maria, soy el asistente de Coral Realty sobre 123 Palm "
                                "Ave. ¡Gracias por su consulta! ¿Busca comprar, vender o rentar?")


async def _has_outbound(stack: Any, exclude: str) -> bool:
    return any(s.to != exclude for s in stack.twilio.sent)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_a_form_at_2340_is_texted_at_8_and_the_agent_is_alerted_at_once(
        make_stack: Any) -> None:
    late = Clock(datetime(2026, 12, 2, 4, 40, tzinfo=UTC))  # 23:40 in Miami
    async with make_stack(clock=late, intake_token=KEY, brokerage="Coral Realty") as stack:
        status, _ = await post(stack, form(external_id="late-1"))
        assert status == 201
        await wait_until(lambda: _has_outbound(stack, exclude="+13055550142"), what="alert")
        assert stack.twilio.to("+13055550142") == []  # nothing to the lead at night
        async with stack.services.store.maker() as session:
            rec = (await session.scalars(select(IntakeRecord))).one()
            assert rec.data["touch"] == "held"
            # Florida (305): 8:00 local is the first allowed minute, 13:00 UTC in December.
            assert rec.data["held_until"] == "2026-12-02T13:00:00+00:00"
        late.now = datetime(2026, 12, 2, 13, 0, 5, tzinfo=UTC)
        sent = await stack.twilio.wait_for("+13055550142", timeout=15)
        assert sent[0].body.startswith("Hi Maria, this is the Coral Realty assistant about "
                                       "123 Palm Ave")
        assert "An agent from our team will text you shortly" in sent[0].body


async def test_segments_and_encoding_are_stored_with_each_text(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY, rasa_url="http://127.0.0.1:9",
                          rasa_timeout_seconds=1.0) as stack:
        await post(stack, form(external_id="seg-en"))
        await post(stack, form(external_id="seg-es", phone="+13055550160", email=None,
                               language="es", name="María Núñez"))
        await stack.twilio.wait_for("+13055550142")
        await stack.twilio.wait_for("+13055550160")
        async with stack.services.store.maker() as session:
            rows = {m.address: m for m in await session.scalars(
                select(Message).where(Message.direction == "out"))}
        en, es = rows["+13055550142"], rows["+13055550160"]
        assert (en.encoding, en.segments) == ("GSM-7", 1)
        # "¡" and "¿" are GSM-7; the "í" of María is not: the whole text becomes UCS-2, and
        # its ~125 characters take two 67-character segments instead of one.
        assert "María" in es.text and len(es.text) > 70
        assert (es.encoding, es.segments) == ("UCS-2", 2)


async def test_the_listing_agent_gets_the_lead_first(make_stack: Any) -> None:
    james = "+13055550103"  # config/agents.yml; not the first agent routing would pick
    handoff = {"business_hours": {"timezone": "America/New_York",
                                  "hours": {"mon-fri": "09:00-18:00"}},
               "listing_agents": {"A111": "james"}}
    async with make_stack(clock=clock, intake_token=KEY, handoff=handoff) as stack:
        await post(stack, form(external_id="listing-1", consent=None))  # no consent: alert
        alert = await stack.twilio.wait_for(james)
        assert "Maria" in alert[0].body
        async with stack.services.store.maker() as session:
            rule = await session.scalar(select(AuditEvent.data).where(
                AuditEvent.type == "assignment.offered"))
        assert rule is not None and rule.get("rule") == "listing_agent"


async def test_spanish_sms_can_be_sent_in_gsm7_by_choice(make_stack: Any) -> None:
    async with make_stack(clock=clock, intake_token=KEY, rasa_url="http://127.0.0.1:9",
                          rasa_timeout_seconds=1.0, sms_spanish_gsm7=True) as stack:
        await post(stack, form(external_id="gsm-es", phone="+13055550161", email=None,
                               language="es", name="María Núñez"))
        sent = await stack.twilio.wait_for("+13055550161")
        assert sent[0].body.startswith("Hola Maria, soy el asistente")  # í dropped, ñ kept
        async with stack.services.store.maker() as session:
            row = (await session.scalars(select(Message).where(Message.direction == "out"))
                   ).one()
        assert (row.encoding, row.segments) == ("GSM-7", 1) and row.text == sent[0].body
