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
        # $2,500 is "$2.5k", not "$2k": the agent must read the amount the prospect meant.
        return f"${n / 1000:.1f}k".replace(".0k", "k")
    return f"${n:.0f}"


_PER_MONTH = {"en": "/mo", "es": "/mes"}
_BOUND = {"en": ("up to ", "from "), "es": ("hasta ", "desde ")}
_TOPIC = {
    "en": {"lead_intent": "goal", "location": "area", "bedrooms": "bedrooms", "budget": "budget",
           "timeline": "when", "financing": "financing", "name": "name"},
    "es": {"lead_intent": "objetivo", "location": "zona", "bedrooms": "habitaciones",
           "budget": "presupuesto", "timeline": "cuándo", "financing": "financiamiento",
           "name": "nombre"},
}
_ANY = {"en": "any", "es": "cualquiera"}


def budget(q: Mapping[str, Any], language: str = "en") -> str | None:
    """The budget range, one end, or None; a renter's budget reads per month ("$2.5k/mo")."""
    lang = language if language in _PER_MONTH else "en"
    lo, hi = money(q.get("budget_min")), money(q.get("budget_max"))
    if lo and hi and lo != hi:
        text = f"{lo}–{hi}"
    elif lo and hi:
        text = lo
    elif hi:
        text = _BOUND[lang][0] + hi
    elif lo:
        text = _BOUND[lang][1] + lo
    else:
        return None
    return text + _PER_MONTH[lang] if q.get("intent") == "rent" else text


def open_answers(q: Mapping[str, Any], language: str = "en") -> list[str]:
    """What the bot could not parse, quoted in the prospect's words, and "no preference"s.

    Returns:
        Parts like ``area “cerca del trabajo”`` and ``bedrooms: any``.
    """
    lang = language if language in _TOPIC else "en"
    labels = _TOPIC[lang]
    parts: list[str] = []
    unparsed = q.get("unparsed")
    if isinstance(unparsed, Mapping):
        for topic, words in unparsed.items():
            parts.append(f"{labels.get(str(topic), str(topic))} “{str(words)[:60]}”")
    for topic in q.get("no_preference") or ():
        parts.append(f"{labels.get(str(topic), str(topic))}: {_ANY[lang]}")
    return parts


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
    b = budget(q, lang)
    if b:
        parts.append(b)
    if q.get("timeline_text"):
        parts.append(str(q["timeline_text"]))
    elif q.get("timeline_days"):
        parts.append(f"{q['timeline_days']} {words['days']}")
    fin = q.get("financing")
    if fin and fin != "unknown":
        parts.append(_FINANCING[lang].get(str(fin), str(fin)))
    parts.extend(open_answers(q, lang))
    if score is not None:
        parts.append(f"{words['score']} {score}")
    if channel:
        parts.append(_CHANNEL.get(channel, channel))
    return " · ".join(parts)
