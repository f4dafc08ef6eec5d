"""Channel adapters. A new channel is one module plus one line in `build_channels`."""

from __future__ import annotations

from gateway.channels.base import Channel, StatusChannel
from gateway.config.settings import Settings

__all__ = ["Channel", "StatusChannel", "build_channels"]


def build_channels(settings: Settings) -> list[Channel]:
    """The adapters enabled by the settings."""
    from gateway.channels.email import EmailChannel
    from gateway.channels.twilio import TwilioChannel

    adapters: list[Channel] = [TwilioChannel(settings), EmailChannel(settings)]
    if settings.telegram_enabled:
        from gateway.channels.telegram import TelegramChannel

        adapters.append(TelegramChannel(settings))
    try:
        from gateway.channels.webchat import WebchatChannel
    except ImportError:  # pragma: no cover - web chat module lands separately
        pass
    else:
        adapters.append(WebchatChannel(settings))
    return adapters
