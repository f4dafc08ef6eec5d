"""Language choice on very short messages judged without context (`detect-language --each`).

Single words, imperatives with attached pronouns ("dígame", "pregúntale", "cómpralo") and
questions with "¿" must come out Spanish; the English texts of the same shape must stay
English; a name, a place or a number carries no evidence at all.
"""

from __future__ import annotations

import io

import pytest

from gateway.cli import detect_language
from gateway.domain.language.detector import LanguageDetector
from gateway.domain.language.profiles import load_profile


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


SHORT_SPANISH = [
    # single words, with and without their accents
    "Mañana",
    "Después",
    "Jamás",
    "Aquí",
    "Quizás",
    "Ojalá",
    "Perdón",
    "Sí",
    "También",
    "Rápido",
    "gracias",
    "hola",
    "Espera",
    "escucha",
    "Disculpa",
    "tranquilo",
    "Listo",
    "ahorita",
    "Corre",
    "oye",
    # imperatives with attached pronouns, accented as written
    "Dígame",
    "Pregúntale",
    "Cómpralo",
    "Mándamelo",
    "Explícame",
    "Recuérdame",
    "Fíjate",
    "Cálmate",
    "Muévete",
    "Acuérdate",
    "Dáselo",
    "Tráigamela",
    "Apágalo",
    "Escríbele",
    "Ayúdanos",
    "Contéstales",
    "Búscalos",
    "Llévatelas",
    "LLÁMAME",
    "Llámameee",
    # ...and typed without the accent
    "ayudame",
    "esperame",
    "pasame",
    "dejame ver",
    "mandamelo",
    "decirle",
    "llamarla",
    "enviandome",
    # with a name beside them
    "Pregúntale a Tom",
    "Dile a Carlos",
    "Llámame, soy Maribel",
    # questions and exclamations
    "¿Cuánto?",
    "¿Dónde?",
    "¿Y tú?",
    "¿Qué tal?",
    "¿Me llamas?",
    "¿En serio?",
    "¿Sigue disponible?",
    "¿A qué hora?",
    "¡Qué bonita!",
    "¡Gracias!",
    "¡Ándale!",
    # verb endings
    "Llegaste?",
    "vinieron",
    "ya terminamos",
]


@pytest.mark.parametrize("text", SHORT_SPANISH)
def test_short_spanish_alone_is_spanish(detector: LanguageDetector, text: str) -> None:
    decision = detector.decide(text)
    assert (decision.language, decision.detected) == ("es", "es")


SHORT_ENGLISH = [
    "yes",
    "hi",
    "thanks",
    "thx",
    "sure",
    "cool",
    "done",
    "sent",
    "Confirm",
    "CANCEL",
    "Call me",
    "Text me",
    "Help me",
    "Tell me",
    "Show me",
    "Remind me",
    "on my way",
    "running late",
    "sounds good",
    "got it",
    "see you soon",
    "Good morning",
    "Sorry",
    "Awesome",
    "What?",
    "When?",
    "Where?",
    "How much?",
    "still available?",
    "Ask Tom",
    "Call Maria",
    "Jose here",
    "Carlos here",
    "Hi Carlos",
    "ok thanks",
    "yes please",
    "no thanks",
    "Love it",
    "Keep going",
    "Ask Ángela",
    "Hernández family",
    "real estate",  # an English word first, not "esta" + "te"
    "State?",
]


@pytest.mark.parametrize("text", SHORT_ENGLISH)
def test_short_english_alone_stays_english(detector: LanguageDetector, text: str) -> None:
    decision = detector.decide(text)
    assert (decision.language, decision.detected) == ("en", "en")


NO_EVIDENCE = [
    "ok",
    "no",
    "Miami",
    "Kendall",
    "Doral",
    "3",
    "400k",
    "asap",
    "Maribel Ortega",
    "Maribel",
    "José",
    "Jose",
    "Tom",
    "Tom?",
    "Carlos",
    "Ortega",
    "Hernández",
    "Jennifer",
    "Ángela",
    "Los Ángeles",
    "👍",
    "3/2",
    "$1,200",
    "ok ok",
]


@pytest.mark.parametrize("text", NO_EVIDENCE)
def test_a_name_place_or_number_alone_falls_back_to_the_default(
    detector: LanguageDetector, text: str
) -> None:
    decision = detector.decide(text)
    assert (decision.language, decision.detected, decision.confidence) == ("en", None, 0.0)


@pytest.mark.parametrize("text", NO_EVIDENCE)
@pytest.mark.parametrize("previous", ["en", "es"])
def test_a_name_place_or_number_keeps_the_conversation_language(
    detector: LanguageDetector, text: str, previous: str
) -> None:
    decision = detector.decide(text, previous=previous)
    assert (decision.language, decision.changed) == (previous, False)


@pytest.mark.parametrize("text", ["Ayúdame", "Pregúntale a Tom", "¿Cuánto?", "Dímelo"])
def test_one_short_spanish_message_does_not_switch_an_english_conversation(
    detector: LanguageDetector, text: str
) -> None:
    # Sticky: a borrowed word or two is not a switch; the new lead case above is.
    decision = detector.decide(text, previous="en")
    assert (decision.language, decision.detected, decision.changed) == ("en", "es", False)


@pytest.mark.parametrize(
    "word",
    [
        "dígame",
        "pregúntale",
        "cómpralo",
        "dímelo",
        "cállate",
        "llámame",
        "ayudame",
        "dimelo",
        "llamarme",
        "hacerlo",
        "mandándome",
        "diciendole",
    ],
)
def test_attached_pronouns_are_spanish(word: str) -> None:
    assert load_profile("es").enclitic(word) > 0


@pytest.mark.parametrize(
    "word",
    [
        "name",
        "same",
        "time",
        "sale",
        "halo",
        "gala",
        "date",
        "theme",
        "reverse",
        "universe",
        "charles",
        "carla",
        "carlos",
        "tele",
        "dale",
        "hello",
    ],
)
def test_english_words_ending_like_pronouns_are_not(word: str) -> None:
    assert load_profile("es").enclitic(word) == 0
    assert load_profile("en").enclitic(word) == 0


LINES = "Ayúdame\nok\nMiami\nthanks\nLlámame\nCan we continue in English?\nDímelo\n"


def _run(lines: str, previous: str | None = None, *, each: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = detect_language(io.StringIO(lines), out, previous, each=each)
    return code, out.getvalue()


def test_cli_reads_one_conversation_by_default() -> None:
    assert _run(LINES) == (0, "es\nes\nes\nes\nes\nen\nen\n")
    assert _run("ok\nMiami\n", "es") == (0, "es\nes\n")


def test_cli_each_judges_every_line_alone() -> None:
    assert _run(LINES, each=True) == (0, "es\nen\nen\nen\nes\nen\nes\n")


def test_cli_refuses_previous_with_each_and_unknown_previous() -> None:
    assert _run("ok\n", "es", each=True) == (2, "")
    assert _run("ok\n", "fr") == (2, "")
