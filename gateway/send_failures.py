"""What a failed send means, beyond its row (DESIGN §1.6: provider errors by meaning).

The outbox (`gateway.infra.outbound`) and the status callback (`gateway.app`) both report a
send that failed for good here (`Outbox.failed`). Two meanings are acted on:

* The recipient opted out at the carrier (Twilio 21610): the same path as a STOP
  (`ComplianceFlow.carrier_opt_out`: offers withdrawn and audited, caps freed, timers
  cancelled, agents told), without the confirmation text the carrier would block anyway.
  Only when the failed message went to one of the lead's own addresses: a confirmation code
  texted to a number a web chat visitor only *claimed* says nothing about the visitor.
* An agent's relay did not reach the lead (63016: WhatsApp's 24-hour window closed; 21610;
  any other refusal): the agent is told, in their language, which lead and why, once per
  message even when the provider reports the failure twice.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.compliance_flow import ComplianceFlow
from gateway.infra.send_failure import SendFailure
from gateway.services import Services
from gateway.store import handoff as hs
from gateway.store.leads import audit
from gateway.store.models import Agent, AuditEvent, Identity, Lead, Message

log = logging.getLogger(__name__)
REASONS = {"63016": "send_failed_63016", "21610": "send_failed_21610"}
"""Provider codes with their own wording for the agent; others say "refused (code …)"."""
NOT_TOLD = frozenset({"opted_out"})
"""Pronto's own reasons the agent hears about otherwise (the opt-out told them already)."""


@runtime_checkable
class TellsAgentsInTheirLanguage(Protocol):
    """The part of the handoff engine this module needs."""

    async def tell_agent(self, session: AsyncSession, to: Agent, template: str,
                         **values: Any) -> None:
        """Send an agent a template in their language."""

    def agent_language(self, agent: Agent) -> str:
        """The language of an agent's messages."""


class SendFailures:
    """The outbox's failure listener (`Outbox.on_failure`)."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def __call__(self, session: AsyncSession, failure: SendFailure) -> None:
        """Apply one failure's meaning in the caller's transaction."""
        msg = (await session.get(Message, failure.message_id)
               if failure.message_id is not None else None)
        lead = await session.get(Lead, failure.lead_id) if failure.lead_id is not None else None
        if failure.opted_out and lead is not None:
            if msg is None or await _lead_address(session, lead, msg.address):
                await ComplianceFlow(self.s).carrier_opt_out(
                    session, lead, channel=msg.channel if msg else "sms",
                    code=failure.code or "21610", message_id=failure.message_id)
        if (msg is not None and msg.author == "agent" and msg.agent_id is not None
                and failure.code not in NOT_TOLD):
            await self._tell_agent(session, msg, failure.code or "")

    async def _tell_agent(self, session: AsyncSession, msg: Message, code: str) -> None:
        teller = self.s.handoff
        agent = await session.get(Agent, msg.agent_id)
        if agent is None or not isinstance(teller, TellsAgentsInTheirLanguage):
            return
        told = (await session.scalars(select(AuditEvent.data).where(
            AuditEvent.lead_id == msg.lead_id, AuditEvent.type == "relay.failed"))).all()
        if any(d.get("message_id") == msg.id for d in told):
            return  # the provider reported it twice (a send error, then a callback)
        conv_code = (await hs.conversation_code(session, msg.conversation_id)
                     if msg.conversation_id is not None else f"#{msg.lead_id}")
        lang = teller.agent_language(agent)
        reason = self.s.templates.render(REASONS.get(code, "send_failed_other"), lang,
                                         error=code or "?")
        audit(session, "relay.failed", lead_id=msg.lead_id, agent_id=agent.id,
              message_id=msg.id, code=code, conversation_code=conv_code)
        await teller.tell_agent(session, agent, "agent_relay_failed", code=conv_code,
                                reason=reason)
        log.info("agent %s told their relay %s to lead %s failed (%s)", agent.id, msg.id,
                 msg.lead_id, code)


async def _lead_address(session: AsyncSession, lead: Lead, address: str) -> bool:
    """Whether `address` is the lead's own (its phone, or a confirmed identity)."""
    if lead.phone == address:
        return True
    found = await session.scalar(select(Identity.id).where(
        Identity.lead_id == lead.id, Identity.address == address,
        Identity.kind != "phone_claim"))
    return found is not None
