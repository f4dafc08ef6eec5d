"""One error hierarchy for the gateway; `app.error_middleware` maps it to HTTP statuses."""

from __future__ import annotations


class ProntoError(Exception):
    """Base of every error Pronto raises on purpose."""


class ConfigError(ProntoError):
    """A configuration file or setting is invalid; the message names the file, line and field."""


class ChannelError(ProntoError):
    """A provider channel failed."""


class BadSignature(ChannelError):
    """An inbound webhook is unsigned or its signature does not match (HTTP 403)."""


class BadRequest(ChannelError):
    """An inbound webhook is malformed (HTTP 400)."""


class ProviderRejected(ChannelError):
    """The provider refused an outbound message for good; retrying will not help.

    Attributes:
        code: the provider's error code (Twilio's numeric codes as strings, e.g. "21610").
        opted_out: the recipient has opted out at the provider; mark the lead, never retry.
    """

    def __init__(self, message: str, *, code: str = "", opted_out: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.opted_out = opted_out


class RateLimited(ChannelError):
    """The provider asked us to slow down or failed transiently (429/5xx); retry later."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BotUnavailable(ProntoError):
    """Rasa did not answer (down, error, or slower than the budget)."""
