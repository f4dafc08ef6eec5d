"""The short lead summary in an agent's alert (pure), in the agent's language.

One line, SMS-friendly: "Maria López · ES · buy · Coral Gables · $400k–$550k · 90 days ·
pre-approved · score 82 · WhatsApp". Unknown fields are left out rather than shown as "None".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_INTENT = {
    "en": {"buy": "buy", "sell": "sell", "rent": "rent", "listing": "listing question"},
    "es": {"buy": "comprar", "sell": "vender", "rent": "alquilar", "listing": "pregunta anuncio"},
}
_FINANCING = {
    "en": {"preapproved": "pre-approved", "cash": "cash", "needs_lender": "needs lender"},
    "es": {"preapproved": "preaprobado", "cash": "contado", "needs_lender": "necesita préstamo"},
}
_CHANNEL = {"sms": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram", "webchat": "Web chat"}
_WORDS = {
    "en": {"score": "score", "days": "days", "unnamed": "New lead"},
    "es": {"score": "puntaje", "days": "días", "unnamed": "Cliente nuevo"},
}


def money(value: Any) -> str | None:
    """$450k, $1.2M, $900; None when the value is missing or not a number."""
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    if n >= 1_000_000:
        return f"${n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1000:
        return f"${n / 1000:.0f}k"
    return f"${n:.0f}"


def budget(q: Mapping[str, Any]) -> str | None:
    """The budget range, one end, or None."""
    lo, hi = money(q.get("budget_min")), money(q.get("budget_max"))
    if lo and hi and lo != hi:
        return f"{lo}–{hi}"
    return hi or lo


def summarize(
    q: Mapping[str, Any],
    *,
    name: str | None,
    lead_language: str,
    channel: str | None,
    score: int | None,
    language: str,
) -> str:
    """One-line summary of a qualified lead for an agent.

    Args:
        q: the bot's qualification data (`Lead.qualification`).
        name: the lead's name, if known.
        lead_language: the lead's language code.
        channel: the channel the lead used last.
        score: the lead score.
        language: the agent's language for the labels.
    """
    lang = language if language in _WORDS else "en"
    words = _WORDS[lang]
    parts: list[str] = [name or words["unnamed"], lead_language.upper()]
    intent = q.get("intent")
    if intent:
        parts.append(_INTENT[lang].get(str(intent), str(intent)))
    if q.get("location"):
        parts.append(str(q["location"]))
    if q.get("bedrooms"):
        parts.append(f"{q['bedrooms']} BR" if lang == "en" else f"{q['bedrooms']} hab.")
    b = budget(q)
    if b:
        parts.append(b)
    if q.get("timeline_text"):
        parts.append(str(q["timeline_text"]))
    elif q.get("timeline_days"):
        parts.append(f"{q['timeline_days']} {words['days']}")
    fin = q.get("financing")
    if fin and fin != "unknown":
        parts.append(_FINANCING[lang].get(str(fin), str(fin)))
    if score is not None:
        parts.append(f"{words['score']} {score}")
    if channel:
        parts.append(_CHANNEL.get(channel, channel))
    return " · ".join(parts)
