"""Language choice: sticky rules, explicit switches, fallbacks, configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain.language.detector import (
    DATA_DIR,
    LanguageDataError,
    LanguageDecision,
    LanguageDetector,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


NO_EVIDENCE = [
    "ok",
    "Ok",
    "okay",
    "no",
    "si",
    "500k",
    "$400,000",
    "3/2",
    "FHA",
    "HOA",
    "👍",
    "😀😀",
    "???",
    "Maria Gonzalez",
    "José",
    "maria.g@gmail.com",
    "305-555-0199",
    "https://zillow.com/homedetails/123",
    "Miami",
    "Los Angeles",
    "San Antonio",
    "Boca Raton",
    "LA",
    "a",
    "me",
    "son",
    "pan",
    "real",
    "hotel",
    "plan",
    "actual",
    "",
]


@pytest.mark.parametrize("text", NO_EVIDENCE)
@pytest.mark.parametrize("previous", ["en", "es"])
def test_no_evidence_keeps_the_conversation_language(
    detector: LanguageDetector, text: str, previous: str
) -> None:
    decision = detector.decide(text, previous=previous)
    assert decision.language == previous
    assert decision.changed is False
    assert decision.explicit is False


@pytest.mark.parametrize("text", ["ok", "500k", "FHA", "Maria Gonzalez", "👍", "Miami", ""])
def test_no_evidence_detects_nothing(detector: LanguageDetector, text: str) -> None:
    decision = detector.decide(text)
    assert decision.detected is None
    assert decision.confidence == 0.0


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("gracias", "en"),
        ("ok gracias", "en"),
        ("hola", "en"),
        ("thanks", "es"),
        ("ok thanks", "es"),
        ("hi", "es"),
        ("sí", "en"),
    ],
)
def test_one_borrowed_word_does_not_switch(
    detector: LanguageDetector, text: str, previous: str
) -> None:
    decision = detector.decide(text, previous=previous)
    assert decision.language == previous
    assert decision.detected is not None and decision.detected != previous
    assert decision.changed is False


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("Hi, I would like to see the house this weekend", "es", "en"),
        ("is it still available?", "es", "en"),
        ("we are looking for a 3 bedroom house", "es", "en"),
        ("hola, me interesa la casa", "en", "es"),
        ("me gustaria ver la casa el sabado", "en", "es"),
        ("cuantas recamaras tiene la casa", "en", "es"),
    ],
)
def test_a_full_sentence_in_the_other_language_switches(
    detector: LanguageDetector, text: str, previous: str, expected: str
) -> None:
    decision = detector.decide(text, previous=previous)
    assert decision.language == expected
    assert decision.detected == expected
    assert decision.changed is True
    assert decision.explicit is False
    assert decision.confidence >= 0.9


TO_ENGLISH = [
    "Can we continue in English?",
    "can we continue in english",
    "english please",
    "English pls",
    "in english pls",
    "English?",
    "English",
    "Do you speak English?",
    "habla ingles?",
    "hablas inglés",
    "¿Hablan inglés?",
    "en inglés por favor",
    "en ingles porfa",
    "no hablo español",
    "I don't speak Spanish",
    "no entiendo español",
]

TO_SPANISH = [
    "¿Podemos hablar en español?",
    "podemos hablar en espanol",
    "en español por favor",
    "en espanol porfa",
    "español",
    "Spanish please",
    "spanish?",
    "hablas español?",
    "habla espanol?",
    "do you speak spanish?",
    "do u speak spanish",
    "can someone call me in spanish",
    "do you have a spanish speaking agent",
    "I only speak spanish",
    "no hablo ingles",
    "no entiendo inglés",
    "no english",
    "I don't speak English",
    "¿no hablan español?",
    "Don't you speak Spanish?",
]


@pytest.mark.parametrize("text", TO_ENGLISH)
@pytest.mark.parametrize("previous", ["es", "en", None])
def test_explicit_request_for_english_wins(
    detector: LanguageDetector, text: str, previous: str | None
) -> None:
    decision = detector.decide(text, previous=previous, fallback="es")
    assert decision.language == "en"
    assert decision.explicit is True
    assert decision.changed is (previous == "es")


@pytest.mark.parametrize("text", TO_SPANISH)
@pytest.mark.parametrize("previous", ["en", "es", None])
def test_explicit_request_for_spanish_wins(
    detector: LanguageDetector, text: str, previous: str | None
) -> None:
    decision = detector.decide(text, previous=previous)
    assert decision.language == "es"
    assert decision.explicit is True
    assert decision.changed is (previous == "en")


def test_explicit_request_reports_the_language_it_is_written_in(
    detector: LanguageDetector,
) -> None:
    asked = detector.decide("do you speak spanish?", previous="en")
    assert (asked.language, asked.detected) == ("es", "en")
    asked = detector.decide("¿hablas inglés?", previous="es")
    assert (asked.language, asked.detected) == ("en", "es")


@pytest.mark.parametrize(
    "text",
    [
        "I speak english and spanish",
        "Spanish style house with a pool",
        "is the house near spanish river park",
    ],
)
def test_mentioning_a_language_is_not_a_request(detector: LanguageDetector, text: str) -> None:
    decision = detector.decide(text, previous="es")
    assert decision.explicit is False


@pytest.mark.parametrize(
    ("text", "fallback", "expected"),
    [
        ("ok", "es", "es"),
        ("500k", "es", "es"),
        ("👍", "es", "es"),
        ("ok", None, "en"),
        ("FHA", "en", "en"),
        ("ok", "fr", "en"),  # a fallback that is not configured cannot break the pipeline
        ("hi, still available?", "es", "en"),  # evidence beats the channel default
        ("hola", "en", "es"),
    ],
)
def test_new_lead_falls_back_to_the_channel_then_the_default(
    detector: LanguageDetector, text: str, fallback: str | None, expected: str
) -> None:
    decision = detector.decide(text, previous=None, fallback=fallback)
    assert decision.language == expected
    assert decision.changed is False


def test_default_applies_to_a_new_lead_without_evidence() -> None:
    spanish_first = LanguageDetector(default="es")
    assert spanish_first.decide("ok").language == "es"
    assert spanish_first.decide("hello there").language == "en"


def test_the_fallback_is_only_for_new_leads(detector: LanguageDetector) -> None:
    assert detector.decide("ok", previous="en", fallback="es").language == "en"


def test_unknown_previous_is_treated_as_a_new_lead(detector: LanguageDetector) -> None:
    decision = detector.decide("ok", previous="fr", fallback="es")
    assert decision.language == "es"
    assert decision.changed is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hola", "es"),
        ("still available?", "en"),
        ("is it still available?", "en"),
        ("cuanto cuesta", "es"),
        ("3 bd under 400k", "en"),
        ("q precio tiene", "es"),
        ("xq tan caro", "es"),
        ("3 recamaras en Miami", "es"),
        ("2bd 1ba under 1500", "en"),
        ("busco depa en LA", "es"),
        ("looking in San Antonio", "en"),
        ("está disponible?", "es"),
        ("thx", "en"),
        ("gracias", "es"),
    ],
)
def test_short_messages(detector: LanguageDetector, text: str, expected: str) -> None:
    assert detector.decide(text).detected == expected


def test_decisions_are_deterministic() -> None:
    texts = ["townhouse con garaje", "studio for rent?", "ok", "hola", "la de Hialeah"]
    first = [LanguageDetector(cache_size=0).decide(t) for t in texts]
    second = LanguageDetector().decide
    assert [second(t) for t in texts] == first
    assert [second(t) for t in texts] == first  # from the cache, the same


def test_decision_is_a_frozen_value(detector: LanguageDetector) -> None:
    decision = detector.decide("hola")
    assert isinstance(decision, LanguageDecision)
    with pytest.raises(AttributeError):
        decision.language = "en"  # type: ignore[misc]
    assert 0.0 <= decision.confidence <= 1.0


def test_carrying_the_decision_forward_like_the_cli(detector: LanguageDetector) -> None:
    lines = ["hola", "ok", "500k", "gracias", "Can we continue in English?", "ok", "gracias"]
    previous: str | None = None
    answers = []
    for line in lines:
        previous = detector.decide(line, previous=previous).language
        answers.append(previous)
    assert answers == ["es", "es", "es", "es", "en", "en", "en"]


def test_english_only_configuration() -> None:
    only = LanguageDetector(["en"])
    assert only.decide("hola, me interesa la casa").language == "en"
    assert only.decide("hola, me interesa la casa", previous="es").language == "en"
    assert only.decide("ok").detected is None
    assert only.decide("español por favor").explicit is False  # Spanish is not configured


def test_a_language_without_data_is_refused_clearly() -> None:
    with pytest.raises(LanguageDataError, match=r"fr\.yml"):
        LanguageDetector(["en", "es", "fr"])


def test_default_must_be_configured() -> None:
    with pytest.raises(LanguageDataError, match="default"):
        LanguageDetector(["en", "es"], default="fr")


def test_a_third_language_is_data(tmp_path: Path) -> None:
    for name in ("en.yml", "es.yml", "common.yml"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"))
    (tmp_path / "pt.yml").write_text(
        "code: pt\n"
        "names: [portugues, portuguese]\n"
        "cues_before: [em, fala, falar]\n"
        "strong: [obrigado, obrigada, voce, nao, quero, comprar, casa, quartos]\n",
        encoding="utf-8",
    )
    three = LanguageDetector(["en", "es", "pt"], data_dir=tmp_path)
    assert three.decide("obrigado, quero comprar", previous="en").language == "pt"
    assert three.decide("em portugues por favor", previous="es").language == "pt"
    assert three.decide("ok", previous="pt").language == "pt"


def test_yaml_booleans_in_data_are_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yml").write_text("code: en\nstrong: [the, no]\n", encoding="utf-8")
    with pytest.raises(LanguageDataError, match="quote"):
        LanguageDetector(["en"], data_dir=tmp_path)
