"""Web chat session tokens, origin check and contact validation (pure helpers)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from gateway.channels.webchat_session import (
    SessionTokens,
    allowed_origins,
    clean_contact,
    origin_ok,
)
from gateway.config.settings import Settings, WebchatConfig
from gateway.errors import ConfigError


def test_token_round_trip_and_randomness() -> None:
    tokens = SessionTokens("secret-1")
    sid, token = tokens.issue()
    other, _ = tokens.issue()
    assert sid != other
    assert len(sid) >= 24  # 18 random bytes: not guessable
    assert tokens.verify(token) == sid
    assert tokens.sign(sid) == token


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # MAC altered
        lambda t: "X" + t[1:],  # session id altered
        lambda t: t.split(".")[0],  # MAC dropped
        lambda t: t + ".x",
        lambda t: "",
        lambda t: "../../etc.passwd",
    ],
)
def test_tampered_tokens_are_refused(mangle: object) -> None:
    tokens = SessionTokens("secret-1")
    _, token = tokens.issue()
    assert tokens.verify(mangle(token)) is None  # type: ignore[operator]


def test_token_from_another_secret_is_refused() -> None:
    _, token = SessionTokens("secret-1").issue()
    assert SessionTokens("secret-2").verify(token) is None
    assert SessionTokens("secret-1").verify(None) is None
    assert SessionTokens("secret-1").verify(123) is None


def test_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        SessionTokens("")


def test_origins() -> None:
    settings = Settings(
        public_url="https://leads.example.com/",
        session_secret=SecretStr("s"),
        webchat=WebchatConfig(
            origins=["https://www.Gables-Realty.com/listings", "http://idx.test:8000"]
        ),
    )
    allowed = allowed_origins(settings)
    assert allowed == {
        "https://leads.example.com",
        "https://www.gables-realty.com",
        "http://idx.test:8000",
    }
    assert origin_ok("https://www.gables-realty.com", "leads.example.com", allowed)
    assert origin_ok("https://leads.example.com", "127.0.0.1:8080", allowed)
    assert origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", allowed)  # same origin (demo)
    assert not origin_ok("https://evil.example", "leads.example.com", allowed)
    assert not origin_ok("http://www.gables-realty.com", "x", allowed)  # scheme matters
    assert not origin_ok(None, "leads.example.com", allowed)
    assert not origin_ok("null", "leads.example.com", allowed)
    assert origin_ok("https://anything.example", "h", frozenset({"*"}))


@pytest.mark.parametrize(
    ("phone", "email", "ok"),
    [
        ("+1 (305) 555-0123", "", True),
        ("", "maria@example.com", True),
        ("305.555.0123", "maria@example.com", True),
        ("", "", False),
        ("12", "", False),
        ("call me maybe", "", False),
        ("", "not-an-email", False),
        ("", "a@b", False),
        (None, 5, False),
    ],
)
def test_contact_validation(phone: object, email: object, ok: bool) -> None:
    assert (clean_contact(phone, email) is not None) is ok
