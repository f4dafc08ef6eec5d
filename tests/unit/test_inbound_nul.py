"""Inbound events drop NUL characters on the way into the worker (PostgreSQL text cannot hold
them; no channel has a reason to send one)."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.messages import Inbound


def test_nul_is_dropped_from_every_text_and_a_literal_escape_is_kept() -> None:
    event = Inbound(channel="telegram", provider_id="7\x001", address="42", text="hola\x00 ¿qué?",
                    received_at=datetime.now(UTC), profile_name="Ana\x00",
                    raw={"note\x00": ["a\x00b"]})
    back = Inbound.from_json(event.to_json())
    assert back.text == "hola ¿qué?" and back.profile_name == "Ana" and back.provider_id == "71"
    assert back.raw == {"note": ["ab"]}
    literal = Inbound(channel="sms", provider_id="SM1", address="+13055550100",
                      text="a backslash-u: \\u0000", received_at=datetime.now(UTC))
    assert Inbound.from_json(literal.to_json()).text == "a backslash-u: \\u0000"
