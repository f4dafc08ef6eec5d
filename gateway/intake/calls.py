"""Missed calls on the business number: `POST /webhooks/twilio/voice` and
`POST /webhooks/twilio/voice/status`.

The call rings the lead's own agent (or the agent routing would choose now) for the configured
timeout. When nobody answers (no-answer, busy, failed), the caller is texted back within
seconds in their likely language and the lead goes through the normal qualification and
handoff; the caller may also leave a voicemail, which is attached to the lead. Calls are signed
like messages and deduplicated on CallSid (a retried callback touches nobody twice).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.channels.twilio import EMPTY_TWIML, TwilioChannel
from gateway.config.handoff import HandoffConfig
from gateway.domain.phones import to_e164
from gateway.domain.routing import LeadFacts, route
from gateway.intake.record import IntakeLead
from gateway.intake.service import Intake
from gateway.store import handoff as hs
from gateway.store.intake import find_record, lead_by_identity
from gateway.store.leads import audit
from gateway.store.models import Agent, Conversation, Lead

log = logging.getLogger(__name__)
SOURCE = "call"
MISSED = {"no-answer", "busy", "failed", "canceled"}
_SAY_LANG = {"en": "en-US", "es": "es-MX"}
_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")


def _call_ref(params: dict[str, str]) -> str:
    """The CallSid for a log line, only when it is shaped like one: the field comes from the
    request, and whatever else it holds (a phone number, say) must not reach the logs."""
    sid = params.get("CallSid", "")
    return sid if _CALL_SID.match(sid) else "(malformed CallSid)"
CALL_BASIS = "The prospect phoned our number {to} and nobody answered; we text back that number."


def twiml(body: str) -> web.Response:
    """A TwiML answer."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'
    return web.Response(text=xml, content_type="text/xml")


class Calls:
    """The voice webhooks; one per app."""

    def __init__(self, intake: Intake, twilio: TwilioChannel, handoff: HandoffConfig) -> None:
        self.intake, self.twilio, self.handoff = intake, twilio, handoff

    @property
    def _status_url(self) -> str:
        return f"{self.intake.s.settings.public_url}/webhooks/twilio/voice/status"

    async def voice(self, request: web.Request) -> web.Response:
        """An incoming call: ring an agent; when there is nobody to ring, it is missed now."""
        params = await self.twilio.verified_params(request)
        caller = to_e164(params.get("From", ""))
        async with self.intake.s.store.maker() as session:
            target = await self.dial_target(session, caller, params.get("To", ""))
        if target is None:
            return await self._missed(params)
        timeout = self.intake.config.dial_timeout_seconds
        dial = (f"<Dial timeout=\"{timeout}\" action={quoteattr(self._status_url)} "
                f"method=\"POST\"><Number>{escape(target)}</Number></Dial>")
        return twiml(dial)

    async def status(self, request: web.Request) -> web.Response:
        """The dial's outcome (DialCallStatus), or a voicemail recording (RecordingUrl)."""
        params = await self.twilio.verified_params(request)
        if params.get("RecordingUrl"):
            await self._voicemail(params)
            return twiml("")
        outcome = params.get("DialCallStatus", "")
        if outcome in MISSED:
            return await self._missed(params)
        if outcome == "completed":
            async with self.intake.s.store.transaction() as session:
                caller = to_e164(params.get("From", ""))
                lead = await lead_by_identity(session, "phone", caller) if caller else None
                audit(session, "call.answered", lead_id=lead.id if lead else None,
                      call=params.get("CallSid", "")[:64])
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def dial_target(self, session: AsyncSession, caller: str | None, to: str
                          ) -> str | None:
        """The phone to ring: the agent who owns this caller's lead, else the agent routing
        chooses now (language of the number, working or on call), else nobody."""
        agents = await hs.active_agents(session)
        if caller:
            lead = await lead_by_identity(session, "phone", caller)
            if lead is not None:
                owner_id = await session.scalar(
                    select(Conversation.agent_id).where(
                        Conversation.lead_id == lead.id, Conversation.status == "agent"))
                owner = await session.get(Agent, owner_id) if owner_id else None
                if owner is not None and owner.phone and owner.active:
                    return owner.phone
        settings = self.intake.s.settings
        language = settings.numbers.get(to_e164(to) or to, settings.default_language)
        decision = route(self.handoff.profiles, await hs.agent_loads(session, agents),
                         LeadFacts(language), self.intake.s.clock())
        if not decision.agents or "unavailable" in decision.rule.split("+"):
            return None  # nobody working or on call: straight to the text-back
        chosen = agents.get(decision.agents[0])
        return chosen.phone if chosen is not None and chosen.phone else None

    async def _missed(self, params: dict[str, str]) -> web.Response:
        caller = to_e164(params.get("From", ""))
        call_sid = params.get("CallSid", "")
        if not caller or not call_sid:
            # A withheld number cannot be texted back; nothing to record as a lead.
            log.info("missed call without a callable number (call %s)", call_sid[:64])
            return twiml("")
        to = to_e164(params.get("To", "")) or params.get("To", "")
        item = IntakeLead(
            kind="call", source=SOURCE, external_id=call_sid, phone=caller,
            consent_kind="call", consent_text=CALL_BASIS.format(to=to),
            extra={"dial_status": params.get("DialCallStatus", "no-agent")},
        )
        result = await self.intake.take(item, to=to)
        async with self.intake.s.store.maker() as session:
            lang = await session.scalar(
                select(Lead.language).where(Lead.id == result.lead_id)) or "en"
        prompt = self.intake.s.templates.render("voicemail_prompt", lang)
        record = (f"<Say language=\"{_SAY_LANG.get(lang, 'en-US')}\">{escape(prompt)}</Say>"
                  f"<Record maxLength=\"{self.intake.config.voicemail_max_seconds}\" "
                  f"action={quoteattr(self._status_url)} method=\"POST\" playBeep=\"true\"/>")
        return twiml(record)

    async def _voicemail(self, params: dict[str, str]) -> None:
        url = params.get("RecordingUrl", "")
        if not _provider_url(url):
            log.warning("voicemail url refused (not Twilio's host) for call %s",
                        _call_ref(params))
            return
        async with self.intake.s.store.transaction() as session:
            record = await find_record(session, SOURCE, params.get("CallSid", ""))
            if record is None or record.data.get("recording_url"):
                return
            record.data = {**record.data, "recording_url": url,
                           "recording_seconds": params.get("RecordingDuration")}
            audit(session, "call.voicemail", lead_id=record.lead_id, intake_id=record.id,
                  seconds=params.get("RecordingDuration"))


def _provider_url(url: str) -> bool:
    """Recordings are kept only from Twilio's own HTTPS hosts (never a caller-chosen URL)."""
    host = urlsplit(url)
    return host.scheme == "https" and (host.hostname or "").endswith(".twilio.com")


CALLS = web.AppKey("calls", Calls)


async def voice(request: web.Request) -> web.Response:
    """`POST /webhooks/twilio/voice`."""
    return await request.app[CALLS].voice(request)


async def voice_status(request: web.Request) -> web.Response:
    """`POST /webhooks/twilio/voice/status`."""
    return await request.app[CALLS].status(request)


def add_call_routes(app: web.Application) -> None:
    """Register the voice webhooks (before `/webhooks/{name}` catches them)."""
    app.router.add_post("/webhooks/twilio/voice", voice)
    app.router.add_post("/webhooks/twilio/voice/status", voice_status)
