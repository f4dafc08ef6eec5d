"""Twilio SMS and WhatsApp: signed webhooks in, the real `twilio` client (async) out.

Without credentials, sends go to the dry-run outbox: stored with status "dry_run" and shown in
the dashboard, so the whole stack runs with no account.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from gateway.channels.base import ChannelContext
from gateway.config.settings import Settings
from gateway.domain.phones import to_e164
from gateway.errors import BadRequest, BadSignature, ProviderRejected, RateLimited
from gateway.messages import SMS, WHATSAPP, Inbound, Outbound, SendResult, StatusUpdate

log = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's limit for one message body
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio error codes by meaning.
OPTED_OUT = {"21610"}  # recipient replied STOP at the carrier
PERMANENT = {"21211", "21612", "21614", "21408", "63016", "63003", "21606"}
MAX_MEDIA = 10  # Twilio attaches at most 10 media to one message
LOOKUP_LIMIT = 20  # the recipient's newest messages read when reconciling a send
STATUSES = frozenset({
    "accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "read", "receiving", "received", "canceled", "partially_delivered",
})
"""Message statuses Twilio reports; anything else in a callback is malformed."""
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
_ERROR_CODE = re.compile(r"^\d{1,16}$")


def split_text(text: str, limit: int = MAX_BODY) -> list[str]:
    """Split a long text into parts under `limit`, preferring paragraph, line, then word breaks."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(". "), window.rfind(" "))
        if cut < limit // 2:
            cut = limit  # one very long word: hard cut
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


_VERIFIED = web.RequestKey("pronto.twilio.verified", dict[str, str])
"""Where a request keeps its checked form parameters."""


