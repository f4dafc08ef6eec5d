"""Lead-notification emails (Zillow, Realtor.com, Homes.com, IDX sites, the plain lead-metadata
convention) → the same lead record and first touch as a form.

Two ways in: an embedded SMTP listener (aiosmtpd; `PRONTO_SMTP_HOST`/`PRONTO_SMTP_PORT`) for a
brokerage that forwards its lead inbox, and `POST /webhooks/email` for an email provider's
inbound-parse webhook (the raw MIME in the form field `email`, authenticated by a secret).
An email no parser understands is kept whole and shown to an admin as unparsed, never dropped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import IntegrityError

from gateway import metrics
from gateway.intake.email_replies import as_inbound, sender_of
from gateway.intake.lead_email import ParsedLeadEmail, UnparsedEmail, parse_lead_email
from gateway.intake.record import Accepted, IntakeLead
from gateway.intake.service import Intake
from gateway.store.intake import find_record, lead_by_identity
from gateway.store.leads import audit
from gateway.store.models import IntakeRecord

log = logging.getLogger(__name__)
MAX_EMAIL = 10 * 1024 * 1024
UNPARSED_SOURCE = "email"


class LeadEmails:
    """Reads lead emails into intake."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def ingest(self, raw: bytes, *, via: str) -> Accepted | None:
        """Parse one email and take its lead; an unparseable one is kept for an admin.

        Args:
            raw: the whole message (RFC 5322 bytes).
            via: "smtp" or "webhook", for the record.

        Returns:
            The accepted lead, or None when the email was kept as unparsed.
        """
        if await self._is_reply(raw, via):
            return None
        # PostgreSQL text cannot hold NUL bytes; no email needs them.
        raw = raw.replace(b"\x00", b"")
        parsed = parse_lead_email(raw)
        if isinstance(parsed, UnparsedEmail):
            await self._keep_unparsed(parsed, raw, via)
            metrics.INTAKE.labels(kind="email", result="unparsed").inc()
            return None
        result = await self.intake.take(self._item(parsed, via))
        metrics.INTAKE.labels(kind="email",
                              result="duplicate" if result.duplicate else "accepted").inc()
        return result

    async def _is_reply(self, raw: bytes, via: str) -> bool:
        """An email from a lead's own address continues their conversation: queued as a
        message on the "email" channel (in order with the lead's other messages)."""
        sender = sender_of(raw)
        if not sender:
            return False
        async with self.intake.s.store.maker() as session:
            lead = await lead_by_identity(session, "email", sender)
        if lead is None:
            return False
        inbound = as_inbound(raw)
        if inbound is None:
            return True  # an empty reply from a known lead: nothing to answer
        await self.intake.s.queue.enqueue(inbound.queue_key, "inbound",
                                          {"inbound": inbound.to_json()})
        metrics.INBOUND.labels(channel="email").inc()
        return True

    def _item(self, parsed: ParsedLeadEmail, via: str) -> IntakeLead:
        # A portal email carries no consent wording of its own: the basis is configured per
        # source (intake.sources.<name>.consent); without one nobody is texted.
        basis = self.intake.config.source(parsed.source).consent
        return IntakeLead(
            kind="email", source=parsed.source, external_id=parsed.external_id,
            name=parsed.name, phone=parsed.phone,
            email=parsed.email.lower() if parsed.email else None,
            message=parsed.message or "", listing=dict(parsed.listing) or None,
            language=parsed.language, consent_kind="portal", consent_text=basis,
            consent_at=parsed.received_at, extra={"via": via, "subject": parsed.subject[:200]},
        )

    async def _keep_unparsed(self, parsed: UnparsedEmail, raw: bytes, via: str) -> None:
        store = self.intake.s.store
        try:
            async with store.transaction() as session:
                if await find_record(session, UNPARSED_SOURCE, parsed.external_id):
                    return  # the same email again
                record = IntakeRecord(
                    kind="email", source=UNPARSED_SOURCE, external_id=parsed.external_id,
                    status="unparsed", raw=raw.decode("utf-8", "replace")[:1_000_000],
                    data={"subject": parsed.subject[:200], "sender": parsed.sender[:200],
                          "reason": parsed.reason, "via": via},
                )
                session.add(record)
                await session.flush()
                audit(session, "intake.unparsed", intake_id=record.id, reason=parsed.reason)
        except IntegrityError:
            return  # a concurrent delivery of the same email kept it


class _SmtpHandler:
    """aiosmtpd handler: every message delivered is one lead email."""

    def __init__(self, emails: LeadEmails) -> None:
        self.emails = emails

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            await self.emails.ingest(raw if isinstance(raw, bytes) else raw.encode(), via="smtp")
        except Exception:
            # 4xx: the sending server keeps the email and tries again; nothing is lost.
            log.exception("lead email not stored; asked the sender to retry")
            return "451 4.3.0 Temporary failure, please retry"
        return "250 2.0.0 OK"


class _LenientSMTP(SMTP):
    # RFC 5321 caps lines at 1000 octets, but forwarders and portals send HTML on one long
    # line; refusing it would lose the lead, so accept lines up to 64 KiB.
    line_length_limit = 64 * 1024


@asynccontextmanager
async def smtp_listener(emails: LeadEmails, host: str, port: int) -> AsyncIterator[int]:
    """Serve SMTP on (host, port) while the context is open; yields the bound port."""
    handler = _SmtpHandler(emails)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _LenientSMTP(handler, data_size_limit=MAX_EMAIL, hostname="pronto",
                     ident="Pronto lead intake"),
        host=host, port=port,
    )
    bound = int(server.sockets[0].getsockname()[1])
    log.info("lead email SMTP listener on %s:%s", host, bound)
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()


EMAILS = web.AppKey("lead_emails", LeadEmails)


async def email_webhook(request: web.Request) -> web.Response:
    """`POST /webhooks/email`: an inbound-parse webhook; the raw MIME in the field `email`.

    The secret comes as `X-Pronto-Email-Secret` or `?secret=` (providers differ in what they
    can send); a wrong one is 403, a missing field 400.
    """
    emails = request.app[EMAILS]
    expected = emails.intake.s.settings.email_webhook_secret.get_secret_value()
    given = request.headers.get("X-Pronto-Email-Secret") or request.query.get("secret", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        metrics.REJECTED.labels(channel="email", reason="sig").inc()
        return web.Response(status=403, text="forbidden")
    if request.content_length is not None and request.content_length > MAX_EMAIL:
        return web.Response(status=413, text="email too large")
    try:
        form: Any = await request.post()
    except (ValueError, LookupError):
        # Undecodable form (bad UTF-8, unknown charset, multipart without a boundary): the
        # sender's fault. Oversize stays 413 (aiohttp raises that itself).
        return web.Response(status=400, text="malformed form body")
    field = form.get("email")
    if field is None:
        return web.Response(status=400, text="missing form field 'email' (the raw MIME)")
    raw = field.file.read() if hasattr(field, "file") else str(field).encode("utf-8")
    result = await emails.ingest(raw, via="webhook")
    body = {"status": "unparsed"} if result is None else {
        "status": "duplicate" if result.duplicate else "accepted", "lead_id": result.lead_id}
    return web.json_response(body)
