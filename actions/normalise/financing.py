"""How a buyer will pay: preapproved, cash, needs_lender or unknown.

* preapproved: a pre-approval letter, "the bank pre-approved me", an FHA/VA/conventional loan
  that is approved, "ya me preaprobó el banco".
* cash: "cash", "all cash", "de contado", "pago en efectivo", "no need for a loan".
* needs_lender: needs a loan, lender or mortgage, or is not approved yet ("FHA loan" alone is
  a loan still to get).
* unknown: "not sure", "no sé", "no preference".
"""

from __future__ import annotations

import re

from actions.normalise.answers import is_no_preference, is_unknown_answer
from actions.normalise.text import fold

_PRE = r"pre[\s-]?"
# Checked first: a buyer who says they need no loan is paying cash even if "loan" appears.
_NO_LOAN_NEEDED = re.compile(
    r"\b(?:(?:dont|don't|do not|wont|won't|will not|no) need (?:a |any |the )?"
    r"(?:loan|mortgage|financing|lender|bank)|no (?:necesito|voy a necesitar|ocupo) "
    r"(?:un |una |ningun |ninguna |el |la )?(?:prestamo|credito|financiamiento|hipoteca|banco)|"
    r"sin (?:hipoteca|prestamo|credito|banco)|without (?:a |any )?(?:loan|mortgage|financing)|"
    r"no (?:loan|mortgage|financing) needed)\b"
)
# "Not approved yet" and friends: the buyer still needs a lender.
_NOT_APPROVED = re.compile(
    rf"\b(?:not (?:yet )?(?:{_PRE})?(?:approved|qualified)|haven'?t (?:been |gotten |got )?"
    rf"(?:{_PRE})?approved|have not (?:been )?(?:{_PRE})?approved|no (?:{_PRE})?approval|"
    r"not yet|nope not|no estoy (?:pre[\s-]?)?(?:aprobad[oa]|calificad[oa])|"
    r"no (?:me )?(?:han|ha) (?:pre[\s-]?)?aprobado|todavia no|aun no|"
    r"sin (?:pre[\s-]?)?(?:aprobacion|calificacion)|no tengo (?:el |un |una |la )?"
    r"(?:credito|prestamo|hipoteca|financiamiento|pre[\s-]?aprobacion|carta|banco)|"
    r"no he (?:aplicado|solicitado|hablado con)|working on (?:getting )?(?:pre[\s-]?)?approv|"
    r"in the process|en proceso|need to get (?:pre[\s-]?)?approved|still need|"
    r"(?:need|needs|necesito) (?:pre[\s-]?)?(?:approval|aprobacion))"
)
_APPROVED = re.compile(
    rf"\b(?:(?:{_PRE})?approv(?:ed|al)|{_PRE}qualified|prequal|approval letter|"
    r"pre[\s-]?aprob\w*|aprobad[oa]s?|aprobo|aprobaron|me aprobaron|pre[\s-]?calificad[oa]|"
    r"carta de (?:pre[\s-]?)?aprobacion|have (?:a |my |the )?(?:loan|mortgage|financing)|"
    r"got (?:a |my |the )?(?:loan|mortgage|financing)|financing (?:is )?(?:in place|secured|"
    r"lined up|ready)|tengo (?:el |un |mi |la )?(?:credito|prestamo|hipoteca|financiamiento)|"
    r"ya tengo (?:el |un |mi |la )?(?:banco|credito|prestamo|financiamiento))\b"
)
_CASH = re.compile(
    r"\b(?:cash|efectivo|contado|all cash|cash buyer|sin financiamiento|no financing|"
    r"pay (?:it )?(?:in full|outright)|paying (?:in full|outright)|outright|"
    r"(?:from|with) (?:my |our )?savings|con (?:mis |nuestros )?ahorros)\b"
)
_LOAN_WORDS = re.compile(
    r"\b(?:lender|loan|mortgage|financing|finance|broker|bank|fha|va loan|usda|conventional|"
    r"hipoteca|prestamo|credito|financiamiento|prestamista|banco|convencional)\b"
)


def parse_financing(text: str) -> str | None:
    """Classify how a buyer will pay.

    Args:
        text: The user's words, e.g. "I've got a pre-approval letter", "voy a pagar cash",
            "FHA loan", "necesito financiamiento", "no sé".

    Returns:
        "preapproved", "cash", "needs_lender", "unknown" (the user does not know or has no
        preference), or ``None`` when the text says nothing about financing.
    """
    folded = fold(text)
    mentions = bool(_LOAN_WORDS.search(folded) or _CASH.search(folded))
    mentions = mentions or bool(_APPROVED.search(folded))
    if not mentions and (is_unknown_answer(folded) or is_no_preference(folded)):
        return "unknown"
    if _NO_LOAN_NEEDED.search(folded):
        return "cash"
    if _NOT_APPROVED.search(folded):
        return "needs_lender"
    if _APPROVED.search(folded):
        return "preapproved"
    if _CASH.search(folded):
        # "half cash, half mortgage" still needs a lender for the mortgage half.
        return "needs_lender" if _LOAN_WORDS.search(_CASH.sub(" ", folded)) else "cash"
    if _LOAN_WORDS.search(folded):
        return "needs_lender"
    if is_unknown_answer(folded) or is_no_preference(folded):
        return "unknown"
    return None