class TwilioChannel:
    """The Twilio adapter (SMS and WhatsApp share one webhook)."""

    name = "twilio"
    channels = frozenset({SMS, WHATSAPP})

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
        self.client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None

    # -- inbound ---------------------------------------------------------------------------

    def _url(self, request: web.Request) -> str:
        # The URL Twilio signed is the configured public URL + path + query; never trust
        # X-Forwarded-* headers (anyone can send them).
        return f"{self.settings.public_url}{request.rel_url}"

    async def _verified_params(self, request: web.Request) -> dict[str, str]:
        # The handler verifies, then parses: the check runs once a request. It computes two
        # HMACs (the URL with and without its port), a fifth of `pronto serve`'s time at
        # 200 webhooks/s when it ran twice.
        verified = request.get(_VERIFIED)
        if verified is None:
            verified = request[_VERIFIED] = await self._check(request)
        return verified

    async def _check(self, request: web.Request) -> dict[str, str]:
        signature = request.headers.get("X-Twilio-Signature", "")
        try:
            post = await request.post()
        except (ValueError, LookupError) as exc:
            # Undecodable form (bad UTF-8, unknown charset, broken multipart): Twilio never
            # sends one, so it is malformed, not a server fault. Oversize stays 413 (aiohttp).
            raise BadRequest("malformed form body") from exc
        params = {k: str(v) for k, v in post.items()}
        if not signature or not self.validator.validate(self._url(request), params, signature):
            raise BadSignature("twilio signature mismatch")
        # Checked as signed, then NUL dropped: Twilio never sends one, and PostgreSQL text
        # cannot hold it (the stored message would fail on every try).
        return {k.replace("\x00", ""): v.replace("\x00", "") for k, v in params.items()}

    async def verified_params(self, request: web.Request) -> dict[str, str]:
        """The form parameters of a request signed by Twilio (voice webhooks use it too).

        Raises:
            BadSignature: unsigned, or the signature does not match.
        """
        return await self._verified_params(request)

    async def verify(self, request: web.Request) -> None:
        """Check `X-Twilio-Signature` over the public URL and all form parameters."""
        await self._verified_params(request)

    async def parse(self, request: web.Request) -> list[Inbound]:
        """One Twilio message webhook → one Inbound."""
        params = await self._verified_params(request)
        sid = params.get("MessageSid") or params.get("SmsSid")
        sender = params.get("From", "")
        if not sid or not sender:
            raise BadRequest("missing MessageSid or From")
        if not _SID.match(sid):
            raise BadRequest("MessageSid is not a Twilio id")
        channel = WHATSAPP if sender.lower().startswith("whatsapp:") else SMS
        address = to_e164(sender)
        if address is None:
            raise BadRequest("From is not a phone number")
        media = tuple(
            params[f"MediaUrl{i}"] for i in range(_num_media(params)) if f"MediaUrl{i}" in params
        )
        return [
            Inbound(
                channel=channel,
                provider_id=sid,
                address=address,
                text=params.get("Body", ""),
                # Our number, normalised like the sender's, so per-number defaults match
                # whatever form the provider used ("whatsapp:+1...", "+1...").
                to=to_e164(params.get("To", "")) or params.get("To", ""),
                media=media,
                profile_name=params.get("ProfileName") or None,
                raw=params,
            )
        ]

    def webhook_response(self) -> web.Response:
        """Empty TwiML: replies are sent through the API, not in the webhook answer."""
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def parse_status(self, request: web.Request) -> list[StatusUpdate]:
        """A signed status callback → a StatusUpdate."""
        params = await self._verified_params(request)
        sid = params.get("MessageSid") or params.get("SmsSid")
        status = params.get("MessageStatus") or params.get("SmsStatus")
        if not sid or not status:
            raise BadRequest("missing MessageSid or MessageStatus")
        error_code = params.get("ErrorCode") or None
        # Only Twilio's own statuses and numeric codes are stored on the message.
        if status not in STATUSES or not _SID.match(sid):
            raise BadRequest("MessageStatus or MessageSid is not Twilio's")
        if error_code is not None and not _ERROR_CODE.match(error_code):
            raise BadRequest("ErrorCode is not a Twilio error code")
        channel = WHATSAPP if params.get("From", "").startswith("whatsapp:") else SMS
        return [
            StatusUpdate(
                channel=channel,
                provider_id=sid,
                status=status,
                error_code=error_code,
                raw=params,
            )
        ]

    # -- outbound --------------------------------------------------------------------------

    async def start(self, context: ChannelContext | None = None) -> None:
        """Create the async twilio client when credentials are configured."""
        if not self.settings.twilio_enabled:
            log.info("twilio: no credentials, outbound SMS/WhatsApp go to the dry-run outbox")
            return
        self._http = AsyncTwilioHttpClient()
        self.client = Client(
            self.settings.twilio_account_sid,
            self.settings.twilio_auth_token.get_secret_value(),
            http_client=self._http,
        )
        if self.settings.twilio_api_url:
            self.client.api.base_url = self.settings.twilio_api_url

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None and self._http.session is not None:
            await self._http.session.close()
        self._http = None
        self.client = None

    def _from(self, channel: str) -> str:
        if channel == WHATSAPP:
            sender = self.settings.twilio_whatsapp_from or self.settings.twilio_from_number
            return sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"
        return self.settings.twilio_from_number

    async def send(self, message: Outbound) -> Sequence[SendResult]:
        """Send through Twilio (split under 1600 characters), or to the dry-run outbox."""
        # An approved template (ContentSid) is one message, whatever its preview text.
        parts = [message.text] if message.content_sid else split_text(message.text)
        if self.client is None:
            log.info("dry-run send: message %s, %d part(s)", message.message_id, len(parts))
            return [SendResult(f"DRY{secrets.token_hex(16)}", "dry_run") for _ in parts]
        to = message.address if message.channel == SMS else f"whatsapp:{message.address}"
        results: list[SendResult] = []
        kwargs: dict[str, Any] = {}
        if self.settings.public_url.startswith("https://"):
            kwargs["status_callback"] = f"{self.settings.public_url}/webhooks/twilio/status"
        if message.content_sid:
            kwargs["content_sid"] = message.content_sid
            if message.content_variables:
                kwargs["content_variables"] = message.content_variables
        for part in parts:
            body = {} if message.content_sid else {"body": part}
            try:
                msg = await self.client.messages.create_async(
                    to=to, from_=self._from(message.channel), **body, **kwargs
                )
            except TwilioRestException as exc:
                raise _classify(exc) from exc
            results.append(SendResult(str(msg.sid), str(msg.status or "queued")))
        return results

    async def find_sent(self, message: Outbound, since: datetime) -> list[SendResult]:
        """Twilio's records like `message`: the newest messages to the same recipient from our
        number, created since `since` (a minute of clock skew allowed), whose body is the
        message's first part. A template (ContentSid) has no body to compare, so it is never
        found and is resent. Dry-run sends are never found."""
        if self.client is None or message.content_sid:
            return []
        to = message.address if message.channel == SMS else f"whatsapp:{message.address}"
        first = split_text(message.text)[0] if message.text.strip() else ""
        try:
            records = await self.client.messages.list_async(
                to=to, from_=self._from(message.channel), limit=LOOKUP_LIMIT
            )
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        after = since - timedelta(minutes=1)
        found = []
        for rec in records:
            created = rec.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            if (rec.body or "") == first and (created is None or created >= after):
                found.append(SendResult(str(rec.sid), str(rec.status or "queued")))
        return found


def _num_media(params: dict[str, str]) -> int:
    """`NumMedia` as Twilio sends it (0-10); junk or a huge count is a malformed request (a
    count taken at its word would loop for ever over `MediaUrl{i}`)."""
    raw = params.get("NumMedia", "0") or "0"
    if len(raw) > 2 or not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise BadRequest("NumMedia is not a media count")
    return int(raw)


def _classify(exc: TwilioRestException) -> Exception:
    code = str(exc.code or "")
    if code in OPTED_OUT:
        return ProviderRejected("recipient opted out", code=code, opted_out=True)
    if exc.status == 429 or exc.status >= 500:
        return RateLimited(f"twilio {exc.status}", retry_after=1.0)
    return ProviderRejected(f"twilio {exc.status}", code=code or str(exc.status))
