"""Phone numbers to E.164 (pure)."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str, default_region: str = "US") -> str | None:
    """Normalise a phone number to E.164; None when it is not a valid number.

    Twilio sends E.164 already, but WhatsApp addresses carry a "whatsapp:" prefix and agents'
    numbers in config are typed by people.
    """
    text = raw.strip()
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:") :]
    try:
        num = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
