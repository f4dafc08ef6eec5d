"""`pronto demo-data`: seed a realistic week into the configured database for the dashboard.

Hundreds of leads in English and Spanish over SMS, WhatsApp, Telegram and web chat, some from
the website, Zillow and missed calls; the bot qualifies them, agents from config/agents.yml
accept (mostly in time, slower after hours, some never), escalations, replies, outcomes and
opt-outs. Every row goes through the real models with the audit events the live system writes,
so the dashboard shows what it would show after a real week. Deterministic for a given seed;
stories that would end after `now` stop where `now` finds them (leads waiting right now).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config.handoff import HandoffConfig
from gateway.messages import utcnow
from gateway.store.models import Agent, Assignment, AuditEvent, Consent, Conversation, Lead, Message

FIRST = {"en": ["James", "Olivia", "Noah", "Emma", "Liam", "Ava", "Mason", "Sophia", "Ethan",
                "Mia", "Lucas", "Harper"],
         "es": ["María", "José", "Lucía", "Carlos", "Sofía", "Javier", "Valentina", "Diego",
                "Camila", "Andrés", "Isabella", "Mateo"]}
LAST = {"en": ["Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor"],
        "es": ["García", "Rodríguez", "Martínez", "López", "Hernández", "Pérez", "Gómez",
               "Díaz"]}
TEXT: dict[str, dict[str, Any]] = {
    "en": {"in": ["Hi, is the house on Coral Way still available?", "Looking to buy in Brickell",
                  "3 bedrooms", "around 650k", "in the next 2 months", "pre-approved",
                  "Can someone call me?", "what about HOA fees?", "ok thanks"],
           "bot": ["Hi! I'm Pronto Realty's assistant. Are you looking to buy, sell or rent?",
                   "Great. Which area are you interested in?", "How many bedrooms?",
                   "What budget do you have in mind?", "When are you hoping to move?",
                   "Thanks! An agent will contact you shortly."],
           "ack": "Thanks for your message! We'll get right back to you.",
           "intro": "{agent} from Pronto Realty will help you from here.",
           "agent": ["Hi, this is {agent}. When could you see the house?",
                     "I can show it tomorrow at 5pm, does that work?", "Perfect, see you then."],
           "low": ["do u guys do short sales w/ hoa", "my cousin said 2 call", "k"],
           "stop": "STOP"},
    "es": {"in": ["Hola, ¿sigue disponible la casa de Coral Way?", "Busco comprar en Hialeah",
                  "3 habitaciones", "unos 450 mil", "en dos meses", "ya tengo preaprobación",
                  "¿Me pueden llamar?", "¿y la cuota de la asociación?", "gracias"],
           "bot": ["¡Hola! Soy el asistente de Pronto Realty. ¿Busca comprar, vender o alquilar?",
                   "Perfecto. ¿En qué zona le interesa?", "¿Cuántas habitaciones?",
                   "¿Qué presupuesto tiene en mente?", "¿Para cuándo piensa mudarse?",
                   "¡Gracias! Un agente le contactará en breve."],
           "ack": "¡Gracias por su mensaje! Le respondemos enseguida.",
           "intro": "{agent} de Pronto Realty le atenderá a partir de ahora.",
           "agent": ["Hola, soy {agent}. ¿Cuándo podría ver la casa?",
                     "Puedo enseñársela mañana a las 5, ¿le viene bien?", "Perfecto, nos vemos."],
           "low": ["mi primo dijo q escribiera", "lo de la hipoteca ese", "ok y"],
           "stop": "BAJA"},
}
CHANNELS = (("sms", 40), ("whatsapp", 25), ("webchat", 20), ("telegram", 15))
INTAKE = (("website", 14), ("zillow", 11), ("call", 6))


@dataclass
class _Story:
    """One lead's events in time order; `until` cuts the story at `now`."""

    session: AsyncSession
    lead: Lead
    conv: Conversation
    now: datetime
    channel: str
    cut: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def ok(self, at: datetime) -> bool:
        if at > self.now:
            self.cut = True
        return not self.cut

    def msg(self, at: datetime, direction: str, author: str, text: str, *,
            agent_id: int | None = None, **extra: Any) -> Message | None:
        if not self.ok(at):
            return None
        lang = self.lead.language
        fields: dict[str, Any] = {}
        if direction == "out":
            ascii_only = all(ord(c) < 128 for c in text)
            per = 153 if ascii_only else 67
            fields = {"status": extra.pop("status", "dry_run"),
                      "error_code": extra.pop("error_code", None)}
            if self.channel == "sms":
                fields |= {"encoding": "GSM-7" if ascii_only else "UCS-2",
                           "segments": 1 if len(text) <= per + 7 else math.ceil(len(text) / per)}
        m = Message(lead_id=self.lead.id, conversation_id=self.conv.id, agent_id=agent_id,
                    direction=direction, author=author, channel=self.channel,
                    address=self.lead.last_address or "", text=text, language=lang,
                    created_at=at, updated_at=at, received_at=at if direction == "in" else None,
                    bot_status="done" if direction == "in" else None, **fields, **extra)
        self.session.add(m)
        self.counts["messages"] = self.counts.get("messages", 0) + 1
        return m

    def event(self, at: datetime, type_: str, agent_id: int | None = None, **data: Any) -> bool:
        if not self.ok(at):
            return False
        self.session.add(AuditEvent(lead_id=self.lead.id, agent_id=agent_id, type=type_,
                                    data=data, at=at))
        return True


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _arrival(rng: random.Random, day_start: datetime) -> datetime:
    # Evenings and weekends are when prospects browse listings: a third arrive after hours.
    hour = rng.choices(range(24), [1, 1, 0, 0, 0, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 8, 8, 9, 10,
                                   9, 7, 5, 2])[0]
    return day_start + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


