"""Phone numbers to E.164 (pure)."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str, default_region: str = "US") -> str | None:
    """Normalise a phone number to E.164; None when it is not a complete number (a local
    7-digit number without its area code is not).

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
    # IS_POSSIBLE only: a 7-digit US number is "possible, local only" and has no area code
    # to text or route by.
    reason = phonenumbers.is_possible_number_with_reason(num)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
