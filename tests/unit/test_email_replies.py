"""A lead's emailed answer keeps only the new text (gateway/intake/email_replies.py)."""

from __future__ import annotations

from gateway.intake.email_replies import as_inbound, reply_text


def test_the_quoted_history_is_cut() -> None:
    assert reply_text("Yes, 3 bedrooms\n\nOn Tue, Dec 1, 2026 at 9:00 Coral wrote:\n> Hi") == \
        "Yes, 3 bedrooms"
    assert reply_text("Sí, en Doral\r\n\r\nEl mar, 1 dic 2026 Coral escribió:\r\n> Hola") == \
        "Sí, en Doral"
    assert reply_text("ok\n> quoted\nmore") == "ok"
    assert reply_text("fine\n-----Original Message-----\nFrom: x") == "fine"
    assert reply_text("> only quote") == ""


def test_a_reply_becomes_an_email_message_of_its_sender() -> None:
    raw = (b"From: Ana <ANA@Example.com>\r\nSubject: Re: x\r\nMessage-ID: <m1@example.com>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nquiero comprar\r\n")
    inbound = as_inbound(raw)
    assert inbound is not None
    assert (inbound.channel, inbound.address, inbound.text, inbound.provider_id) == (
        "email", "ana@example.com", "quiero comprar", "m1@example.com")
    assert inbound.queue_key == "email:ana@example.com"
    assert as_inbound(b"From: a@b.c\r\n\r\n> nothing new\r\n") is None
