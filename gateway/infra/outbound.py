"""Outbound: every message out is stored first, sent after its transaction commits through its
channel adapter, and updated with the provider's id and status.

Provider errors are handled by meaning: opted out → mark the lead and never retry; rate limits
and transient failures → back off and retry; anything else → recorded as failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.channels.base import Channel
from gateway.errors import ChannelError, ProviderRejected, RateLimited
from gateway.messages import Button, Outbound, utcnow
from gateway.store.leads import Store, after_commit, audit, mark_opted_out
from gateway.store.models import Message

log = logging.getLogger(__name__)


class Outbox:
    """Queues outbound messages in SQL and delivers them through the channel adapters."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        max_attempts: int = 4,
        max_backoff: float = 30.0,
    ) -> None:
        """Create the outbox.

        Args:
            store: the SQL store.
            channels: adapter per message channel ("sms", "whatsapp", "telegram", "webchat").
            max_attempts: sends tried per message before it is marked failed.
            max_backoff: cap, in seconds, on one wait between attempts.
        """
        self.store = store
        self.channels = channels
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff

    async def queue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        address: str,
        text: str,
        author: str,
        lead_id: int | None = None,
        agent_id: int | None = None,
        conversation_id: int | None = None,
        language: str | None = None,
        buttons: tuple[Button, ...] = (),
        reply_to: str | None = None,
    ) -> Message:
        """Store an outbound message in `session`; it is sent once the transaction commits."""
        msg = Message(
            direction="out",
            author=author,
            channel=channel,
            address=address,
            text=text,
            lead_id=lead_id,
            agent_id=agent_id,
            conversation_id=conversation_id,
            language=language,
            status="queued",
        )
        session.add(msg)
        await session.flush()
        out = Outbound(
            channel=channel,
            address=address,
            text=text,
            buttons=buttons,
            reply_to=reply_to,
            message_id=msg.id,
        )
        async def send() -> None:
            await self.deliver(out, lead_id=lead_id)

        after_commit(session, send)
        return msg

    async def deliver(self, out: Outbound, *, lead_id: int | None) -> str:
        """Send a stored message now, with retries; returns the final status."""
        adapter = self.channels.get(out.channel)
        status, provider_id, error = "failed", None, None
        opted_out = False
        if adapter is None:
            error = "no_channel"
            log.error("no adapter for channel %s (message %s)", out.channel, out.message_id)
        else:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    results = await adapter.send(out)
                    status = results[-1].status if results else "sent"
                    provider_id = results[0].provider_id if results else None
                    error = None
                    break
                except ProviderRejected as exc:
                    error, opted_out = exc.code or "rejected", exc.opted_out
                    log.warning(
                        "provider rejected message %s for lead %s: code %s",
                        out.message_id, lead_id, error,
                    )
                    break
                except RateLimited as exc:
                    error = "rate_limited"
                    if attempt == self.max_attempts:
                        break
                    await asyncio.sleep(min(exc.retry_after, self.max_backoff))
                except ChannelError as exc:
                    error = type(exc).__name__
                    log.warning("send failed for message %s: %s", out.message_id, error)
                    break
        metrics.OUTBOUND.labels(channel=out.channel, status=status).inc()
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if provider_id:
            values["provider_id"] = provider_id
        if error:
            values["error_code"] = error
        async with self.store.transaction() as session:
            if out.message_id is not None:
                await session.execute(
                    update(Message).where(Message.id == out.message_id).values(**values)
                )
            if opted_out and lead_id is not None:
                await mark_opted_out(session, lead_id, reason=f"provider:{error}")
            if status == "failed":
                audit(
                    session, "message.failed", lead_id=lead_id,
                    message_id=out.message_id, code=error,
                )
        return status
