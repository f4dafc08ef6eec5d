"""Webhook signatures (`Pronto-Signature: t=…,v1=…`): what a receiver accepts and refuses."""

from __future__ import annotations

import hashlib
import hmac

from gateway.crm.signing import compute_signature, signature_header, verify_signature

SECRET = "whsec-unit"
BODY = b'{"type":"lead.created","lead":{"id":1}}'
T = 1_800_000_000


def test_a_signature_verifies_and_is_stripes_scheme() -> None:
    header = signature_header(SECRET, BODY, T)
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert verify_signature(SECRET, header, BODY, now=T + 10)
    assert verify_signature(SECRET, header, BODY.decode(), now=T - 10)  # str bodies too


def test_a_tampered_body_is_refused() -> None:
    header = signature_header(SECRET, BODY, T)
    assert not verify_signature(SECRET, header, BODY.replace(b"1", b"2"), now=T)
    assert not verify_signature(SECRET, header, BODY + b" ", now=T)


def test_an_old_or_future_timestamp_is_refused() -> None:
    header = signature_header(SECRET, BODY, T)
    assert not verify_signature(SECRET, header, BODY, now=T + 301)
    assert not verify_signature(SECRET, header, BODY, now=T - 301)
    assert verify_signature(SECRET, header, BODY, tolerance=600, now=T + 500)
    # Moving the timestamp forward to replay later breaks the signature.
    replay = header.replace(f"t={T}", f"t={T + 1000}")
    assert not verify_signature(SECRET, replay, BODY, now=T + 1000)


def test_a_wrong_secret_or_malformed_header_is_refused() -> None:
    header = signature_header(SECRET, BODY, T)
    assert not verify_signature("another-secret", header, BODY, now=T)
    assert not verify_signature("", header, BODY, now=T)
    for bad in (None, "", "v1=abc", f"t={T}", f"t=soon,v1={compute_signature(SECRET, T, BODY)}",
                "garbage"):
        assert not verify_signature(SECRET, bad, BODY, now=T)


def test_any_of_several_v1_signatures_may_match_while_a_secret_rotates() -> None:
    old = compute_signature("old-secret", T, BODY)
    new = compute_signature(SECRET, T, BODY)
    assert verify_signature(SECRET, f"t={T},v1={old},v1={new}", BODY, now=T)
    assert verify_signature("old-secret", f"t={T},v1={old},v1={new}", BODY, now=T)
