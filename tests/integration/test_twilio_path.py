"""The Twilio SMS/WhatsApp path end to end: real Redis, real SQL, the real twilio client
against a fake Twilio API, and a fake Rasa (the real model is exercised in tests/e2e)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.keys import ADAPTERS
from gateway.store.models import AuditEvent, Identity, Lead, Message
from tests.conftest import FROM_NUMBER, WHATSAPP_FROM, wait_until
from tests.fakes.rasa import FakeRasa

PHONE = "+13055550123"


async def count(stack: Any, model: Any, *where: Any) -> int:
    async with stack.services.store.maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_english_and_spanish_sms_get_replies_in_their_language(make_stack: Any) -> None:
    async with make_stack() as stack:
        resp = await stack.sms("Hi, is the house on Main St still available?")
        assert resp.status == 200
        sent = await stack.twilio.wait_for(PHONE)
        assert sent[0].from_ == FROM_NUMBER
        assert sent[0].body.startswith("Hi! I'm the assistant")
        assert sent[0].account.startswith("AC")

        other = "+13055550124"
        await stack.sms("Hola, busco casa de 3 recamaras en Miami", phone=other)
        sent = await stack.twilio.wait_for(other)
        assert sent[0].body.startswith("¡Hola! Soy el asistente")
        assert stack.rasa.requests[-1]["metadata"] == {"language": "es", "channel": "sms"}


async def test_webhook_answers_empty_twiml_before_any_work(make_stack: Any) -> None:
    slow = await FakeRasa(delay=3.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=10.0) as stack:
            params = _params("hello there")
            async with stack.http.post(
                f"{stack.base}/webhooks/twilio", data=params,
                headers={"X-Twilio-Signature": _sig(stack, params)},
            ) as resp:
                body = await resp.text()
            # The answer came while the bot (3 s) had not replied: the webhook did not wait.
            assert stack.twilio.sent == []
            assert resp.status == 200
            assert resp.content_type == "text/xml"
            assert body.endswith("<Response></Response>")
            await stack.twilio.wait_for(PHONE, timeout=15)
    finally:
        await slow.stop()


def _params(body: str, sid: str = "SM" + "a" * 32) -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": PHONE,
            "To": FROM_NUMBER, "Body": body, "NumMedia": "0"}


def _sig(stack: Any, params: dict[str, str]) -> str:
    from tests.conftest import sign

    return sign(f"{stack.settings.public_url}/webhooks/twilio", params)


async def test_replayed_message_sid_gets_one_reply(make_stack: Any) -> None:
    async with make_stack() as stack:
        for _ in range(3):
            assert (await stack.sms("hello", sid="SM" + "b" * 32)).status == 200
        await stack.twilio.wait_for(PHONE)
        await asyncio.sleep(0.8)
        assert len(stack.twilio.to(PHONE)) == 1
        assert len(stack.rasa.requests) == 1
        assert await count(stack, Message, Message.direction == "in") == 1


async def test_a_nul_in_a_signed_message_is_dropped_not_fatal(make_stack: Any) -> None:
    # PostgreSQL text cannot hold NUL: kept, the message would fail on every try there.
    async with make_stack() as stack:
        assert (await stack.sms("hi\x00 there", sid="SM" + "c" * 32,
                                extra={"ProfileName": "Ana\x00"})).status == 200
        await stack.twilio.wait_for(PHONE)
        async with stack.services.store.maker() as s:
            text = await s.scalar(select(Message.text).where(Message.direction == "in"))
        assert text == "hi there"


async def test_forged_and_unsigned_webhooks_are_refused_and_leave_nothing(
    make_stack: Any,
) -> None:
    async with make_stack() as stack:
        forged = await stack.sms("hello", signature="bm90IGEgc2lnbmF0dXJl")
        unsigned = await stack.sms("hello", signature="")
        # Signed for another URL (what a proxy rewriting the host would produce).
        from tests.conftest import sign

        params = _params("hello", sid="SM" + "c" * 32)
        wrong_url = sign(f"http://127.0.0.1:{stack.settings.port}/webhooks/twilio", params)
        async with stack.http.post(f"{stack.base}/webhooks/twilio", data=params,
                                   headers={"X-Twilio-Signature": wrong_url,
                                            "X-Forwarded-Host": "127.0.0.1"}) as resp:
            proxied = resp.status
        assert (forged.status, unsigned.status, proxied) == (403, 403, 403)
        await asyncio.sleep(0.5)
        assert await stack.services.queue.depth() == 0
        assert await count(stack, Message) == 0
        assert await count(stack, Lead) == 0
        assert stack.twilio.sent == []


async def test_sms_and_whatsapp_from_one_number_are_one_lead(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("hello", channel="sms")
        await stack.twilio.wait_for(PHONE)
        await stack.sms("hello again", channel="whatsapp")
        sent = await stack.twilio.wait_for(f"whatsapp:{PHONE}")
        assert sent[0].from_ == WHATSAPP_FROM
        assert await count(stack, Lead) == 1
        assert await count(stack, Identity) == 1
        async with stack.services.store.maker() as s:
            lead = (await s.execute(select(Lead))).scalar_one()
        assert lead.phone == PHONE and lead.last_channel == "whatsapp"


async def test_stop_confirms_once_then_silence_and_start_resubscribes(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("hola")
        await stack.twilio.wait_for(PHONE, 1)
        await stack.sms("ALTO")
        sent = await stack.twilio.wait_for(PHONE, 2)
        assert "cancelado" in sent[1].body  # confirmed in Spanish
        await stack.sms("STOP")
        await stack.sms("are you there?")
        await asyncio.sleep(1.0)
        assert len(stack.twilio.to(PHONE)) == 2
        assert len(stack.rasa.requests) == 1
        await stack.sms("START")
        sent = await stack.twilio.wait_for(PHONE, 3)
        assert "suscrib" in sent[2].body
        assert await count(stack, AuditEvent, AuditEvent.type == "lead.opted_out") == 1


async def test_help_keyword_answers_without_the_bot(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("HELP")
        sent = await stack.twilio.wait_for(PHONE)
        assert "STOP" in sent[0].body
        assert stack.rasa.requests == []


async def test_rasa_down_acknowledges_at_once_and_answers_when_back(make_stack: Any) -> None:
    from tests.conftest import free_port

    port = free_port()
    async with make_stack(rasa_url=f"http://127.0.0.1:{port}", rasa_retry_seconds=0.3) as stack:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await stack.sms("Hola, quiero comprar una casa")
        sent = await stack.twilio.wait_for(PHONE, 1, timeout=5)
        assert loop.time() - t0 < stack.settings.ack_budget_seconds
        assert "Gracias por escribir" in sent[0].body  # the Spanish acknowledgement
        await stack.sms("en Miami")  # also kept, in order, no second acknowledgement
        await asyncio.sleep(0.6)
        assert len(stack.twilio.to(PHONE)) == 1
        rasa = await FakeRasa(port=port).start()
        try:
            sent = await stack.twilio.wait_for(PHONE, 3, timeout=15)
            assert [r["message"] for r in rasa.requests] == [
                "Hola, quiero comprar una casa", "en Miami"]
            assert sent[1].body.startswith("¡Hola! Soy el asistente")
            assert await count(stack, Message, Message.bot_status == "pending") == 0
        finally:
            await rasa.stop()


async def test_slow_rasa_gets_ack_within_budget_then_the_answer(make_stack: Any) -> None:
    slow = await FakeRasa(delay=1.5).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=0.5) as stack:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await stack.sms("Hi, I want to buy a condo")
            first = await stack.twilio.wait_for(PHONE, 1)
            assert loop.time() - t0 < 1.2
            assert "Thanks for reaching out" in first[0].body
            sent = await stack.twilio.wait_for(PHONE, 2)
            assert sent[1].body.startswith("Hi! I'm the assistant")
            assert len(slow.requests) == 1  # not sent twice
    finally:
        await slow.stop()


async def test_a_saturated_rasa_means_an_acknowledgement_at_once_not_after_the_budget(
        make_stack: Any) -> None:
    """One Rasa slot, a slow Rasa, five new leads at once: the first waits its budget, the
    other four are acknowledged at once (no slot), each lead gets one acknowledgement and then
    its answer, in its language."""
    slow = await FakeRasa(delay=1.0).start()
    try:
        async with make_stack(fake_rasa=slow, ack_budget_seconds=2.0,
                              rasa_concurrency=1) as stack:
            loop = asyncio.get_running_loop()
            phones = [f"+1305555077{i}" for i in range(5)]
            t0 = loop.time()
            await asyncio.gather(*(stack.sms("Hi, I want to buy", phone=p) for p in phones))
            firsts = await asyncio.gather(*(stack.twilio.wait_for(p, 1) for p in phones))
            acked_at = [s[0].at for s in firsts]
            fast = [p for p, s in zip(phones, firsts, strict=True)
                    if "Thanks for reaching out" in s[0].body]
            assert len(fast) >= 3  # no slot for them: acknowledged without waiting
            assert sorted(acked_at)[3] - t0 < 1.5  # well inside the 2 s budget
            for p in phones:  # then every lead's answer, once
                sent = await stack.twilio.wait_for(p, 2 if p in fast else 1, timeout=20)
                assert sent[-1].body.startswith("Hi! I'm the assistant")
            await asyncio.sleep(0.3)
            assert all(len(stack.twilio.to(p)) <= 2 for p in phones)
            assert len(slow.requests) == 5
    finally:
        await slow.stop()


def test_the_budget_counts_from_the_webhook_arrival() -> None:
    from gateway.pipeline_steps import budget_left

    waited = Message(received_at=datetime.now(UTC) - timedelta(seconds=5))
    assert budget_left(2.5, waited) < 0  # queued past its budget: acknowledged at once
    assert 2.4 < budget_left(2.5, Message(received_at=datetime.now(UTC))) <= 2.5


class CountingValidator(RequestValidator):  # type: ignore[misc]  # twilio ships no types
    """Twilio's own validator, counting its checks."""

    calls = 0

    def validate(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        return bool(super().validate(*args, **kwargs))


async def test_a_webhook_is_checked_once_not_once_a_step(make_stack: Any) -> None:
    """The handler verifies, then parses: one signature check a request (each is two HMACs),
    for messages and status callbacks alike; a forged one is still refused."""
    async with make_stack() as stack:
        adapter = stack.app[ADAPTERS]["twilio"]
        counting = CountingValidator(stack.settings.twilio_auth_token.get_secret_value())
        adapter.validator = counting
        assert (await stack.sms("hello")).status == 200
        assert counting.calls == 1
        sent = await stack.twilio.wait_for(PHONE)

        async def stored() -> bool:
            return await count(stack, Message, Message.provider_id == sent[0].sid) == 1

        await wait_until(stored, what="outbound row with provider sid")
        assert await stack.status_callback(sent[0].sid, "delivered") == 204
        assert counting.calls == 2
        assert (await stack.sms("hello", signature="forged")).status == 403
        assert counting.calls == 3


async def test_status_callback_updates_the_stored_message(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("hello")
        sent = await stack.twilio.wait_for(PHONE)
        sid = sent[0].sid

        async def stored() -> bool:
            async with stack.services.store.maker() as s:
                m = await s.scalar(select(Message).where(Message.provider_id == sid))
                return m is not None
        await wait_until(stored, what="outbound row with provider sid")
        assert await stack.status_callback(sid, "delivered") == 204
        async with stack.services.store.maker() as s:
            m = await s.scalar(select(Message).where(Message.provider_id == sid))
            assert m is not None and m.status == "delivered"


async def test_error_21610_marks_opted_out_and_is_not_retried(make_stack: Any) -> None:
    async with make_stack() as stack:
        stack.twilio.fail_next(400, 21610, times=5)
        await stack.sms("hello")

        async def opted_out() -> bool:
            async with stack.services.store.maker() as s:
                lead = await s.scalar(select(Lead))
                return lead is not None and lead.opted_out
        await wait_until(opted_out, what="lead opted out")
        assert len(stack.twilio.failures) == 4  # exactly one attempt
        await stack.sms("hello?")
        await asyncio.sleep(0.8)
        assert len(stack.rasa.requests) == 1  # nothing more for an opted-out lead


async def test_rate_limited_send_is_retried(make_stack: Any) -> None:
    async with make_stack() as stack:
        stack.twilio.fail_next(429, 20429, times=1)
        await stack.sms("hello")
        sent = await stack.twilio.wait_for(PHONE, timeout=10)
        assert len(sent) == 1 and stack.twilio.failures == []


async def test_long_replies_are_split_under_1600_characters(make_stack: Any) -> None:
    from gateway.channels.twilio import split_text

    parts = split_text(("A sentence about a lovely house. " * 120).strip())
    assert len(parts) == 3 and all(len(p) <= 1600 for p in parts)
    assert " ".join(parts).split() == ("A sentence about a lovely house. " * 120).split()


async def test_without_credentials_sends_go_to_the_dry_run_outbox(make_stack: Any) -> None:
    # Also the default start: Redis embedded by the app itself (REDIS_URL unset).
    async with make_stack(twilio_account_sid="", redis_url="") as stack:
        await stack.sms("hello")

        async def dry() -> bool:
            async with stack.services.store.maker() as s:
                m = await s.scalar(select(Message).where(Message.direction == "out"))
                return m is not None and m.status == "dry_run"
        await wait_until(dry, what="dry-run outbox entry")
        assert stack.twilio.sent == []
        headers = {"Authorization": "Bearer admin-test-token"}
        async with stack.http.get(f"{stack.base}/admin/api/messages",
                                  params={"direction": "out"}, headers=headers) as resp:
            rows = await resp.json()
        assert rows[0]["status"] == "dry_run" and rows[0]["text"].startswith("Hi!")
        # The dashboard's delivery page shows the dry-run outbox.
        async with stack.http.get(f"{stack.base}/admin/delivery", headers=headers) as resp:
            assert resp.status == 200 and "dry_run" in await resp.text()
        async with stack.http.get(f"{stack.base}/admin/delivery") as resp:
            assert resp.status == 401


async def test_number_default_language_for_a_new_lead_without_evidence(make_stack: Any) -> None:
    async with make_stack(numbers={"+13055550177": "es"}) as stack:
        await stack.sms("ok", to="+13055550177")
        sent = await stack.twilio.wait_for(PHONE)
        assert sent[0].body.startswith("¡Hola!")
        await stack.sms("ok", phone="+13055550999")  # the main number: English by default
        sent = await stack.twilio.wait_for("+13055550999")
        assert sent[0].body.startswith("Hi!")


async def test_a_status_callback_before_its_row_is_kept_and_applied(make_stack: Any) -> None:
    """Twilio's callback outruns the send's answer: the row has no sid yet. It is kept, and
    the worker's housekeeping applies it once the outbox wrote the sid (before: lost)."""
    async with make_stack() as stack:
        codes: list[int] = []

        async def early(sent: Any) -> None:
            codes.append(await stack.status_callback(sent.sid, "undelivered", "30003"))

        stack.twilio.before_reply = early
        await stack.sms("hello")
        sent = await stack.twilio.wait_for(PHONE)

        async def answered() -> bool:
            return bool(codes)
        await wait_until(answered, what="the early callback answered")
        assert codes[0] == 204

        async def applied() -> bool:
            async with stack.services.store.maker() as s:
                m = await s.scalar(select(Message).where(Message.provider_id == sent[0].sid))
                return m is not None and m.status == "undelivered"
        await wait_until(applied, timeout=15, what="the kept callback applied")
        async with stack.services.store.maker() as s:
            m = await s.scalar(select(Message).where(Message.provider_id == sent[0].sid))
            assert m is not None and m.error_code == "30003"
            n = await s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.type == "message.undelivered"))
            assert n == 1
        assert not await stack.services.redis.hlen("pronto:early-statuses")


