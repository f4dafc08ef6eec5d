"""Generic CRM by email: one plain-text lead email per event, in the lead-metadata convention.

Many CRMs (and most "lead parsers") create a lead from an email whose body has `Name:`,
`Phone:`, `Email:`, `Message:` and `Source:` lines. Pronto writes exactly those first, then a
few of its own (`Event:`, `Language:`, `Transcript:`), and sends it over SMTP from the
endpoint's `url` (`smtp://host:port`). The stdlib client runs in a thread (no new dependency);
the `Message-ID` is derived from the delivery id so a retried email is recognisably the same.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from gateway.config.crm import Endpoint
from gateway.crm.base import DeliveryFailed, Outgoing
from gateway.crm.notes import note_body, note_subject, summary


def lead_email(item: Outgoing, *, sender: str, to: list[str]) -> EmailMessage:
    """The lead email for one event."""
    env = item.envelope
    lead: dict[str, Any] = env.get("lead") or {}
    data = env.get("data") or {}
    message = data["text"] if "text" in data else summary(lead)
    if item.event not in ("lead.created", "lead.qualified"):
        message = (note_body(env) or "").split("\nTranscript:", 1)[0] or message
    listing = lead.get("listing") or {}
    lines = [
        f"Name: {lead.get('name') or ''}",
        f"Phone: {lead.get('phone') or ''}",
        f"Email: {lead.get('email') or ''}",
        f"Message: {' '.join(str(message).split())}",
        f"Source: {lead.get('source') or lead.get('channel') or 'Pronto'}",
        f"Event: {item.event}",
        f"Language: {lead.get('language') or ''}",
    ]
    address = listing.get("address") or listing.get("street")
    if address or listing.get("mls_id"):
        lines.append(f"Listing: {address or ''} {listing.get('mls_id') or ''}".rstrip())
    if lead.get("transcript_url"):
        lines.append(f"Transcript: {lead['transcript_url']}")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    who = lead.get("name") or f"lead #{lead.get('id', '?')}"
    msg["Subject"] = f"{note_subject(env)}: {who}"
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<pronto-crm-{item.delivery_id}@{sender.rpartition('@')[2] or 'pronto'}>"
    msg.set_content("\n".join(lines) + "\n")
    return msg


class EmailSender:
    """Delivers events as lead emails over SMTP."""

    def __init__(self, endpoint: Endpoint, *, timeout: float) -> None:
        """Create the sender (the endpoint's url is `smtp://host:port`)."""
        self.endpoint, self.timeout = endpoint, timeout
        url = urlsplit(endpoint.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 25

    async def deliver(self, item: Outgoing) -> str | None:
        """Send the lead email; 5xx refusals are dead letters, the rest are retried."""
        if not item.envelope.get("lead"):
            return None
        cfg = self.endpoint.config
        msg = lead_email(item, sender=cfg.sender, to=cfg.to)
        await asyncio.to_thread(self._send, msg)
        return None

    def _send(self, msg: EmailMessage) -> None:
        cfg = self.endpoint.config
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if cfg.starttls:
                    smtp.starttls()
                if cfg.username:
                    smtp.login(cfg.username, self.endpoint.secret.get_secret_value())
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            raise DeliveryFailed(f"smtp recipients refused {codes}",
                                 retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"smtp {exc.smtp_code}",
                                 retryable=not 500 <= exc.smtp_code < 600) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(type(exc).__name__, retryable=True) from None
