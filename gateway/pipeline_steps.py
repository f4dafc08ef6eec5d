"""Small steps of the pipeline, kept apart so `gateway.pipeline` stays readable: Rasa's sender
id, the agent's name in bot texts, the acknowledgement budget, the message's language, the
lead's answers to a feedback question or an appointment, and what the assistant learned so far
(follow-up), and a handoff the bot asked for."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.channels.base import ShowsLanguage
from gateway.config.settings import Settings
from gateway.domain.phones import to_e164
from gateway.infra.bot_client import BotReply
from gateway.messages import Inbound, utcnow
from gateway.phone_claims import PhoneClaims
from gateway.services import Services
from gateway.store.leads import after_commit, audit
from gateway.store.models import Lead, Message


def bot_sender(lead: Lead) -> str:
    """Rasa's sender id for a lead: the id plus its creation time (milliseconds), so a
    recreated database never continues another person's conversation held in Rasa's tracker
    store (which outlives the database: it is in Redis)."""
    created = lead.created_at
    return f"{lead.id}-{int(created.timestamp() * 1000) if created else 0}"


_SENTENCE_START = re.compile(r"(^|[.!?¡¿]\s*)\{agent_name\}")


def fill_agent_name(text: str, name: str) -> str:
    """Put the agent's name into a bot text; a neutral phrase that opens a sentence is
    capitalised ("An agent from our team…")."""
    text = _SENTENCE_START.sub(lambda m: m.group(1) + name[:1].upper() + name[1:], text)
    return text.replace("{agent_name}", name)


def budget_left(budget: float, msg: Message) -> float:
    """Seconds left of the acknowledgement budget, counted from the webhook's arrival (real
    time, not the business clock), not from whenever the bot call happens to start."""
    arrived = msg.received_at
    if arrived is None:
        return budget
    if arrived.tzinfo is None:
        arrived = arrived.replace(tzinfo=UTC)
    waited = (utcnow() - arrived).total_seconds()
    return budget - max(0.0, waited)


async def answers(s: Services, session: AsyncSession, lead: Lead, conv: Any, msg: Message
              ) -> bool:
    """A feedback score or an answer about an appointment; True when the message is done
    here (a score; an appointment answer while the assistant has the lead). With an agent
    owning the lead, the answer is recorded and the text still relayed to the agent."""
    if s.feedback is not None and await s.feedback.on_lead_reply(session, lead, msg):
        msg.bot_status = "skipped"
        return True
    answer = (await s.appointments.on_lead_reply(session, lead, msg)
              if s.appointments is not None else None)
    if answer is None or conv.status != "bot":
        return False
    msg.bot_status = "skipped"
    await s.outbox.queue(
        session, channel=msg.channel, address=msg.address,
        text=s.templates.render(f"appt_lead_{answer}", lead.language,
                                agent_name=s.templates.render("handoff_fallback_name",
                                                              lead.language)),
        author="system", lead_id=lead.id, conversation_id=conv.id, language=lead.language)
    return True


async def progress(s: Services, session: AsyncSession, lead: Lead, conv: Any, reply: BotReply,
                   *, handed_off: bool, first: bool = False) -> None:
    """Keep what the assistant learned so far, and (re)start or stop the follow-up (`first`:
    the lead's first answer, with no follow-up pending to move)."""
    progress = reply.custom("progress")
    if progress is not None and isinstance(progress.get("facts"), dict):
        facts = {k: str(v)[:200] for k, v in progress["facts"].items() if v}
        lead.qualification = {**(lead.qualification or {}), "in_progress": facts}
    followup = s.followup
    if followup is None:
        return
    if handed_off or conv.status != "bot":
        await followup.stop(session, lead.id)
    elif progress is not None and progress.get("pending"):
        # A question is open: if the lead goes quiet, the silent sequence nudges.
        await followup.restart(session, lead, conv, first=first)


def default_language(settings: Settings, inbound: Inbound) -> str:
    """A new lead's language before any evidence: the number it wrote to, else the channel's,
    else the default (`numbers:` in config/pronto.yml)."""
    numbers = settings.numbers
    # Adapters hand over `to` already normalised (E.164 for phone channels).
    if inbound.to and inbound.to in numbers:
        return numbers[inbound.to]
    return numbers.get(inbound.channel, settings.default_language)


async def contact(s: Services, session: AsyncSession, lead: Lead, inbound: Inbound) -> None:
    """The web chat contact card: an email is kept; a phone is only a claim until the visitor
    types the code texted to it (`gateway.phone_claims`): anyone can type anyone's number."""
    raw_phone = str(inbound.raw.get("phone") or "")
    phone = to_e164(raw_phone) if raw_phone else None
    email = str(inbound.raw.get("email") or "").strip() or None
    if email and "@" in email:
        lead.email = email
    audit(session, "lead.contact", lead_id=lead.id, phone=bool(phone), email=bool(email))
    if phone:
        await PhoneClaims(s).claim(session, lead, phone, inbound)


def decide_language(s: Services, session: AsyncSession, lead: Lead, msg: Message,
                    inbound: Inbound, *, created: bool, default: str) -> None:
    """Decide the language of the lead's message (and so of the answer); a change on an
    existing lead is audited, and a channel that shows the language is told after commit."""
    if lead.language_explicit and not created:
        previous: str | None = lead.language
    else:
        previous = None if created else lead.language
    decision = s.language.decide(inbound.text, previous=previous, fallback=default)
    if created or decision.changed or decision.explicit:
        old = lead.language
        lead.language = decision.language
        if decision.explicit:
            lead.language_explicit = True
        if not created and old != decision.language:
            audit(session, "lead.language_changed", lead_id=lead.id, old=old,
                  new=decision.language, explicit=decision.explicit,
                  confidence=round(decision.confidence, 3))
    msg.language = lead.language
    adapter = s.channels.get(inbound.channel)
    if isinstance(adapter, ShowsLanguage):
        set_language = adapter.set_language
        lang, address = lead.language, inbound.address
        after_commit(session, lambda: set_language(address, lang))


async def request_handoff(
    s: Services, session: AsyncSession, lead: Lead, conv: Any, payload: dict[str, Any]
) -> str | None:
    """The bot asked for a person: keep what it learned, audit the request, and start the
    handoff while the conversation is still the bot's. Returns the agent's name, if offered."""
    data = payload.get("lead") if isinstance(payload.get("lead"), dict) else {}
    assert isinstance(data, dict)
    lead.qualification = {**(lead.qualification or {}), **data}
    if isinstance(data.get("score"), int):
        lead.score = data["score"]
    if data.get("name") and not lead.name:
        lead.name = str(data["name"])[:200]
    reason = str(payload.get("reason") or "qualified")
    audit(session, "handoff.requested", lead_id=lead.id, reason=reason,
          ceiling=bool(payload.get("ceiling")))
    if s.handoff is None or conv.status != "bot":
        return None
    return await s.handoff.begin(
        session, lead=lead, conversation=conv, reason=reason, payload=payload
    )
