"""Revocation of consent in free text (pure rule, `gateway.domain.compliance_revocation`).

Table-driven: every phrasing below is a test case; a rule removed or loosened makes some of
them fail (a revocation missed, or an ordinary message taken for one).
"""

from __future__ import annotations

import pytest

from gateway.domain.compliance import assess

REVOKE_EN = [
    "please stop texting me",
    "stop texting me",
    "Stop messaging me!",
    "stop texting me!!!",
    "take me off your list",
    "take me off the list please",
    "remove me from your list",
    "Remove me from your mailing list.",
    "get me off your list",
    "take my number off your list",
    "remove this number from your list",
    "remove my number",
    "delete my number please",
    "lose my number",
    "erase my phone number",
    "delete my info from your system",
    "wrong number, remove my number",
    "don't text me anymore",
    "do not text me again",
    "dont message me anymore",
    "Please don’t message me again.",
    "never text me again",
    "don't contact me again",
    "do not contact me",
    "I don't want you to text me",
    "unsubscribe me",
    "please unsubscribe me from these texts",
    "I want to unsubscribe",
    "how do I unsubscribe?",
    "opt me out",
    "I want to opt out",
    "I'd like to opt-out of these messages",
    "no more texts please",
    "no more messages",
    "I don't want any more texts",
    "I do not want to receive these messages",
    "I no longer want your messages",
    "I don't want to get texts from you anymore",
    "leave me alone",
    "stop contacting me",
    "quit texting me",
    "please stop sending me messages",
    "stop sending me texts",
    "stop sending these",
    "Not interested, stop texting me",
    "I'm not interested. Please remove me from your list.",
    "not interested so stop texting me",
    "please stop",
    "stop please",
    "stop it",
    "STOP NOW",
    "ok stop",
    "stop stop stop",
    "I said stop",
    "Stop, thanks",
    "stop bothering me",
    "stop spamming me",
    "cease texting this number",
    "enough with the texts",
    "I've asked you to stop texting me",
    "stop the texts",
    "stop all messages",
    "stop all",
    "don't text me until further notice",
    "Stop texting me. Don't call me either.",
    "Thanks but stop",
    "cancel my subscription",
    "remove me please",
]

REVOKE_ES = [
    "no me escriban más",
    "No me escriban mas!",
    "no, no me escriban",
    "ya no quiero mensajes",
    "borra mi número",
    "no me manden más mensajes",
    "no me escribas más",
    "no me escriba más, por favor",
    "no me envíen más mensajes",
    "no me manden nada más",
    "ya no me escriban",
    "ya no me manden mensajes",
    "ya no quiero recibir mensajes",
    "no quiero recibir más mensajes",
    "no quiero más mensajes",
    "no quiero recibir sus mensajes",
    "no quiero ningún mensaje más",
    "no quiero que me escriban",
    "no quiero que me contacten más",
    "ya no quiero que me manden mensajes",
    "no quiero que me sigan escribiendo",
    "no me sigan mandando mensajes",
    "dejen de escribirme",
    "deja de escribirme",
    "dejen de mandarme mensajes",
    "deje de enviarme mensajes",
    "dejen de molestarme",
    "ya dejen de molestar",
    "¿pueden dejar de escribirme?",
    "sáquenme de su lista",
    "sácame de la lista",
    "quítenme de su lista",
    "bórrenme de su lista",
    "borren mi número",
    "eliminen mi número por favor",
    "borren mis datos",
    "elimina mi información",
    "quiten mi número de su lista",
    "quiero darme de baja",
    "denme de baja",
    "dame de baja por favor",
    "basta, no me escriban",
    "ya basta",
    "alto, por favor",
    "no más mensajes",
    "no mas mensajes por favor",
    "no vuelvan a escribirme",
    "no me vuelvan a escribir",
    "no me contacten",
    "no me contacten más",
    "no me molesten más",
    "cancelen mi suscripción",
    "quiero cancelar la suscripción",
    "desuscríbanme",
    "no me manden más textos",
    "no me manden whatsapps",
    "No estoy interesado, dejen de escribirme",
    "por favor ya no me envíen nada",
    "déjenme en paz",
    "no me escriban por aquí",
    "hasta luego, no me escriban más",
    "Nunca me escribas",
    "no me manden nada a este número",
    "alto ya",
]

NOT_REVOCATION_EN = [
    "don't stop, I'm interested",
    "Don't stop now, this is great",
    "stop by the house tomorrow?",
    "can we stop at 5pm",
    "the bus stop is close",
    "don't stop sending me listings",
    "please keep texting me",
    "can you text me the address?",
    "don't text me the address, email it",
    "I'll stop by after work",
    "Is there a stop sign near the house?",
    "what time should I stop by",
    "I want to remove the carpet",
    "can you remove the pool from my search",
    "take me to see the house",
    "I didn't get your text",
    "text me when you have new listings",
    "no more than 400k",
    "no more questions, I'm ready to buy",
    "I'm not interested in condos, only houses",
    "delete my old number, use this one",
    "I stopped looking last month but I'm back",
    "send me more listings",
    "stop sending me condos, I want houses",
    "could you message me the details",
    "It's a non-stop street, lots of traffic",
    "I won't unsubscribe, I love these",
    "you can stop looking in Brickell",
    "Can we stop the search for a week?",
    "the texts stopped coming, are you still there?",
    "Which stop is closest to the condo?",
    "I don't want to opt out",
]