async def seed(session: AsyncSession, config: HandoffConfig, agents: dict[str, Agent], *,
               days: int = 7, per_day: int = 45, now: datetime | None = None,
               seed_value: int = 7) -> dict[str, int]:
    """Seed `days` days of leads ending at `now`; returns counts of what was written."""
    rng = random.Random(seed_value)
    now = now or utcnow()
    counts: dict[str, int] = {"leads": 0, "messages": 0, "accepted": 0, "breaches": 0}
    by_lang = {lang: [a for a in agents.values() if (c := config.agent(a.key)) and
                      c.receives_leads and lang in c.languages] for lang in ("en", "es")}
    team_lead = config.team_lead(next(iter(config.team.teams), None))
    tl_agent = agents.get(team_lead.key) if team_lead else None
    first_day = config.business.local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for d in range(days - 1, -1, -1):
        day_start = first_day - timedelta(days=d)
        # A bad day mid-week (an agent out sick): accepts slow down, breaches pile up.
        slow = d == 3
        for _ in range(int(per_day * rng.uniform(0.8, 1.2))):
            at = _arrival(rng, day_start)
            if at > now:
                continue
            await _one_lead(session, config, rng, at, now, by_lang, tl_agent, counts, slow)
    return counts


async def _one_lead(session: AsyncSession, config: HandoffConfig, rng: random.Random,
                    at: datetime, now: datetime, by_lang: dict[str, list[Agent]],
                    tl_agent: Agent | None, counts: dict[str, int], slow: bool) -> None:
    lang = "es" if rng.random() < 0.42 else "en"
    w = TEXT[lang]
    intake = _pick(rng, (*INTAKE, ("", 69)))
    channel = "sms" if intake else _pick(rng, CHANNELS)
    name = f"{rng.choice(FIRST[lang])} {rng.choice(LAST[lang])}"
    phone = f"+1305555{rng.randrange(10000):04d}"
    address = {"telegram": str(rng.randrange(10**8, 10**9)), "webchat": f"wc-{rng.random():.8f}",
               "whatsapp": f"whatsapp:{phone}"}.get(channel, phone)
    lead = Lead(name=name if (intake or rng.random() < 0.7) else None, phone=phone,
                language=lang, last_channel=channel, last_address=address,
                source=intake or channel, campaign="spring-open-house" if intake else None,
                listing={"address": "2150 Coral Way, Miami"} if intake == "zillow" else None,
                created_at=at, updated_at=at, qualification={})
    session.add(lead)
    await session.flush()
    conv = Conversation(lead_id=lead.id, status="bot", created_at=at, updated_at=at)
    session.add(conv)
    await session.flush()
    counts["leads"] += 1
    s = _Story(session, lead, conv, now, channel, counts=counts)
    s.event(at, "lead.created", channel=channel)
    session.add(Consent(lead_id=lead.id, kind={"website": "form", "zillow": "portal",
                                               "call": "call"}.get(intake, "first_inbound"),
                        channel=channel, source=lead.source, given_at=at, recorded_at=at,
                        wording="I agree to be contacted by text." if intake else ""))
    business = config.business.contains(at)
    t = at
    if intake:  # Pronto writes first; the prospect answers a few minutes later
        s.msg(t + timedelta(seconds=rng.uniform(4, 15)), "out", "system", w["bot"][0])
        t += timedelta(minutes=rng.uniform(1, 25))
    s.msg(t, "in", "lead", w["in"][0])
    if rng.random() < 0.08:  # Rasa slow: the instant acknowledgement goes out at the budget
        ack = s.msg(t + timedelta(seconds=2.5), "out", "system", w["ack"])
        if ack is not None:
            await session.flush()
            s.event(t + timedelta(seconds=2.5), "bot.ack_sent", message_id=ack.id)
        t += timedelta(seconds=rng.uniform(8, 40))
    else:
        t += timedelta(seconds=rng.uniform(0.7, 3.5))
    turns = rng.randint(2, 5)
    for i in range(turns):
        failed: dict[str, Any] = ({"status": "failed",
                                   "error_code": rng.choice(["30003", "30007"])}
                                  if rng.random() < 0.03 else {})
        s.msg(t, "out", "bot", w["bot"][min(i + 1, 4)], **failed)
        t += timedelta(seconds=rng.uniform(20, 150))
        low = rng.random() < 0.1
        nlu: dict[str, Any] = ({"low_confidence": True,
                                "intent": rng.choice(["inform", "ask_listing", None]),
                                "confidence": round(rng.uniform(0.2, 0.49), 2)} if low else {})
        s.msg(t, "in", "lead", rng.choice(w["low"]) if low else w["in"][min(i + 1, 5)], **nlu)
        t += timedelta(seconds=rng.uniform(0.8, 3))
    if rng.random() < 0.04:
        s.msg(t, "in", "lead", w["stop"])
        if s.event(t, "lead.opted_out", reason="keyword"):
            lead.opted_out, lead.opted_out_at = True, t
            conv.status, conv.outcome = "closed", None
        return
    if rng.random() > 0.68 or s.cut:
        return
    lead.qualification = {"intent": rng.choice(["buy", "buy", "sell", "rent"]),
                          "location": rng.choice(["Brickell", "Coral Gables", "Hialeah",
                                                  "Miami Beach"]),
                          "bedrooms": rng.randint(1, 4), "budget_max": rng.randrange(3, 12) * 1e5,
                          "timeline_days": rng.choice([30, 60, 90]),
                          "financing": rng.choice(["preapproved", "cash", "unknown"])}
    if rng.random() < 0.2:
        lead.qualification["unparsed"] = {"location": "cerca del trabajo" if lang == "es"
                                          else "near my office"}
    lead.score = rng.randint(35, 95)
    s.msg(t, "out", "bot", w["bot"][5])
    if not s.event(t, "handoff.requested", reason="qualified", ceiling=False):
        return
    s.event(t, "handoff.begin", reason="qualified", conversation_id=conv.id, score=lead.score)
    conv.status, conv.handoff_reason = "pending", "qualified"
    await _handoff(s, config, rng, t, by_lang[lang] or [a for v in by_lang.values() for a in v],
                   tl_agent, business, slow)


