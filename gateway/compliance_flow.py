"""What the pipeline does with a message about consent: STOP / START / HELP keywords, a
revocation written as a sentence, or a request about how we write (flagged for the agent).

The decisions are pure (`gateway.domain.compliance`); this module applies them in the message's
transaction. An opt-out, by keyword or in free text, is one path: the lead is marked (time,
channel and the words used go to the audit trail); every timer of the lead is cancelled and its
messages still waiting for the bot are skipped; offers still waiting for an agent are withdrawn
(so the agents' caps are freed) and a conversation still waiting for one is closed; the agent
who owns the lead or was offered it is told; the lead gets one confirmation in its language.
A carrier's opt-out (Twilio 21610, `carrier_opt_out`) takes the same path, without the
confirmation: the carrier already blocks every text to that number.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.domain.compliance import Keyword, Verdict, assess, keyword, keyword_language
from gateway.messages import Inbound
from gateway.services import Services
from gateway.store import handoff as hs
from gateway.store.leads import audit, on_commit
from gateway.store.models import Agent, Assignment, Conversation, Lead, Message

WORDS_MAX = 80
NOTE_TEXT_MAX = 160
WAITING = ("pending", "pool")


@runtime_checkable
class TellsAgents(Protocol):
    """The part of the handoff engine that messages an agent in their language."""

    async def tell_agent(self, session: AsyncSession, to: Agent, template: str,
                         **values: Any) -> None:
        """Send an agent a template in their language, on one channel."""


class ComplianceFlow:
    """Consent rules for one inbound lead message."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def screen(
        self, session: AsyncSession, lead: Lead, msg: Message, inbound: Inbound, *,
        created: bool = False,
    ) -> bool:
        """Apply keywords, then free-text revocation, to a lead's message.

        Returns:
            True when the message is consumed (answered here; neither bot nor agent sees it).
            A flagged message is not consumed: it goes on to the bot or the agent as usual.
        """
        kw = keyword(inbound.text, opted_out=lead.opted_out)
        if kw is not None:
            await self.on_keyword(session, lead, msg, kw, inbound)
            return True
        if lead.opted_out:
            return False  # the pipeline records it as ignored
        verdict = assess(inbound.text)
        if verdict is None:
            return False
        if verdict.revokes:
            msg.bot_status = "skipped"
            if created:  # a new lead's language is only the number's default: words tell
                lead.language = verdict.language
            await self.opt_out(session, lead, msg, inbound, reason="revocation",
                               words=verdict.words, language=lead.language, rule=verdict.rule)
            return True
        await self.flag(session, lead, msg, inbound, verdict)
        return False

    async def on_keyword(
        self, session: AsyncSession, lead: Lead, msg: Message, kw: Keyword, inbound: Inbound
    ) -> None:
        """STOP, START or HELP sent as the whole message."""
        msg.bot_status = "skipped"
        lang = keyword_language(inbound.text) or lead.language
        words = inbound.text.strip()[:WORDS_MAX]
        if kw is Keyword.STOP:
            if not lead.opted_out:  # else: confirmed once already
                await self.opt_out(session, lead, msg, inbound, reason="keyword", words=words,
                                   language=lang)
            return
        if kw is Keyword.START:
            if lead.opted_out:
                lead.opted_out = False
                lead.opted_out_at = None
                audit(session, "lead.opted_in", lead_id=lead.id, at=self.s.clock(),
                      channel=inbound.channel, words=words, message_id=msg.id)
            template = "start_confirm"
        else:
            audit(session, "lead.help", lead_id=lead.id, channel=inbound.channel)
            template = "help"
        await self._tell_lead(session, lead, inbound, template, lang)

    async def opt_out(
        self, session: AsyncSession, lead: Lead, msg: Message, inbound: Inbound, *, reason: str,
        words: str, language: str, rule: str | None = None,
    ) -> None:
        """Record the opt-out and apply everything it implies (see the module docstring)."""
        if await self._opted_out(session, lead, reason=reason, channel=inbound.channel,
                                 words=words, rule=rule, message_id=msg.id):
            await self._tell_lead(session, lead, inbound, "stop_confirm", language)

    async def carrier_opt_out(
        self, session: AsyncSession, lead: Lead, *, channel: str, code: str,
        message_id: int | None,
    ) -> None:
        """The carrier refused a send: the recipient opted out there (Twilio 21610).

        The same effects as a STOP (offers withdrawn, caps freed, timers cancelled, agents
        told), but no confirmation text: the carrier blocks every text to that number now.
        """
        await self._opted_out(session, lead, reason=f"provider:{code}", channel=channel,
                              words="", rule=None, message_id=message_id)

    async def _opted_out(
        self, session: AsyncSession, lead: Lead, *, reason: str, channel: str, words: str,
        rule: str | None, message_id: int | None,
    ) -> bool:
        """Mark the lead and apply the effects; False when it was opted out already."""
        now = self.s.clock()
        res = await session.execute(
            update(Lead).where(Lead.id == lead.id, Lead.opted_out.is_(False))
            .values(opted_out=True, opted_out_at=now)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return False  # another worker recorded it first
        lead.opted_out, lead.opted_out_at = True, now
        audit(session, "lead.opted_out", lead_id=lead.id, at=now, reason=reason,
              channel=channel, words=words, rule=rule, message_id=message_id)
        # "provider:21610" counts as "provider": the label set stays bounded.
        on_commit(session, metrics.OPT_OUTS.labels(reason=reason.split(":")[0]).inc)
        await self.s.timers.cancel(session, lead_id=lead.id)
        # Messages still waiting for the bot (Rasa was down) will not be answered either.
        await session.execute(
            update(Message).where(Message.lead_id == lead.id, Message.bot_status == "pending")
            .values(bot_status="skipped")
        )
        await self._withdraw(session, lead)
        return True

    async def flag(
        self, session: AsyncSession, lead: Lead, msg: Message, inbound: Inbound, verdict: Verdict
    ) -> None:
        """A request about timing, frequency or channel: audit it, tell the owning agent."""
        audit(session, "compliance.flagged", lead_id=lead.id, at=self.s.clock(),
              message_id=msg.id, reason=verdict.reason, rule=verdict.rule, words=verdict.words,
              language=verdict.language, channel=inbound.channel)
        conv = await session.scalar(
            select(Conversation).where(Conversation.lead_id == lead.id,
                                       Conversation.status == "agent")
            .order_by(Conversation.id.desc()).limit(1)
        )
        agent = await session.get(Agent, conv.agent_id) if conv and conv.agent_id else None
        teller = self.s.handoff
        if conv is None or agent is None or not isinstance(teller, TellsAgents):
            return
        text = " ".join(inbound.text.split())
        if len(text) > NOTE_TEXT_MAX:
            text = text[: NOTE_TEXT_MAX - 1] + "…"
        await teller.tell_agent(session, agent, "agent_lead_flagged",
                                code=await hs.conversation_code(session, conv.id),
                                name=lead.name or f"#{lead.id}", text=text)

    async def _withdraw(self, session: AsyncSession, lead: Lead) -> None:
        """Withdraw waiting offers, close a waiting conversation, tell the agents concerned."""
        now = self.s.clock()
        # Conversation rows first, as an accept takes them (after the timer rows, which the
        # cancel above took): racing an accept queues up instead of deadlocking.
        convs = list((await session.execute(
            select(Conversation).where(Conversation.lead_id == lead.id,
                                       Conversation.status.in_((*WAITING, "agent")))
            .order_by(Conversation.id).with_for_update()
        )).scalars())
        offers = list((await session.execute(
            select(Assignment).where(Assignment.lead_id == lead.id,
                                     Assignment.status == "offered")
            .order_by(Assignment.id)
        )).scalars())
        tell: dict[int, str] = {}
        for a in offers:
            if await hs.transition(session, Assignment, a.id, where={"status": "offered"},
                                   status="withdrawn", decided_at=now):
                a.status = "withdrawn"
                audit(session, "assignment.withdrawn", lead_id=lead.id, agent_id=a.agent_id,
                      at=now, assignment_id=a.id, code=a.code, reason="opted_out")
                tell.setdefault(a.agent_id, a.code)
        for conv in convs:
            if conv.status == "agent" and conv.agent_id is not None:
                tell.setdefault(conv.agent_id, await hs.conversation_code(session, conv.id))
            elif conv.status in WAITING and await hs.transition(
                session, Conversation, conv.id, where={"status": WAITING}, status="closed"
            ):
                audit(session, "conversation.closed", lead_id=lead.id, at=now,
                      conversation_id=conv.id, reason="opted_out", was=conv.status)
                conv.status = "closed"
        teller = self.s.handoff
        if not isinstance(teller, TellsAgents):
            return
        for agent_id, code in tell.items():
            agent = await session.get(Agent, agent_id)
            if agent is not None:
                await teller.tell_agent(session, agent, "agent_lead_opted_out", code=code)

    async def _tell_lead(
        self, session: AsyncSession, lead: Lead, inbound: Inbound, template: str, lang: str
    ) -> None:
        await self.s.outbox.queue(
            session,
            channel=inbound.channel,
            address=inbound.address,
            text=self.s.templates.render(template, lang, brokerage=self.s.settings.brokerage),
            author="system",
            lead_id=lead.id,
            language=lang,
        )
