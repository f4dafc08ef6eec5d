"""Financing categories: preapproved, cash, needs_lender, unknown, or None.

Conventions (tests/conversations/README.md): preapproved for a pre-approval letter, "the bank
pre-approved me", an FHA/VA/conventional loan approved; cash; needs_lender for needing a
loan/lender/mortgage, not approved yet, or an "FHA loan" still needed; unknown for not sure
or no preference.
"""

from __future__ import annotations

import pytest

from actions.normalise import parse_financing

EN_CASES: list[tuple[str, str | None]] = [
    ("I've got a pre-approval letter", "preapproved"),
    ("pre-approved", "preapproved"),
    ("preapproved with Chase", "preapproved"),
    ("the bank pre-approved me", "preapproved"),
    ("VA loan approved", "preapproved"),
    ("FHA approved", "preapproved"),
    ("conventional loan, already approved", "preapproved"),
    ("already approved for a mortgage", "preapproved"),
    ("got my pre approval", "preapproved"),
    ("yes, approved for 400k", "preapproved"),
    ("cash", "cash"),
    ("all cash", "cash"),
    ("cash buyer", "cash"),
    ("paying cash", "cash"),
    ("I'll pay in cash", "cash"),
    ("we don't need a loan", "cash"),
    ("cash, no mortgage needed", "cash"),
    ("we'll need a mortgage", "needs_lender"),
    ("need financing", "needs_lender"),
    ("FHA loan", "needs_lender"),
    ("VA loan", "needs_lender"),
    ("conventional loan", "needs_lender"),
    ("still shopping for a lender", "needs_lender"),
    ("i need a lender", "needs_lender"),
    ("looking for a loan", "needs_lender"),
    ("mortgage", "needs_lender"),
    ("need help with the mortgage", "needs_lender"),
    ("not approved yet", "needs_lender"),
    ("not pre-approved yet", "needs_lender"),
    ("haven't been pre-approved", "needs_lender"),
    ("need to get pre-approved", "needs_lender"),
    ("working on getting approved", "needs_lender"),
    ("not yet", "needs_lender"),
    ("half cash, half mortgage", "needs_lender"),
    ("not sure", "unknown"),
    ("idk", "unknown"),
    ("no idea", "unknown"),
    ("no preference", "unknown"),
    ("depends", "unknown"),
    ("haven't decided", "unknown"),
    ("hmm", None),
    ("ok", None),
    ("no", None),
    ("in Doral", None),
]

ES_CASES: list[tuple[str, str | None]] = [
    ("ya me preaprobó el banco", "preapproved"),
    ("el banco ya me aprobó", "preapproved"),
    ("preaprobado", "preapproved"),
    ("estoy preaprobada", "preapproved"),
    ("tengo carta de preaprobación", "preapproved"),
    ("tengo la preaprobación del banco", "preapproved"),
    ("me aprobaron el crédito", "preapproved"),
    ("crédito FHA aprobado", "preapproved"),
    ("préstamo VA aprobado", "preapproved"),
    ("ya tengo el crédito aprobado", "preapproved"),
    ("hipoteca aprobada", "preapproved"),
    ("voy a pagar cash", "cash"),
    ("pago en efectivo", "cash"),
    ("de contado", "cash"),
    ("al contado", "cash"),
    ("en efectivo", "cash"),
    ("todo en efectivo", "cash"),
    ("no necesito préstamo, pago cash", "cash"),
    ("no necesito financiamiento", "cash"),
    ("con mis ahorros", "cash"),
    ("necesito financiamiento", "needs_lender"),
    ("hipoteca", "needs_lender"),
    ("necesito un préstamo", "needs_lender"),
    ("necesito una hipoteca", "needs_lender"),
    ("no tengo crédito todavía", "needs_lender"),
    ("todavía no", "needs_lender"),
    ("aún no", "needs_lender"),
    ("no estoy preaprobado", "needs_lender"),
    ("no me han aprobado", "needs_lender"),
    ("sin preaprobación", "needs_lender"),
    ("busco un prestamista", "needs_lender"),
    ("busco banco", "needs_lender"),
    ("con crédito FHA", "needs_lender"),
    ("préstamo convencional", "needs_lender"),
    ("necesito ayuda con el crédito", "needs_lender"),
    ("mitad efectivo y mitad hipoteca", "needs_lender"),
    ("no sé", "unknown"),
    ("no estoy seguro", "unknown"),
    ("ni idea", "unknown"),
    ("no tengo idea", "unknown"),
    ("depende", "unknown"),
    ("me da igual", "unknown"),
    ("sin preferencia", "unknown"),
    ("hola", None),
    ("en Kendall", None),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_parse_financing_en(text: str, expected: str | None) -> None:
    assert parse_financing(text) == expected


@pytest.mark.parametrize(("text", "expected"), ES_CASES)
def test_parse_financing_es(text: str, expected: str | None) -> None:
    assert parse_financing(text) == expected
