"""Channel-neutral message values.

Adapters in `gateway.channels` turn provider payloads into `Inbound` and `Outbound` into provider
calls; nothing outside `channels/` sees provider JSON except through `raw`, which is kept aside
for audit and never interpreted elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Message channels (what the lead used). One adapter may serve several (twilio: sms + whatsapp).
SMS = "sms"
WHATSAPP = "whatsapp"
TELEGRAM = "telegram"
WEBCHAT = "webchat"


def utcnow() -> datetime:
    """Return an aware UTC timestamp."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message (or button press) from a person, normalised.

    Attributes:
        channel: "sms", "whatsapp", "telegram" or "webchat".
        provider_id: the provider's id for this message (Twilio MessageSid, Telegram update id,
            web chat client message id); the dedupe key together with `channel`.
        address: who wrote, on that channel: E.164 phone for sms/whatsapp, chat id for
            Telegram, session id for web chat.
        text: the message text ("" for media-only messages).
        to: the business address the message was sent to (our number), used for per-number
            defaults such as a Spanish-language ad number.
        action: "message" for text; "button" for an inline button press (text holds its data).
        reply_to: provider id of the message this one replies to (Telegram reply threads).
        media: URLs of attached media.
        profile_name: display name the provider reports, if any.
        received_at: when the webhook arrived.
        raw: the provider payload, kept for audit only.
    """

    channel: str
    provider_id: str
    address: str
    text: str
    to: str = ""
    action: str = "message"
    reply_to: str | None = None
    media: tuple[str, ...] = ()
    profile_name: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def identity_kind(self) -> str:
        """Identity namespace: SMS and WhatsApp share "phone" so one person is one lead."""
        return "phone" if self.channel in (SMS, WHATSAPP) else self.channel

    @property
    def queue_key(self) -> str:
        """Key that serialises processing: one person's messages never run concurrently."""
        return f"{self.identity_kind}:{self.address}"

    def to_json(self) -> str:
        """Serialise for the queue."""
        return json.dumps(
            {
                "channel": self.channel,
                "provider_id": self.provider_id,
                "address": self.address,
                "text": self.text,
                "to": self.to,
                "action": self.action,
                "reply_to": self.reply_to,
                "media": list(self.media),
                "profile_name": self.profile_name,
                "received_at": self.received_at.isoformat(),
                "raw": dict(self.raw),
            }
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> Inbound:
        """Inverse of `to_json`, with NUL characters dropped from every text: no channel has a
        reason to send one, and PostgreSQL text cannot hold it (the event would fail on every
        try, on PostgreSQL only)."""
        d = _without_nul(json.loads(data))
        return cls(
            channel=d["channel"],
            provider_id=d["provider_id"],
            address=d["address"],
            text=d["text"],
            to=d.get("to", ""),
            action=d.get("action", "message"),
            reply_to=d.get("reply_to"),
            media=tuple(d.get("media", ())),
            profile_name=d.get("profile_name"),
            received_at=datetime.fromisoformat(d["received_at"]),
            raw=d.get("raw", {}),
        )


def _without_nul(value: Any) -> Any:
    """`value` (decoded JSON) with NUL characters removed from every string in it."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button (Telegram) or a reply hint (SMS prints the command instead)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to send.

    Attributes:
        channel: channel to send on.
        address: recipient on that channel (E.164, chat id, session id).
        text: body; adapters split it to fit the provider's limits.
        buttons: inline buttons, for channels that have them.
        reply_to: provider id to thread under, where the channel supports it.
        message_id: the stored `messages` row this send belongs to.
        content_sid: an approved template to send instead of `text` (Twilio ContentSid;
            WhatsApp outside its 24-hour window), with `content_variables` as JSON.
    """

    channel: str
    address: str
    text: str
    buttons: tuple[Button, ...] = ()
    reply_to: str | None = None
    message_id: int | None = None
    content_sid: str = ""
    content_variables: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said about one send (one per part when a text was split)."""

    provider_id: str
    status: str


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A delivery status callback, normalised."""

    channel: str
    provider_id: str
    status: str
    error_code: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
