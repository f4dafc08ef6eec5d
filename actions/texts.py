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
    "intro": {
        "en": "Hi there! 👋 I'm the real estate team's virtual assistant (an automated "
        "assistant, not a person). I answer right away, any time, and connect you with one of "
        "our agents.",
        "es": "¡Hola! 👋 Soy el asistente virtual del equipo inmobiliario (un asistente "
        "automático, no una persona). Respondo al instante, a cualquier hora, y te conecto con "
        "uno de nuestros agentes.",
    },
    "intro_intake": {
        "en": "Hi{name_part}, this is the {brokerage} assistant (an automated assistant, not a "
        "person){about}. Thanks for your inquiry! A few quick questions and one of our agents "
        "takes over.",
        "es": "Hola{name_part}, soy el asistente de {brokerage} (un asistente automático, no "
        "una persona){about}. ¡Gracias por tu consulta! Unas preguntas rápidas y uno de nuestros "
        "agentes te atiende.",
    },
    "intro_missed_call": {
        "en": "Hi{name_part}, sorry we missed your call! This is the {brokerage} assistant (an "
        "automated assistant, not a person). How can we help?",
        "es": "Hola{name_part}, ¡perdona que no pudimos contestar tu llamada! Soy el asistente "
        "de {brokerage} (un asistente automático, no una persona). ¿Cómo te podemos ayudar?",
    },
    "about_listing": {"en": " about {listing}", "es": " sobre {listing}"},
    "i_am_bot": {
        "en": "Yes, I'm the team's automated assistant, not a person. I'll ask a few quick "
        "questions and then a real agent takes over.",
        "es": "Sí, soy un asistente automático del equipo, no una persona. Te hago unas "
        "preguntas rápidas y enseguida te atiende un agente de verdad.",
    },
    "language_ok": {
        "en": "Sure! Let's continue in English.",
        "es": "¡Claro! Seguimos en español.",
    },
    "youre_welcome": {"en": "You're welcome!", "es": "¡Con gusto!"},
    "goodbye": {
        "en": "Talk soon! One more quick question when you have a second:",
        "es": "¡Hasta pronto! Una pregunta rápida más cuando tengas un momento:",
    },
    "out_of_scope": {
        "en": "Sorry, I can't help with that. I can help you buy, sell or rent a home.",
        "es": "Eso no lo puedo responder, lo siento. Te ayudo con comprar, vender o rentar una "
        "propiedad.",
    },
    "moving_on": {
        "en": "No worries, I've noted what you said for your agent.",
        "es": "No te preocupes, anoté lo que me dijiste para tu agente.",
    },
    "welcome_back": {
        "en": "Hi again! Is there anything else I can help with: buying, selling or renting? "
        "If you'd like to talk to a person again, just say so.",
        "es": "¡Hola de nuevo! ¿Te ayudo con algo más: comprar, vender o rentar? Si quieres "
        "hablar otra vez con una persona, solo dímelo.",
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


# The questions, by topic; a variant per goal where the wording differs ("" is the default).
QUESTIONS: dict[str, dict[str, dict[str, str]]] = {
    "lead_intent": {"": {
        "en": "Are you looking to buy, sell or rent? Or is it about a specific listing?",
        "es": "¿Buscas comprar, vender o rentar? ¿O preguntas por una propiedad en particular?",
    }},
    "location": {
        "": {"en": "Which area are you looking in? (city or neighborhood)",
             "es": "¿En qué zona buscas? (ciudad o barrio)"},
        "sell": {"en": "Where is the property you'd like to sell? (city or neighborhood)",
                 "es": "¿Dónde está la propiedad que quieres vender? (ciudad o barrio)"},
    },
    "bedrooms": {"": {"en": "How many bedrooms do you need?",
                      "es": "¿Cuántas habitaciones necesitas?"}},
    "budget": {
        "": {"en": 'What\'s your budget? (an amount or a range, e.g. "300-350k")',
             "es": '¿Cuál es tu presupuesto? (un monto o un rango, por ejemplo "entre 300 y 350 '
             'mil")'},
        "sell": {"en": "Roughly what price are you hoping to sell for?",
                 "es": "¿En cuánto esperas venderla, más o menos?"},
        "rent": {"en": "What's your monthly rent budget?",
                 "es": "¿Cuál es tu presupuesto de renta al mes?"},
    },
    "timeline": {
        "": {"en": "When are you hoping to move?", "es": "¿Para cuándo te quieres mudar?"},
        "sell": {"en": "When are you hoping to sell?", "es": "¿Para cuándo quieres vender?"},
    },
    "financing": {"": {
        "en": "How are you planning to pay: cash, a pre-approved mortgage, or do you still need "
        "a lender?",
        "es": "¿Cómo piensas pagar: de contado, con un crédito ya preaprobado, o necesitas un "
        "prestamista?",
    }},
    "name": {"": {"en": "Great! And what's your name?", "es": "¡Perfecto! ¿Cuál es tu nombre?"}},
}


def question(topic: str, language: object, lead_intent: str | None = None) -> str:
    """The question about ``topic`` in the prospect's language, worded for their goal.

    Args:
        topic: A qualification topic (``QUESTIONS`` key).
        language: "en" or "es" (anything else falls back to English).
        lead_intent: The prospect's goal, for goal-specific wording.

    Returns:
        The question.
    """
    variants = QUESTIONS[topic]
    chosen = variants.get(lead_intent or "", variants[""])
    return chosen[language_or_default(language)]


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
