"""`GET /metrics` after a scenario through the real stack: webhook latency per channel and
kind, the first human reply (once per lead, never the bot's), timers pending read from SQL,
escalation steps and opt-outs counted once committed, sends by status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from gateway.store.models import AuditEvent
from tests.conftest import wait_until
from tests.integration.test_appointments_feedback import NOON, PHONE, Clock, handed_to_agent

BEARER = {"Authorization": "Bearer admin-test-token"}
OTHER = "+13055550177"


async def scrape(stack: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with stack.http.get(f"{stack.base}/metrics", headers=BEARER) as resp:
        assert resp.status == 200
        text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def _relayed(stack: Any, text: str) -> None:
    async def arrived() -> bool:
        return any(text in s.body for s in stack.twilio.to(PHONE))
    await wait_until(arrived, what=f"the relay of {text!r}")


def value(m: dict[Any, float], name: str, **labels: str) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_after_a_handoff_an_escalation_and_an_opt_out(make_stack: Any) -> None:
    clock = Clock(NOON)
    async with make_stack(clock=clock) as stack:
        before = await scrape(stack)
        agent, _code = await handed_to_agent(stack)
        await stack.sms("Hi, I can help you today", phone=agent)  # relayed: first human reply
        await _relayed(stack, "Hi, I can help you today")
        first = "pronto_human_first_reply_seconds_count"

        # The histogram is observed once the relay's transaction has committed, which may be
        # a moment after the text reached the fake Twilio: wait for it, then take the reading.
        async def observed() -> bool:
            return value(await scrape(stack), first) > value(before, first)
        await wait_until(observed, what="the first human reply observed")
        mid = await scrape(stack)
        await stack.sms("Another thing", phone=agent)  # a second relay is not a first reply
        await _relayed(stack, "Another thing")

        # Another lead asks for a person and nobody accepts: the ladder re-alerts.
        await stack.sms("Hi", phone=OTHER)
        await stack.twilio.wait_for(OTHER)
        await stack.sms("agent please", phone=OTHER)

        async def offered() -> bool:
            return await _count(stack, "assignment.offered") >= 2
        await wait_until(offered, what="the second offer")
        waiting = await scrape(stack)  # the offer's accept deadline is a pending timer
        clock.now = NOON + timedelta(minutes=30)

        async def escalated() -> bool:
            return await _count(stack, "escalation.%") >= 1
        await wait_until(escalated, timeout=15, what="an escalation step")
        await stack.sms("STOP", phone=OTHER)

        async def opted_out() -> bool:
            return await _count(stack, "lead.opted_out") >= 1
        await wait_until(opted_out, what="the opt-out")
        after = await scrape(stack)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pronto_webhook_seconds_count", channel="twilio", kind="message") >= 6
    assert value(after, "pronto_webhook_seconds_bucket", channel="twilio", kind="message",
                 le="+Inf") == value(after, "pronto_webhook_seconds_count", channel="twilio",
                                     kind="message")
    assert (value(mid, "pronto_human_first_reply_seconds_count")
            - value(before, "pronto_human_first_reply_seconds_count")) == 1
    assert grew("pronto_human_first_reply_seconds_count") == 1
    assert grew("pronto_first_reply_seconds_count") >= 2  # the bot's, kept apart
    steps = [dict(k[1])["step"] for k in after if k[0] == "pronto_escalations_total"]
    assert steps and sum(grew("pronto_escalations_total", step=s) for s in steps) >= 1
    assert grew("pronto_opt_outs_total", reason="keyword") == 1
    sends = {dict(k[1])["status"] for k in after if k[0] == "pronto_outbound_total"}
    assert sum(grew("pronto_outbound_total", channel="sms", status=s) for s in sends) >= 5
    def pending(m: dict[Any, float]) -> dict[str, float]:
        return {dict(k[1])["kind"]: v for k, v in m.items() if k[0] == "pronto_timers_pending"}
    assert pending(waiting) and all(v >= 1 for v in pending(waiting).values()), waiting
    # Opted out and the first lead's clocks stopped: each count is read afresh from SQL.
    assert sum(pending(after).values()) < sum(pending(waiting).values())


async def _count(stack: Any, type_: str) -> int:
    async with stack.services.store.maker() as session:
        q = select(AuditEvent.id).where(AuditEvent.type.like(type_))
        return len(list(await session.scalars(q)))