async def _handoff(s: _Story, config: HandoffConfig, rng: random.Random, t: datetime,
                   pool: list[Agent], tl_agent: Agent | None, business: bool,
                   slow: bool) -> None:
    p = config.policy
    deadline = timedelta(minutes=p.accept.deadline_minutes.pick(business))
    rule = "language+area+hours" if business else "language+on_call"
    order = rng.sample(pool, len(pool))
    code = f"{rng.randrange(1000, 9999)}"
    for attempt, agent in enumerate(order[: p.accept.max_reassignments + 1], start=1):
        a = Assignment(lead_id=s.lead.id, conversation_id=s.conv.id, agent_id=agent.id,
                       code=code, status="offered", rule=rule, attempt=attempt, offered_at=t)
        s.session.add(a)
        await s.session.flush()
        s.event(t, "assignment.offered", agent.id, assignment_id=a.id, code=code, rule=rule,
                attempt=attempt)
        miss = rng.random() < (0.35 if slow else 0.12 if business else 0.2)
        if miss:
            s.event(t + deadline / 2, "escalation.realert", agent.id, assignment_id=a.id)
            if not s.event(t + deadline, "assignment.expired", agent.id, assignment_id=a.id,
                           code=code):
                return
            a.status, a.decided_at = "expired", t + deadline
            s.counts["breaches"] += 1
            t += deadline
            continue
        median = 150 if business else 420
        wait = timedelta(seconds=min(rng.lognormvariate(math.log(median * (2 if slow else 1)),
                                                        0.6), deadline.total_seconds() * 1.3))
        if not s.event(t + wait, "assignment.accepted", agent.id, assignment_id=a.id,
                       code=code, rule=rule, attempt=attempt, seconds=wait.total_seconds()):
            return
        a.status, a.decided_at = "accepted", t + wait
        s.counts["accepted"] += 1
        s.conv.status, s.conv.agent_id = "agent", agent.id
        await _with_agent(s, rng, t + wait, agent, business, slow)
        return
    if tl_agent is not None and s.event(t, "escalation.team_lead", tl_agent.id, code=code,
                                        attempts=len(order)):
        s.session.add(Assignment(lead_id=s.lead.id, conversation_id=s.conv.id,
                                 agent_id=tl_agent.id, code=code, status="offered",
                                 rule="team_lead", attempt=len(order) + 1, offered_at=t))
    if s.event(t, "escalation.pool", code=code, team="miami"):
        s.conv.status = "pool"
        if not business:
            s.event(t, "escalation.prospect_told", expect_at=(t + timedelta(hours=10)).isoformat())
        s.msg(t, "out", "system", TEXT[s.lead.language]["ack"])


