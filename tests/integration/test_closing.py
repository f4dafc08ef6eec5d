"""Conversations close: the agent's DONE <code> won|lost|no-answer (LISTO … ganado|perdido|
sin-respuesta) records the outcome and frees the agent's cap; plain DONE still hands back to the
assistant; conversations untouched for the configured inactivity close on their own."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from gateway.handoff.closing import close_idle
from gateway.messages import utcnow
from gateway.store.handoff import active_agents, agent_loads, sync_agents
from gateway.store.models import Assignment, AuditEvent, Conversation, Timer
from gateway.worker import Worker
from tests.integration.handoff_harness import TEAM, Harness, build_handoff_config, harness
from tests.integration.invariants import assert_invariants

LEAD1, LEAD2, LEAD3 = "+13055550901", "+13055550902", "+13055550903"


async def only_ana(h: Harness, cap: int = 1) -> None:
    """The team reduced to Ana (cap `cap`) and Carmen, the team lead who takes no leads."""
    team: dict[str, Any] = copy.deepcopy(TEAM)
    team["agents"] = [a for a in team["agents"] if a["key"] in ("ana", "carmen")]
    team["agents"][0]["max_open_leads"] = cap
    h.handoff.config = build_handoff_config({}, team)
    async with h.store.transaction() as s:
        h.agents.update(await sync_agents(s, h.handoff.config))


async def offered_to_ana(h: Harness, phone: str) -> tuple[int, str | None]:
    """A Spanish lead from Coral Gables handed off; (lead id, code if Ana was offered it)."""
    lead = await h.new_lead(phone=phone, language="es")
    await h.handoff_lead(lead, intent="buy", location="Coral Gables", language="es")
    offers = await h.rows(Assignment, Assignment.lead_id == lead,
                          Assignment.agent_id == h.agents["ana"], Assignment.status == "offered")
    return lead, (offers[0].code if offers else None)


async def closed_events(h: Harness, lead: int) -> list[dict[str, Any]]:
    async with h.store.maker() as s:
        q = select(AuditEvent.data).where(AuditEvent.lead_id == lead,
                                          AuditEvent.type == "conversation.closed")
        return list((await s.execute(q)).scalars())


async def test_done_won_closes_the_conversation_and_frees_the_cap(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await only_ana(h, cap=1)
        lead1, code1 = await offered_to_ana(h, LEAD1)
        assert code1
        await h.agent_sends("ana", f"ACEPTAR {code1}")
        assert (await h.conversation(lead1)).status == "agent"

        _, code2 = await offered_to_ana(h, LEAD2)
        assert code2 is None  # Ana is at her cap: not offered

        await h.agent_sends("ana", f"DONE {code1} won")
        conv = await h.conversation(lead1)
        assert (conv.status, conv.outcome) == ("closed", "won")
        assert "cerrado como ganado" in h.to_agent("ana")[-1]
        [event] = await closed_events(h, lead1)
        assert event["outcome"] == "won" and event["by"] == "agent"
        assert "assignment.released" in await h.audit_types(lead1)
        assert not any("DONE" in t for t in h.to_lead(LEAD1))  # nothing relayed to the lead
        async with h.store.maker() as s:
            loads = await agent_loads(s, await active_agents(s))
        assert loads["ana"].open_leads == 0

        _, code3 = await offered_to_ana(h, LEAD3)
        assert code3 is not None  # the place is free again

        # The prospect comes back later: a new conversation, offered to the agent who had it.
        await h.lead_writes(lead1, "Hola de nuevo")
        assert (await h.conversation(lead1)).status == "bot"
        await h.handoff_lead(lead1, intent="sell", language="es")
        offers = await h.rows(Assignment, Assignment.lead_id == lead1)
        assert offers[-1].rule == "owner" and offers[-1].status == "offered"


async def test_plain_done_hands_back_and_the_owner_may_close_later(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await only_ana(h, cap=3)
        lead, code = await offered_to_ana(h, LEAD1)
        await h.agent_sends("ana", f"aceptar {code}")
        await h.agent_sends("ana", f"DONE {code} maybe")
        assert "LISTO" in h.to_agent("ana")[-1]  # the usage, in her language
        assert (await h.conversation(lead)).status == "agent"

        await h.agent_sends("ana", f"listo {code}")
        assert (await h.conversation(lead)).status == "bot"
        assert "volvió al asistente" in h.to_agent("ana")[-1]

        await h.agent_sends("ana", f"LISTO {code} perdido")
        conv = await h.conversation(lead)
        assert (conv.status, conv.outcome) == ("closed", "lost")
        assert [e["outcome"] for e in await closed_events(h, lead)] == ["lost"]

        await h.agent_sends("carmen", f"DONE {code} won")  # not her lead
        assert [e["outcome"] for e in await closed_events(h, lead)] == ["lost"]  # once only


async def test_offers_on_closed_conversations_do_not_count_against_the_cap(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await only_ana(h, cap=1)
        lead, code = await offered_to_ana(h, LEAD1)
        assert code
        async with h.store.maker() as s:
            assert (await agent_loads(s, await active_agents(s)))["ana"].open_leads == 1
        # A conversation closed elsewhere (e.g. the opt-out path) with its offer row left over.
        async with h.store.transaction() as s:
            await s.execute(update(Conversation).where(Conversation.lead_id == lead)
                            .values(status="closed"))
        async with h.store.maker() as s:
            assert (await agent_loads(s, await active_agents(s)))["ana"].open_leads == 0


async def test_conversations_close_after_the_configured_inactivity(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        assert h.handoff.config.policy.close.idle_after == timedelta(days=14)
        assert build_handoff_config({"close": {"idle_days": 0}}, TEAM).policy.close.idle_after \
            is None
        await only_ana(h, cap=5)
        owned, code = await offered_to_ana(h, LEAD1)
        await h.agent_sends("ana", f"aceptar {code}")
        waiting, _ = await offered_to_ana(h, LEAD2)  # offered, accept timers pending
        recent = await h.new_lead(phone=LEAD3)  # with the bot, but wrote recently
        later = utcnow() + timedelta(days=15)
        async with h.store.transaction() as s:
            await s.execute(update(Conversation).where(Conversation.lead_id == recent)
                            .values(last_lead_message_at=later - timedelta(days=2)))

        h.clock.now = later
        worker = Worker(h.handoff.services.queue, h.timers, _no_events,
                        idle_close_after=h.handoff.config.policy.close.idle_after)
        assert await worker.housekeeping() == 0  # the first check waits an interval
        assert await worker.housekeeping(force=True) == 2
        for lead in (owned, waiting):
            conv = await h.conversation(lead)
            assert (conv.status, conv.outcome) == ("closed", "inactive")
            [event] = await closed_events(h, lead)
            assert event["by"] == "inactivity" and event["outcome"] == "inactive"
        assert (await h.conversation(recent)).status == "bot"
        timers = await h.rows(Timer, Timer.lead_id == waiting)
        assert timers and {t.status for t in timers} == {"cancelled"}
        assert {a.status for a in await h.rows(Assignment)} == {"released", "expired"}
        async with h.store.maker() as s:
            assert (await agent_loads(s, await active_agents(s)))["ana"].open_leads == 0
        assert await close_idle(h.store, h.timers, idle=timedelta(days=14), now=later) == 0
        await assert_invariants(h.store, timers=h.timers)


async def _no_events(event: Any) -> None:
    raise AssertionError("no queue events in this test")
