"""Compliance keywords: the whole message is STOP / START / HELP (pure, `domain.compliance`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.templates import Templates
from gateway.domain.compliance import Keyword, keyword, keyword_language

ROOT = Path(__file__).resolve().parents[2]

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
              "OPT OUT", "ALTO", "PARAR", "CANCELAR", "BAJA", "NO MÁS"]
START_WORDS = ["START", "UNSTOP", "SUBSCRIBE", "OPTIN", "COMENZAR", "REANUDAR", "INICIAR", "INICIO",
               "SUSCRIBIR", "SUSCRÍBIRME", "¡Suscribirme!"]
HELP_WORDS = ["HELP", "AYUDA"]


@pytest.mark.parametrize("word", STOP_WORDS)
def test_every_opt_out_keyword_stops(word: str) -> None:
    assert keyword(word) is Keyword.STOP


@pytest.mark.parametrize("word", START_WORDS)
def test_every_opt_in_keyword_starts(word: str) -> None:
    assert keyword(word, opted_out=True) is Keyword.START


@pytest.mark.parametrize("word", HELP_WORDS)
def test_help_keywords(word: str) -> None:
    assert keyword(word) is Keyword.HELP
    assert keyword(word, opted_out=True) is Keyword.HELP  # answered even when opted out


@pytest.mark.parametrize("text", [
    "stop", "Stop.", " STOP! ", "s.t.o.p", "Opt-Out", "opt out!!", "No más", "no mas", "NO MAS.",
    "¡Alto!", "BAJA 🙏", "Unsubscribe.", "cancelar",
])
def test_case_accents_spaces_and_punctuation_are_ignored(text: str) -> None:
    assert keyword(text) is Keyword.STOP


@pytest.mark.parametrize("text", [
    "stop by at 5", "no más de 300 mil", "cancel the showing", "the end", "yes please",
    "sí", "si", "no", "más", "alto techo", "help me find a condo", "ayúdame con el precio",
])
def test_a_keyword_inside_a_sentence_is_not_a_keyword(text: str) -> None:
    assert keyword(text) is None


def test_yes_resubscribes_only_an_opted_out_lead_and_si_never() -> None:
    assert keyword("yes") is None
    assert keyword("YES", opted_out=True) is Keyword.START
    assert keyword("sí", opted_out=True) is None
    assert keyword("si", opted_out=True) is None


def test_keyword_language() -> None:
    assert keyword_language("ALTO") == "es" and keyword_language("no más") == "es"
    assert keyword_language("reanudar") == "es" and keyword_language("AYUDA") == "es"
    assert keyword_language("STOP") is None and keyword_language("hello") is None


@pytest.mark.parametrize("language", ["en", "es"])
def test_help_names_the_brokerage_and_how_to_opt_out(language: str) -> None:
    templates = Templates.load(ROOT / "config" / "templates.yml", ["en", "es"])
    text = templates.render("help", language, brokerage="Casa Sol Realty")
    assert "Casa Sol Realty" in text
    assert ("STOP" if language == "en" else "ALTO") in text
    # and every template the compliance flow sends exists in both languages
    for key in ("stop_confirm", "start_confirm", "agent_lead_opted_out", "agent_lead_flagged"):
        assert "{" not in templates.render(key, language, brokerage="B", code="1", name="N",
                                           text="t")