async def _with_agent(s: _Story, rng: random.Random, t: datetime, agent: Agent,
                      business: bool, slow: bool) -> None:
    w = TEXT[s.lead.language]
    first = agent.name.split()[0]
    s.msg(t + timedelta(seconds=2), "out", "system", w["intro"].format(agent=first))
    for i, text in enumerate(w["agent"]):
        median = (240 if business else 1500) * (3 if slow else 1)
        t += timedelta(seconds=rng.lognormvariate(math.log(median), 0.8))
        if s.msg(t, "out", "agent", text.format(agent=first), agent_id=agent.id) is None:
            return
        s.conv.last_agent_message_at = t
        if i == len(w["agent"]) - 1 or rng.random() < 0.3:
            break
        t += timedelta(seconds=rng.uniform(30, 600))
        if s.msg(t, "in", "lead", rng.choice(w["in"][6:])) is None:
            return
        s.conv.last_lead_message_at = t
    if rng.random() < 0.25:
        s.event(t + timedelta(minutes=5), "appointment.set", agent.id)
    end = t + timedelta(days=rng.uniform(0.5, 3))
    roll = rng.random()
    outcome = "won" if roll < 0.15 else "lost" if roll < 0.35 else None
    if outcome and s.event(end, "conversation.closed", agent.id, conversation_id=s.conv.id,
                           outcome=outcome, by="agent", was="agent"):
        s.conv.status, s.conv.outcome = "closed", outcome


async def run(settings: Any, *, days: int = 7, per_day: int = 45, seed_value: int = 7,
              now: datetime | None = None) -> dict[str, int]:
    """Migrate the configured database, sync the agents, seed; the counts written."""
    from gateway.config.handoff import load_handoff_config
    from gateway.store.db import make_engine, make_sessionmaker, migrate
    from gateway.store.handoff import sync_agents

    url = settings.resolved_database_url()
    await migrate(url)
    engine = make_engine(url)
    try:
        config = load_handoff_config(settings)
        async with make_sessionmaker(engine)() as session, session.begin():
            await sync_agents(session, config)
            await session.flush()
            agents = {a.key: a for a in (await session.execute(select(Agent))).scalars()
                      if a.active}
            return await seed(session, config, agents, days=days, per_day=per_day,
                              now=now, seed_value=seed_value)
    finally:
        await engine.dispose()