async def test_an_early_opt_out_callback_still_opts_the_lead_out(make_stack: Any) -> None:
    async with make_stack() as stack:
        async def early(sent: Any) -> None:
            await stack.status_callback(sent.sid, "failed", "21610")

        stack.twilio.before_reply = early
        await stack.sms("hello")
        await stack.twilio.wait_for(PHONE)

        async def opted_out() -> bool:
            async with stack.services.store.maker() as s:
                lead = await s.scalar(select(Lead).join(Identity).where(
                    Identity.address == PHONE))
                return lead is not None and lead.opted_out
        await wait_until(opted_out, timeout=15, what="the lead opted out by the kept callback")


async def test_a_late_sent_does_not_undo_delivered(make_stack: Any) -> None:
    async with make_stack() as stack:
        await stack.sms("hello")
        sid = (await stack.twilio.wait_for(PHONE))[0].sid

        async def stored() -> bool:
            async with stack.services.store.maker() as s:
                return await s.scalar(select(Message).where(Message.provider_id == sid)) \
                    is not None
        await wait_until(stored, what="outbound row with provider sid")
        assert await stack.status_callback(sid, "delivered") == 204
        assert await stack.status_callback(sid, "sent") == 204  # out of order, as Twilio's may
        async with stack.services.store.maker() as s:
            m = await s.scalar(select(Message).where(Message.provider_id == sid))
            assert m is not None and m.status == "delivered"
