"""Email as a conversation channel, for leads who gave only an email address (a form or a
portal email without a phone).

Out: plain-text email over SMTP (the stdlib client in a thread) from `PRONTO_EMAIL_FROM`, with
Reply-To the same address so the lead's answer comes back through the lead-email listener or
webhook; without `PRONTO_EMAIL_SMTP_URL` sends go to the dry-run outbox like texts do. In:
replies are recognised by the intake (`gateway.intake.emails`) and queued as messages on the
"email" channel; this adapter has no webhook of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

from aiohttp import web

from gateway.channels.base import ChannelContext
from gateway.config.settings import Settings
from gateway.errors import BadRequest, ProviderRejected, RateLimited
from gateway.messages import Inbound, Outbound, SendResult

EMAIL = "email"
SUBJECT = "Your inquiry"


class EmailChannel:
    """The email adapter."""

    name = EMAIL
    channels = frozenset({EMAIL})

    def __init__(self, settings: Settings, timeout: float = 20.0) -> None:
        self.settings, self.timeout = settings, timeout
        url = urlsplit(settings.email_smtp_url) if settings.email_smtp_url else None
        self.scheme = url.scheme if url else ""
        self.host = url.hostname if url else None
        self.port = url.port if url and url.port else (465 if self.scheme == "smtps" else 25)

    async def verify(self, request: web.Request) -> None:
        """Replies arrive through `POST /webhooks/email` (intake), never here."""
        raise BadRequest("email replies go to /webhooks/email")

    async def parse(self, request: web.Request) -> list[Inbound]:
        """Nothing to parse: see `verify`."""
        return []

    def webhook_response(self) -> web.Response:
        """Unused (no webhook)."""
        return web.Response(status=204)

    async def start(self, context: ChannelContext | None = None) -> None:
        """Nothing to open: each send is one SMTP session."""

    async def close(self) -> None:
        """Nothing to close."""

    def message(self, out: Outbound) -> EmailMessage:
        """The email for one outbound message."""
        msg = EmailMessage()
        sender = self.settings.email_from or f"{self.settings.brokerage} <no-reply@localhost>"
        msg["From"], msg["Reply-To"], msg["To"] = sender, sender, out.address
        msg["Subject"] = f"{SUBJECT} — {self.settings.brokerage}"
        msg["Message-ID"] = make_msgid(domain="pronto.local")
        msg.set_content(out.text)
        return msg

    async def send(self, message: Outbound) -> Sequence[SendResult]:
        """Send one email; the dry-run outbox without an SMTP server configured."""
        msg = self.message(message)
        if self.host is None:
            return [SendResult(f"DRY{secrets.token_hex(16)}", "dry_run")]
        await asyncio.to_thread(self._send, msg)
        return [SendResult(str(msg["Message-ID"]).strip("<>"), "sent")]

    def _send(self, msg: EmailMessage) -> None:
        assert self.host is not None
        smtp_cls = smtplib.SMTP_SSL if self.scheme == "smtps" else smtplib.SMTP
        try:
            with smtp_cls(self.host, self.port, timeout=self.timeout) as smtp:
                if self.scheme == "smtp+starttls":
                    smtp.starttls()
                if self.settings.email_smtp_user:
                    smtp.login(self.settings.email_smtp_user,
                               self.settings.email_smtp_password.get_secret_value())
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ProviderRejected("recipient refused", code="smtp-550") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise ProviderRejected(f"smtp {exc.smtp_code}",
                                       code=f"smtp-{exc.smtp_code}") from exc
            raise RateLimited(f"smtp {exc.smtp_code}", retry_after=30.0) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise RateLimited(type(exc).__name__, retry_after=30.0) from exc
