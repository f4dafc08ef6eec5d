"""The per-lead hourly outbound cap (config/compliance.yml `rate_cap.per_lead_per_hour`, 30 by
default) holds in the one outbound path, `Outbox.queue`: a runaway loop texting one lead gets
30 messages out and the rest stored "refused", audited, counted and alerted once. Real gateway,
real Redis and SQL, the fake Twilio API counting what reached it."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.infra.outbound import Outbox
from gateway.messages import utcnow
from gateway.store.models import AuditEvent, Lead, Message
from tests.conftest import ROOT, wait_until

PHONE = "+13055550166"
AGENT_PHONE = "+13055550101"


async def new_lead(services: Any) -> int:
    async with services.store.transaction() as session:
        lead = Lead(phone=PHONE, language="en", qualification={})
        session.add(lead)
        await session.flush()
        return int(lead.id)


async def text(outbox: Any, services: Any, body: str, lead_id: int | None,
               address: str = PHONE, author: str = "bot") -> Message:
    async with services.store.transaction() as session:
        msg: Message = await outbox.queue(session, channel="sms", address=address, text=body,
                                          author=author, lead_id=lead_id)
        return msg


def capped_total() -> float:
    return float(REGISTRY.get_sample_value("pronto_rate_capped_total", {"channel": "sms"}) or 0)


async def test_a_runaway_loop_gets_30_texts_out_and_10_refused(
    make_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_stack() as stack:
        s = stack.services
        assert s.outbox.rules.max_per_lead_per_hour == 30  # from config/compliance.yml
        lead_id = await new_lead(s)
        before = capped_total()
        with caplog.at_level(logging.WARNING, logger="gateway.infra.outbound"):
            for i in range(40):
                await text(s.outbox, s, f"loop message {i}", lead_id)
        await stack.twilio.wait_for(PHONE, 30)
        await asyncio.sleep(0.5)
        assert len(stack.twilio.to(PHONE)) == 30  # counted at the provider: no 31st text

        async with s.store.maker() as session:
            rows = (await session.scalars(
                select(Message).where(Message.lead_id == lead_id).order_by(Message.id))).all()
            events = (await session.scalars(select(AuditEvent).where(
                AuditEvent.type == "message.rate_capped"))).all()
        statuses = [m.status for m in rows]
        assert statuses.count("refused") == 10 and statuses[30:] == ["refused"] * 10
        assert all(m.provider_id for m in rows[:30]) and not any(m.provider_id for m in rows[30:])
        assert {m.error_code for m in rows[30:]} == {"rate_cap"}
        assert [e.data["message_id"] for e in events] == [m.id for m in rows[30:]]
        assert [e.data["alert"] for e in events] == [True] + [False] * 9
        assert capped_total() - before == 10
        alerts = [r for r in caplog.records if "outbound cap" in r.getMessage()]
        assert len(alerts) == 1 and alerts[0].levelno == logging.WARNING  # once per lead
        assert str(lead_id) in alerts[0].getMessage() and PHONE not in alerts[0].getMessage()

        # The sweeper never picks a refused row up.
        later = Outbox(s.store, s.outbox.channels, clock=lambda: utcnow() + timedelta(minutes=5))
        assert await later.sweep() == 0

        # Agent alerts (no lead) are not capped by the per-lead rule.
        alert = await text(s.outbox, s, "New lead for you", None, AGENT_PHONE, "system")
        assert alert.status == "queued"
        await stack.twilio.wait_for(AGENT_PHONE)

        # An hour on, the window has slid: the lead may be texted again.
        hour_on = Outbox(s.store, s.outbox.channels, rules=s.outbox.rules,
                         clock=lambda: utcnow() + timedelta(hours=1, seconds=5))
        again = await text(hour_on, s, "an hour later", lead_id)
        assert again.status == "queued"
        await wait_until(lambda: _sent(s, again.id), what="the send an hour later")


async def _sent(services: Any, message_id: int) -> bool:
    async with services.store.maker() as session:
        msg = await session.get(Message, message_id)
        return msg is not None and msg.provider_id is not None


async def test_the_cap_comes_from_the_compliance_file(make_stack: Any, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    compliance = config / "compliance.yml"
    compliance.write_text(compliance.read_text().replace("per_lead_per_hour: 30",
                                                         "per_lead_per_hour: 3"))
    async with make_stack(config_path=config / "pronto.yml") as stack:
        s = stack.services
        assert s.outbox.rules.max_per_lead_per_hour == 3
        lead_id = await new_lead(s)
        sent = [await text(s.outbox, s, f"m{i}", lead_id) for i in range(5)]
        assert [m.status for m in sent] == ["queued"] * 3 + ["refused"] * 2
