"""The agent who owns a conversation is told how many attachments the lead sent."""

from __future__ import annotations

from pathlib import Path

from gateway.media_intake import pending_media
from gateway.messages import Inbound
from gateway.store.leads import current_conversation
from gateway.store.models import Lead, Message
from tests.integration.handoff_harness import harness


async def test_the_relay_tells_the_agent_how_many_attachments_came(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        lead_id = await h.new_lead()
        await h.handoff_lead(lead_id, intent="buy", location="Brickell", name="Tom")
        code = h.code_in(h.to_agent("james")[0])
        await h.agent_sends("james", f"accept {code}")
        assert (await h.conversation(lead_id)).status == "agent"

        inbound = Inbound(channel="sms", provider_id="MM1", address="+13055550999",
                          text="the kitchen", media=("https://api.twilio.com/a",
                                                     "https://api.twilio.com/b"))
        async with h.store.transaction() as s:  # what the pipeline stores, then relays
            lead = await s.get(Lead, lead_id)
            assert lead is not None
            conv = await current_conversation(s, lead)
            msg = Message(direction="in", author="lead", channel="sms", address=inbound.address,
                          text=inbound.text, lead_id=lead_id, conversation_id=conv.id,
                          provider_id=inbound.provider_id, media=pending_media(inbound))
            s.add(msg)
            await s.flush()
            await h.handoff.on_lead_message(s, lead=lead, conversation=conv, message=msg)
        relayed = h.to_agent("james")[-1]
        assert "the kitchen" in relayed and "2 attachment(s)" in relayed
