"""Every text the actions write themselves, in English and Spanish, in one table.

Static bot messages live in ``bot/domain.yml`` as slot-conditioned response variations; this
table holds only what actions compose at run time. ``{agent_name}`` is left verbatim: the
gateway replaces it with the assigned agent's name.
"""

from __future__ import annotations

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "handoff_qualified": {
        "en": "Thanks{name_part}! {agent_name} from our team will contact you shortly.",
        "es": "¡Gracias{name_part}! {agent_name}, de nuestro equipo, se pondrá en contacto "
        "contigo en breve.",
    },
    "handoff_request_human": {
        "en": "Of course{name_part}. I'm passing you to a person on our team: {agent_name} "
        "will contact you shortly.",
        "es": "Claro{name_part}. Te paso con una persona de nuestro equipo: {agent_name} se "
        "pondrá en contacto contigo en breve.",
    },
    "handoff_listing_question": {
        "en": "I don't have the details of that property here, so I'm passing your question "
        "to an agent who does: {agent_name} will contact you shortly.",
        "es": "No tengo aquí los detalles de esa propiedad, así que paso tu pregunta a un "
        "agente que sí los tiene: {agent_name} se pondrá en contacto contigo en breve.",
    },
    "handoff_declined": {
        "en": "No problem{name_part}! I've noted what you told me. Whenever you're ready, just "
        "reply here: {agent_name} from our team can help.",
        "es": "¡No hay problema{name_part}! Anoté lo que me contaste. Cuando quieras, "
        "responde aquí: {agent_name}, de nuestro equipo, te puede ayudar.",
    },
    "low_confidence": {
        "en": "Sorry, I didn't quite get that. Could you say it another way?",
        "es": "Perdona, no lo entendí bien. ¿Me lo puedes decir de otra forma?",
    },
    "invalid_lead_intent": {
        "en": "Sorry, I didn't catch that.",
        "es": "Perdona, no lo entendí.",
    },
    "invalid_location": {
        "en": "Sorry, I didn't catch the area (a city or neighborhood is perfect).",
        "es": "Perdona, no entendí la zona (una ciudad o un barrio está perfecto).",
    },
    "invalid_bedrooms": {
        "en": 'Sorry, I didn\'t catch the number of bedrooms (e.g. "3" or "studio").',
        "es": 'Perdona, no entendí cuántas habitaciones (por ejemplo "3" o "estudio").',
    },
    "invalid_budget": {
        "en": 'Sorry, I didn\'t catch an amount (e.g. "400k" or "between 300 and 350k"; '
        '"not sure" is fine too).',
        "es": 'Perdona, no entendí el monto (por ejemplo "400 mil" o "entre 300 y 350 mil"; '
        '"no sé" también vale).',
    },
    "invalid_timeline": {
        "en": 'Sorry, I didn\'t catch when (e.g. "ASAP", "in 3 months", "next spring").',
        "es": 'Perdona, no entendí cuándo (por ejemplo "ya", "en 3 meses", "la próxima '
        'primavera").',
    },
    "invalid_financing": {
        "en": "Sorry, I didn't catch that: cash, pre-approved, or do you need a lender?",
        "es": "Perdona, no lo entendí: ¿de contado, con crédito preaprobado o necesitas un "
        "prestamista?",
    },
    "invalid_name": {
        "en": "Sorry, I didn't catch your name.",
        "es": "Perdona, no entendí tu nombre.",
    },
}


def language_or_default(language: object) -> str:
    """Return a supported language code, English when unknown.

    Args:
        language: The ``language`` slot value (may be ``None``).

    Returns:
        "en" or "es".
    """
    return language if isinstance(language, str) and language in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str, language: object, **values: str) -> str:
    """Render one text in the prospect's language.

    Only the given placeholders are replaced, so ``{agent_name}`` survives for the gateway.

    Args:
        key: Key in ``TEXTS``.
        language: "en" or "es" (anything else falls back to English).
        **values: Placeholder values, e.g. ``name_part=", Ana"``.

    Returns:
        The text.
    """
    rendered = TEXTS[key][language_or_default(language)]
    for name, value in values.items():
        rendered = rendered.replace("{" + name + "}", value)
    return rendered
