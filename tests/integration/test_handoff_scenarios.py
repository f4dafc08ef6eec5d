"""Handoff scenarios on real Redis + real SQL with a controllable clock (no real waiting)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.store.models import Assignment, AuditEvent, Timer
from tests.integration.handoff_harness import MONDAY_8PM, PHONES, harness

LEAD = "+13055550999"


async def test_spanish_lead_accepted_in_time_then_messages_flow(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead(language="es")
        name = await h.handoff_lead(lead, intent="buy", location="Coral Gables", budget_max=550000,
                                    budget_min=400000, financing="preapproved", name="María",
                                    language="es", score=82, timeline_text="3 meses")
        assert name == "Ana"  # the one agent alerted is named to the prospect
        alert = h.to_agent("ana")[0]
        assert alert.startswith("Nuevo cliente"), alert
        for part in ("María", "ES", "comprar", "Coral Gables", "$400k–$550k", "3 meses",
                     "preaprobado", "puntaje 82", "SMS", "https://dash.example/admin/leads/"):
            assert part in alert
        # Telegram gets the same alert with Accept/Pass buttons.
        tg = h.telegram.sent[0]
        code = h.code_in(alert)
        assert [b.data for b in tg.buttons] == [f"accept:{code}", f"pass:{code}"]
        (a,) = await h.rows(Assignment)
        assert a.rule == "language+area+hours" and a.status == "offered"

        await h.advance(1)
        await h.agent_sends("ana", f"aceptar {code}")
        assert (await h.conversation(lead)).status == "agent"
        assert "Ana" in h.to_lead()[-1] and "le está atendiendo" in h.to_lead()[-1]
        assert "es suyo" in h.to_agent("ana")[-1]
        # The accept cancelled the timers: nothing fires later.
        assert await h.advance(30) == 0
        assert {t.status for t in await h.rows(Timer)} == {"cancelled"}

        await h.lead_writes(lead, "¿Podemos ver la casa el sábado?")
        relayed = h.telegram.sent[-1]
        assert relayed.address == "7101" and "¿Podemos ver la casa el sábado?" in relayed.text
        await h.agent_sends("ana", "¡Claro! ¿A las 10?")
        assert h.to_lead()[-1] == "¡Claro! ¿A las 10?"
        await h.agent_sends("ana", f"#{code} Le mando la dirección.")
        assert h.to_lead()[-1] == "Le mando la dirección."
        # The lead never sees an agent phone number; sends come through the business channel.
        assert all(p not in t for t in h.to_lead() for p in PHONES.values())
        types = await h.audit_types(lead)
        assert types.count("relay.agent_to_lead") == 2 and "relay.lead_to_agent" in types
        assert await h.advance(60) == 0  # agent replied: no reply-lapse


async def test_no_accept_realert_reassign_then_team_lead_and_pool(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, intent="sell", location="Brickell", name="Tom")
        first = h.to_agent("james")
        assert len(first) == 1  # area match: james covers Brickell
        code = h.code_in(first[0])
        await h.advance(2.5)
        assert len(h.to_agent("james")) == 2 and "Reminder" in h.to_agent("james")[1]
        await h.advance(2.5)  # deadline: reassigned
        assert "reassigned" in h.to_agent("james")[-1]
        offers = await h.rows(Assignment)
        assert [o.status for o in offers] == ["expired", "offered"]
        assert offers[1].attempt == 2 and "round_robin" in offers[1].rule
        await h.advance(5)
        await h.advance(5)
        offers = await h.rows(Assignment)
        assert [o.status for o in offers][:3] == ["expired", "expired", "expired"]
        assert offers[-1].rule == "team_lead" and offers[-1].agent_id == h.agents["carmen"]
        assert any("Escalation" in t or "Escalamiento" in t for t in h.to_agent("carmen"))
        conv = await h.conversation(lead)
        assert conv.status == "pool"
        types = await h.audit_types(lead)
        assert types.count("escalation.realert") == 3
        assert types.count("assignment.expired") == 3
        assert "escalation.pool" in types and "escalation.prospect_told" not in types
        # Every step has its timestamp, in order.
        events = sorted(await h.rows(AuditEvent, AuditEvent.lead_id == lead), key=lambda e: e.id)
        ladder = [e.at for e in events if e.type.startswith(("assignment.", "escalation."))]
        assert len(ladder) >= 7 and ladder == sorted(ladder)
        # Any team agent may claim it from the pool; the first claim wins.
        await h.agent_sends("emily", f"accept {code}")
        await h.agent_sends("luis", f"accept {code}")
        assert (await h.conversation(lead)).status == "agent"
        assert "taken" in h.to_agent("luis")[-1] or "tomó" in h.to_agent("luis")[-1]
        won = [a for a in await h.rows(Assignment) if a.status == "accepted"]
        assert [(a.agent_id, a.rule) for a in won] == [(h.agents["emily"], "pool_claim")]


async def test_pass_goes_to_next_agent_at_once(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, location="Brickell")
        code = h.code_in(h.to_agent("james")[0])
        await h.agent_sends("james", f"PASS {code}")
        assert "passed" in h.to_agent("james")[-1]
        offers = await h.rows(Assignment)
        assert [o.status for o in offers] == ["passed", "offered"]
        assert offers[1].agent_id != h.agents["james"]
        # The passed offer's timers are cancelled; the new offer has its own.
        pending = await h.rows(Timer, Timer.status == "pending")
        assert {t.assignment_id for t in pending} == {offers[1].id}


async def test_first_to_claim_two_agents_accept_at_the_same_moment(tmp_path: Path) -> None:
    async with harness(tmp_path, mode="first_to_claim", claim_fanout=2) as h:
        lead = await h.new_lead(language="es")
        await h.handoff_lead(lead, location="Miami")
        offers = await h.rows(Assignment)
        assert len(offers) == 2 and all(o.rule.startswith("first_to_claim:") for o in offers)
        keys = [k for k, i in h.agents.items() if i in {o.agent_id for o in offers}]
        assert set(keys) == {"ana", "luis"}  # the Spanish speakers
        await asyncio.gather(*(h.agent_sends(k, "1") for k in keys))
        final = await h.rows(Assignment)
        assert sorted(a.status for a in final) == ["accepted", "taken"]
        loser = next(k for k in keys if h.agents[k] == next(
            a.agent_id for a in final if a.status == "taken"))
        assert "tomó" in h.to_agent(loser)[-1]
        conv = await h.conversation(lead)
        winner = next(a.agent_id for a in final if a.status == "accepted")
        assert conv.status == "agent" and conv.agent_id == winner
        assert await h.advance(30) == 0


async def test_reply_lapse_nudge_team_lead_reassign(tmp_path: Path) -> None:
    async with harness(tmp_path, reply_lapse={"reassign": True}) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, location="Brickell")
        code = h.code_in(h.to_agent("james")[0])
        await h.agent_sends("james", f"A {code}")
        await h.lead_writes(lead, "Is it still available?")
        assert "Is it still available?" in h.to_agent("james")[-1]
        await h.advance(14)
        assert "waiting for your reply" not in h.to_agent("james")[-1]
        await h.advance(1)
        assert "waiting for your reply" in h.to_agent("james")[-1]
        await h.advance(10)
        to_carmen = [m.text for m in h.telegram.sent if m.address == "7105"]
        assert any("no ha respondido" in t and "James Carter" in t for t in to_carmen)
        await h.advance(15)
        assert "reassigned" in h.to_agent("james")[-1]
        conv = await h.conversation(lead)
        assert conv.status == "pending"
        offers = await h.rows(Assignment)
        assert offers[0].status == "reassigned" and offers[-1].status == "offered"
        assert offers[-1].agent_id != h.agents["james"]
        types = await h.audit_types(lead)
        for t in ("reply_lapse.nudge", "reply_lapse.team_lead", "reply_lapse.reassign"):
            assert t in types


async def test_reply_cancels_reply_lapse(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, location="Brickell")
        await h.agent_sends("james", "1")
        await h.lead_writes(lead, "hello?")
        await h.advance(5)
        await h.agent_sends("james", "Hi! Calling you now.")
        assert await h.advance(60) == 0
        assert "reply_lapse.nudge" not in await h.audit_types(lead)


async def test_after_hours_goes_to_on_call_and_prospect_told_when(tmp_path: Path) -> None:
    async with harness(tmp_path, now=MONDAY_8PM, accept={"max_reassignments": 0}) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, location="Coral Gables")
        (offer,) = await h.rows(Assignment)
        assert offer.agent_id == h.agents["james"] and offer.rule == "language+on_call"
        deadline = next(t for t in await h.rows(Timer) if t.kind == "handoff.accept_deadline")
        assert (deadline.due_at.replace(tzinfo=None) - offer.offered_at.replace(tzinfo=None)
                ).total_seconds() == 600  # 10 minutes after hours
        await h.advance(10)
        told = h.to_lead()[-1]
        assert "closed" in told and "tomorrow at 9:00 AM" in told
        assert (await h.conversation(lead)).status == "pool"
        assert "escalation.prospect_told" in await h.audit_types(lead)


async def test_spanish_lead_prefers_spanish_speaker_over_area(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead(language="es")
        await h.handoff_lead(lead, location="Brickell")  # only james (English) covers it
        (offer,) = await h.rows(Assignment)
        assert offer.agent_id in (h.agents["ana"], h.agents["luis"])
        assert offer.rule == "language+hours+round_robin"


async def test_accept_racing_the_deadline_has_exactly_one_outcome(tmp_path: Path) -> None:
    for _ in range(3):
        async with harness(tmp_path / str(_)) as h:
            lead = await h.new_lead()
            await h.handoff_lead(lead, location="Brickell")
            code = h.code_in(h.to_agent("james")[0])
            h.clock.now = h.clock.now.replace(minute=5, second=1)
            await asyncio.gather(h.agent_sends("james", f"accept {code}"),
                                 h.timers.run_due("w1"), h.timers.run_due("w2"))
            first = (await h.rows(Assignment))[0]
            conv = await h.conversation(lead)
            if first.status == "accepted":
                assert conv.status == "agent" and len(await h.rows(Assignment)) == 1
            else:
                assert first.status == "expired" and conv.agent_id is None
                assert "no longer available" in h.to_agent("james")[-1] or \
                    "reassigned" in h.to_agent("james")[-1]


async def test_returning_lead_goes_to_owner(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, location="Brickell")
        code = h.code_in(h.to_agent("james")[0])
        await h.agent_sends("james", f"accept {code}")
        await h.agent_sends("james", f"DONE {code}")
        assert (await h.conversation(lead)).status == "bot"
        name = await h.handoff_lead(lead, location="Coral Gables")
        assert name == "James"
        offers = await h.rows(Assignment)
        assert offers[-1].rule == "owner" and offers[-1].agent_id == h.agents["james"]


async def test_agent_commands_help_leads_and_telegram(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.agent_sends("emily", "ACEPT 1234")
        assert "commands" in h.to_agent("emily")[-1]
        await h.agent_sends("emily", "hello")  # no lead yet: never silence
        assert "no open lead" in h.to_agent("emily")[-1]
        await h.agent_sends("emily", "LEADS")
        assert "no open leads" in h.to_agent("emily")[-1]
        lead = await h.new_lead(language="es")
        await h.handoff_lead(lead, location="Coral Gables")
        code = h.code_in(h.to_agent("ana")[0])
        # Telegram button press from Ana's chat, then a reply in the alert's thread.
        await h.agent_sends("ana", f"accept:{code}", channel="telegram", action="button")
        assert (await h.conversation(lead)).status == "agent"
        await h.lead_writes(lead, "hola")
        thread = h.telegram.sent[-1]
        async with h.store.maker() as s:
            from sqlalchemy import select

            from gateway.store.models import Message
            pid = (await s.execute(select(Message.provider_id).where(
                Message.id == thread.message_id))).scalar()
        await h.agent_sends("ana", "Hola, soy Ana", channel="telegram", reply_to=pid)
        assert h.to_lead()[-1] == "Hola, soy Ana"
        await h.agent_sends("ana", "clientes", channel="telegram")
        assert code in h.telegram.sent[-1].text
        await h.agent_sends("ana", "#9999 hola")
        assert "9999" in h.to_agent("ana")[-1]


async def test_messages_written_while_waiting_reach_the_agent_on_accept(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead = await h.new_lead(language="es")
        await h.handoff_lead(lead, intent="buy", location="Coral Gables", name="María",
                             language="es", score=70)
        code = h.code_in(h.to_agent("ana")[0])
        await h.lead_writes(lead, "¿Sigue disponible la casa de la calle 8?")
        await h.lead_writes(lead, "Puedo hablar después de las 6")
        before = len(h.telegram.sent) + len(h.sms.sent)
        await h.agent_sends("ana", f"aceptar {code}")
        to_ana = [m.text for m in h.telegram.sent + h.sms.sent
                  if m.address in ("7101", PHONES["ana"])]
        assert any("calle 8" in t for t in to_ana) and any("después de las 6" in t for t in to_ana)
        assert len(h.telegram.sent) + len(h.sms.sent) > before
        # Forwarded once: a later accept-path replay (or a later message) does not repeat them.
        await h.lead_writes(lead, "gracias")
        assert sum("calle 8" in m.text for m in h.telegram.sent + h.sms.sent) == 1


async def test_the_end_of_the_ladder_has_reminders_then_the_last_resort(tmp_path: Path) -> None:
    async with harness(tmp_path, accept={"pool": False, "last_resort": "ana",
                                         "reminders_before_last_resort": 1}) as h:
        lead = await h.new_lead()
        await h.handoff_lead(lead, intent="sell", location="Brickell", name="Tom")
        code = h.code_in(h.to_agent("james")[0])
        for _ in range(4):
            await h.advance(5)
        assert (await h.conversation(lead)).status == "pending"  # no pool: still waiting
        carmen = len(h.to_agent("carmen"))
        assert carmen >= 1  # the team lead was alerted
        await h.advance(30)  # first reminder: the team lead again
        assert len(h.to_agent("carmen")) == carmen + 1
        await h.advance(30)  # then the last resort
        assert any(code in t for t in h.to_agent("ana"))
        types = await h.audit_types(lead)
        assert "escalation.reminder" in types and "escalation.last_resort" in types
        await h.agent_sends("ana", f"accept {code}")
        assert (await h.conversation(lead)).status == "agent"
        before = len(h.to_agent("carmen")) + len(h.to_agent("ana"))
        await h.advance(60)  # accepted: the reminders stop
        assert len(h.to_agent("carmen")) + len(h.to_agent("ana")) == before + 0
