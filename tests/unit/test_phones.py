"""Phone numbers to E.164 (`gateway.domain.phones`): complete numbers only."""

from __future__ import annotations

import pytest

from gateway.domain.phones import to_e164


@pytest.mark.parametrize(("raw", "e164"), [
    ("+13055550123", "+13055550123"),
    ("(305) 555-0177", "+13055550177"),
    ("305.555.0177", "+13055550177"),
    ("whatsapp:+525512345678", "+525512345678"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_complete_numbers_become_e164(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["555-0123", "5550123", "12345", "not a phone", "", "+1"])
def test_local_only_and_junk_are_refused(raw: str) -> None:
    # A 7-digit number has no area code: nobody can text it or route it by zone.
    assert to_e164(raw) is None