NOT_REVOCATION_ES = [
    "no pares",
    "no más de 300 mil",
    "no me interesa ese barrio pero sí Doral",
    "no me interesa",
    "no dejes de escribirme",
    "escríbeme mañana",
    "mándame más casas",
    "¿me puedes mandar la dirección?",
    "no me mandes casas en Hialeah",
    "dejen de mandarme casas en Kendall",
    "el techo es muy alto",
    "planta baja por favor",
    "quiero bajar el precio",
    "no quiero comprar todavía",
    "ya no quiero alquilar, quiero comprar",
    "borra la piscina de la búsqueda",
    "borra mi número viejo, usa este",
    "no me escribas en inglés",
    "no más de 3 cuartos",
    "no, más barato",
    "la parada del autobús está cerca",
    "no me gusta ese barrio",
    "quiero cancelar la cita de mañana",
    "no tengo más preguntas",
    "nada más, gracias",
    "no me llegó tu mensaje",
    "escríbeme por whatsapp",
    "¿No me escribes mañana?",
    "¿Precio? Alto.",
    "basta con dos cuartos",
    "describe la casa por favor",
    "no me den de baja, sí me interesa",
    "no me manden a otro agente",
]

FLAGGED = [
    ("stop texting me so late", "en", "timing"),
    ("please don't text me so early", "en", "timing"),
    ("stop texting me at night", "en", "timing"),
    ("don't text me after 9pm", "en", "timing"),
    ("stop texting me at 6am", "en", "timing"),
    ("don't text me until tomorrow", "en", "timing"),
    ("don't message me during work", "en", "timing"),
    ("no more texts after 8pm", "en", "timing"),
    ("stop messaging me so much", "en", "frequency"),
    ("stop sending me so many messages", "en", "frequency"),
    ("don't call me", "en", "calls"),
    ("stop calling me", "en", "calls"),
    ("please don't call me, text only", "en", "calls"),
    ("don't text me, call me instead", "en", "channel"),
    ("no me escribas tan tarde", "es", "timing"),
    ("no me escriban de noche", "es", "timing"),
    ("no me manden mensajes tan temprano", "es", "timing"),
    ("dejen de escribirme a esta hora", "es", "timing"),
    ("no me escriban después de las 9", "es", "timing"),
    ("no me escriba todavía", "es", "timing"),
    ("no me escriban tanto", "es", "frequency"),
    ("no me manden tantos mensajes", "es", "frequency"),
    ("no me llames", "es", "calls"),
    ("No quiero que me llamen, solo mensajes", "es", "calls"),
    ("no me escribas, mejor llámame", "es", "channel"),
]


def test_the_tables_are_large_enough() -> None:
    assert len(REVOKE_EN) >= 40 and len(REVOKE_ES) >= 40
    assert len(NOT_REVOCATION_EN) >= 20 and len(NOT_REVOCATION_ES) >= 20


@pytest.mark.parametrize("text", REVOKE_EN + REVOKE_ES)
def test_revocations_are_recognised(text: str) -> None:
    verdict = assess(text)
    assert verdict is not None and verdict.revokes, (text, verdict)
    assert verdict.words  # the words used go to the audit trail


@pytest.mark.parametrize("text", REVOKE_EN)
def test_english_revocations_say_english(text: str) -> None:
    verdict = assess(text)
    assert verdict is not None and verdict.language == "en", (text, verdict)


@pytest.mark.parametrize("text", REVOKE_ES)
def test_spanish_revocations_say_spanish(text: str) -> None:
    verdict = assess(text)
    assert verdict is not None and verdict.language == "es", (text, verdict)


@pytest.mark.parametrize("text", NOT_REVOCATION_EN + NOT_REVOCATION_ES)
def test_ordinary_messages_are_not_revocations(text: str) -> None:
    verdict = assess(text)
    assert verdict is None or not verdict.revokes, (text, verdict)


@pytest.mark.parametrize("text", NOT_REVOCATION_EN + NOT_REVOCATION_ES)
def test_ordinary_messages_are_not_flagged_either(text: str) -> None:
    assert assess(text) is None, text


@pytest.mark.parametrize(("text", "language", "reason"), FLAGGED)
def test_requests_about_how_we_write_are_flagged_not_revoked(
    text: str, language: str, reason: str
) -> None:
    verdict = assess(text)
    assert verdict is not None and verdict.kind == "flag", (text, verdict)
    assert (verdict.language, verdict.reason) == (language, reason), (text, verdict)


def test_a_revocation_anywhere_in_the_message_wins_over_a_flag() -> None:
    verdict = assess("Stop texting me so late. Actually, just remove my number.")
    assert verdict is not None and verdict.revokes and verdict.rule == "en.remove_number"


def test_the_audit_words_are_the_matched_phrase_not_the_whole_message() -> None:
    verdict = assess("Hi, I bought a place already with another agent. Please stop texting me")
    assert verdict is not None and verdict.words == "stop texting me"
