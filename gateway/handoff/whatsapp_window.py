"""WhatsApp's 24-hour window for an agent's relay (issue 13).

WhatsApp delivers free-form text only within 24 hours of the lead's last message; after that
Twilio fails the send (63016) and the agent, who thinks the lead got it, waits in vain. So
before a relay on WhatsApp the window is checked, and outside it no free text is attempted:
the configured approved template (`whatsapp.reengage_content_sid` in config/pronto.yml, a
Twilio ContentSid with variables) goes instead, once per closed window, and the agent is told
their text was held back; with no template configured the agent is told to call or use SMS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain.utc import as_utc
from gateway.handoff.ports import HandoffPort
from gateway.messages import WHATSAPP
from gateway.store.leads import audit
from gateway.store.models import Agent, Conversation, Lead, Message

WINDOW = timedelta(hours=24)


async def last_whatsapp_inbound(session: AsyncSession, lead_id: int) -> datetime | None:
    """When the lead last wrote on WhatsApp (None: never)."""
    last = await session.scalar(
        select(func.max(Message.received_at)).where(
            Message.lead_id == lead_id, Message.direction == "in", Message.channel == WHATSAPP))
    return as_utc(last)


async def held_outside_window(
    hf: HandoffPort, session: AsyncSession, agent: Agent, lead: Lead, conv: Conversation,
    code: str,
) -> bool:
    """Whether the relay must not go as text because WhatsApp's window is closed.

    Returns:
        True when the relay was handled here (template sent or agent told): the caller sends
        nothing. False when the lead is not on WhatsApp or its window is open.
    """
    if lead.last_channel != WHATSAPP or not lead.last_address:
        return False
    now = hf.services.clock()
    last = await last_whatsapp_inbound(session, lead.id)
    if last is not None and now - last < WINDOW:
        return False
    cfg = hf.services.settings.whatsapp
    if not cfg.reengage_content_sid:
        audit(session, "relay.whatsapp_window_closed", lead_id=lead.id, agent_id=agent.id,
              at=now, code=code, template=False)
        await hf.tell_agent(session, agent, "agent_whatsapp_window_closed", code=code)
        return True
    sent_since = select(Message.id).where(
        Message.lead_id == lead.id, Message.direction == "out",
        Message.content_sid.is_not(None), Message.status.notin_(("failed", "refused")))
    if last is not None:
        sent_since = sent_since.where(Message.created_at >= last)
    already = await session.scalar(sent_since.limit(1))
    if already is None:
        values = {"lead_name": (lead.name or "").split(" ")[0] or "there",
                  "agent_name": agent.name.split()[0], "brokerage": hf.services.settings.brokerage}
        variables = {k: v.format_map(values) for k, v in cfg.variables.items()}
        await hf.services.outbox.queue(
            session, channel=WHATSAPP, address=lead.last_address, text=cfg.preview,
            author="system", lead_id=lead.id, conversation_id=conv.id, language=lead.language,
            content_sid=cfg.reengage_content_sid, content_variables=variables)
    audit(session, "relay.whatsapp_window_closed", lead_id=lead.id, agent_id=agent.id,
          at=now, code=code, template=True, template_sent=already is None)
    await hf.tell_agent(session, agent, "agent_whatsapp_template_sent", code=code)
    return True
