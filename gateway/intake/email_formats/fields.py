"""Labelled fields in a lead email's text ("Name: …", "Teléfono: …") and their values.

Every format Pronto reads, and the generic lead-metadata convention, writes the lead as label
and value: on one line ("Phone: (305) 555-0142"), in a table row (rendered as "Phone<TAB>…"),
or as a label line with the value on the next line (HTML blocks). One reader handles the three;
the formats differ in how they are recognised and in what they add (see `portals`).
"""

from __future__ import annotations

import re

from gateway.domain.phones import to_e164

# Label (lower case, single spaces) -> field. English and Spanish, with the variants portals
# and form plugins use. Longer labels ("email address") are looked up whole, so they never
# fall into a shorter one ("address").
LABELS: dict[str, str] = {
    **dict.fromkeys(
        ["name", "full name", "lead name", "contact name", "buyer name", "your name",
         "nombre", "nombre completo", "su nombre", "tu nombre"],
        "name",
    ),
    **dict.fromkeys(["first name", "primer nombre", "nombre de pila"], "first_name"),
    **dict.fromkeys(["last name", "surname", "apellido", "apellidos"], "last_name"),
    **dict.fromkeys(
        ["phone", "phone number", "telephone", "tel", "tel.", "mobile", "mobile phone", "cell",
         "cell phone", "your phone", "teléfono", "telefono", "número de teléfono",
         "numero de telefono", "celular", "móvil", "movil", "tu teléfono", "su teléfono"],
        "phone",
    ),
    **dict.fromkeys(
        ["email", "e-mail", "email address", "e-mail address", "your email", "correo",
         "correo electrónico", "correo electronico", "e-mail del cliente", "tu correo",
         "su correo"],
        "email",
    ),
    **dict.fromkeys(
        ["message", "comments", "comment", "question", "questions", "inquiry", "lead message",
         "their message", "mensaje", "comentarios", "comentario", "pregunta", "consulta"],
        "message",
    ),
    **dict.fromkeys(
        ["property", "listing", "property address", "listing address", "address", "home",
         "property of interest", "listing of interest", "propiedad", "dirección", "direccion",
         "dirección de la propiedad", "inmueble"],
        "address",
    ),
    **dict.fromkeys(
        ["mls", "mls #", "mls#", "mls id", "mls number", "mls no.", "listing id",
         "número mls", "numero mls"],
        "mls_id",
    ),
    **dict.fromkeys(
        ["price", "list price", "listing price", "asking price", "precio",
         "precio de lista"],
        "price",
    ),
    **dict.fromkeys(
        ["listing url", "property url", "listing link", "link", "url", "enlace", "listing page",
         "view listing", "page", "page url"],
        "url",
    ),
    **dict.fromkeys(
        ["language", "preferred language", "language preference", "idioma",
         "idioma preferido", "preferencia de idioma"],
        "language",
    ),
}

# One fact (an address, a phone, a name) is never longer than this; cutting values to it keeps
# the regular expressions below linear on hostile input (a 1 MB "Email:" line).
_MAX_FACT = 320

_LABELLED = re.compile(r"^\s*[*_]*(?P<label>[^:\t*_][^:\t]{0,38}?)[*_]*\s*:[*_]*\s*(?P<value>.*)$")
_LABEL_LIKE = re.compile(r"^[^\W\d_][\w .#'()/-]{0,30}$")
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_BRACKETED_URL = re.compile(r"\s*<(?:https?|mailto|tel):[^>]*>", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d\s().\-]{7,22}\d")
_PRICE = re.compile(
    r"(?:US)?\$\s*(?P<num>\d[\d,.]*)\s*(?P<unit>[kKmM]\b)?|(?P<bare>^\d[\d,.]{3,}$)"
)
_MLS = re.compile(
    # The id must hold a digit, so "MLS data provided by…" in a footer is no MLS number.
    r"\bMLS\s*(?:#|ID|No\.?|number|n[úu]mero)?\s*:?\s*#?\s*"
    r"(?P<id>(?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{2,18}[A-Z0-9])\b",
    re.IGNORECASE,
)
_SPANISH = re.compile(r"^(?:spanish|español|espanol|castellano|es|spa|es-\w+)\b", re.IGNORECASE)
_PREFERS_SPANISH = re.compile(
    r"\bprefers?\s+(?:to\s+(?:speak|talk|communicate|be\s+contacted)\s+)?(?:in\s+)?spanish\b"
    r"|\bspanish[- ]speaking\s+(?:lead|buyer|client|agent)\b"
    r"|\bprefier[eo]\s+(?:hablar\s+|comunicarse\s+|ser\s+atendid[oa]\s+)?(?:en\s+)?español\b",
    re.IGNORECASE,
)


def normalise_label(text: str) -> str:
    """Lower-case a label and collapse its spaces ("Phone  Number" -> "phone number")."""
    return " ".join(text.strip().strip("*_").strip().lower().split())


def _value(text: str) -> str:
    return " ".join(text.strip().strip("*_").split())


def _is_label_line(line: str) -> bool:
    """True when a line starts a new labelled field, known or not ("Timeframe: 3 months")."""
    stripped = line.strip()
    if normalise_label(stripped.rstrip(":")) in LABELS:
        return True
    cells = stripped.split("\t")
    if len(cells) > 1 and normalise_label(cells[0].rstrip(":")) in LABELS:
        return True
    found = _LABELLED.match(stripped)
    return bool(found and _LABEL_LIKE.match(found.group("label").strip()))


def extract_fields(text: str) -> dict[str, str]:
    """Read labelled fields from text; the first value of each field wins.

    A message runs over the following lines until a blank line or the next label, so wrapped
    plain-text messages come back whole.

    Args:
        text: Body text, lines separated by "\\n", table cells by tabs.

    Returns:
        Field name (a value of `LABELS`) to its raw value, whitespace collapsed.
    """
    fields: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        for name, value, alone in _pairs(line):
            if alone:
                # A label on its own line (HTML blocks): the value is the next non-blank line.
                while index < len(lines) and not lines[index].strip():
                    index += 1
                if index >= len(lines) or _is_label_line(lines[index]):
                    continue
                value = _value(lines[index])
                index += 1
            if name == "message":
                more: list[str] = []
                while index < len(lines) and lines[index].strip():
                    if _is_label_line(lines[index]):
                        break
                    more.append(_value(lines[index]))
                    index += 1
                value = " ".join([value, *more]).strip()
            if value and name not in fields:
                fields[name] = value
    return fields


def _pairs(line: str) -> list[tuple[str, str, bool]]:
    """Return (field, value, label_alone) for each known label on one line."""
    cells = [cell for cell in line.split("\t") if cell.strip()]
    if len(cells) > 1:
        pairs: list[tuple[str, str, bool]] = []
        pos = 0
        while pos < len(cells):
            name = LABELS.get(normalise_label(cells[pos].rstrip().rstrip(":")))
            if name is not None and pos + 1 < len(cells):
                pairs.append((name, _value(cells[pos + 1]), False))
                pos += 2
            else:
                pos += 1
        if pairs:
            return pairs
        line = " ".join(cells)
    stripped = line.strip()
    if not stripped:
        return []
    alone = LABELS.get(normalise_label(stripped.rstrip(":")))
    if alone is not None:
        return [(alone, "", True)]
    found = _LABELLED.match(stripped)
    if found:
        name = LABELS.get(normalise_label(found.group("label")))
        if name is not None:
            value = _value(found.group("value"))
            return [(name, value, not value)]
    return []


def strip_links(value: str) -> str:
    """Drop the "<https://…>" link targets the HTML reader keeps after link text."""
    return _value(_BRACKETED_URL.sub("", value))


def clean_name(value: str) -> str | None:
    """Return a person's name, or None when the value is no name (an address, a number)."""
    name = _value(_BRACKETED_URL.sub("", value[:_MAX_FACT])).strip(" ,;.-")
    if not name or len(name) > 100 or "@" in name or _URL.search(name):
        return None
    if sum(ch.isdigit() for ch in name) > 0 or not any(ch.isalpha() for ch in name):
        return None
    return name


def find_email(value: str) -> str | None:
    """Return the first email address in a value, lower case."""
    found = _EMAIL.search(value[:_MAX_FACT])
    return found.group(0).lower().strip(".") if found else None


def find_phone(value: str, default_region: str = "US") -> str | None:
    """Return the first phone number in a value as E.164, None when there is no valid one.

    Fewer than ten digits is a local number without its area code (or a zip code): E.164 of
    that would be a wrong number, so it is no phone at all.
    """
    for found in _PHONE.finditer(value[:_MAX_FACT]):
        digits = sum(ch.isdigit() for ch in found.group(0))
        if 10 <= digits <= 15:
            phone = to_e164(found.group(0), default_region)
            if phone is not None:
                return phone
    return None


def find_url(value: str) -> str | None:
    """Return the first http(s) URL in a value, without trailing punctuation."""
    found = _URL.search(value)
    return found.group(0).rstrip(".,;:)]") if found else None


def parse_price(value: str) -> int | None:
    """Return a price in whole dollars: "$650,000", "$1.25M", "$725K", "450000", "$489.000"."""
    found = _PRICE.search(value[:_MAX_FACT].strip())
    if not found:
        return None
    number = (found.group("num") or found.group("bare") or "").rstrip(".,")
    unit = (found.group("unit") or "").lower()
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", number):
        number = number.replace(".", "")  # Spanish thousands: 489.000
    number = number.replace(",", "")
    try:
        amount = float(number)
    except ValueError:
        return None
    amount *= {"k": 1_000, "m": 1_000_000}.get(unit, 1)
    if not 100 <= amount < 10_000_000_000:
        return None
    return round(amount)


def find_mls(value: str) -> str | None:
    """Return an MLS number written as "MLS# A11223344" or "MLS ID: F10450123"."""
    found = _MLS.search(value)
    return found.group("id").upper() if found else None


def listing_from(fields: dict[str, str], text: str) -> dict[str, str | int]:
    """Build the listing (address, mls_id, url, price) from fields and the whole text.

    A property line often packs several facts ("1234 Ocean Dr, Miami Beach, FL 33139 |
    $650,000 | MLS# A11223344"): the address is the first piece, the others are read for a
    price and an MLS number when those have no label of their own.
    """
    listing: dict[str, str | int] = {}
    raw = fields.get("address", "")
    pieces = re.split(r"\s+[|•·]\s+|\s+[-–—]\s+(?=\$|MLS|US\$)", _BRACKETED_URL.sub("", raw))
    address = re.sub(r"\s*\((?:US)?\$[^)]*\)", "", pieces[0]).strip(" ,;")
    if address and not find_url(address):
        listing["address"] = address
    mls = find_mls(fields["mls_id"]) if "mls_id" in fields else None
    if mls is None and "mls_id" in fields and re.fullmatch(r"[A-Z0-9-]{4,20}", fields["mls_id"]):
        mls = fields["mls_id"]
    mls = mls or find_mls(raw) or find_mls(text)
    if mls:
        listing["mls_id"] = mls
    url = find_url(fields.get("url", "")) or find_url(raw)
    if url:
        listing["url"] = url
    price = parse_price(fields["price"]) if "price" in fields else None
    if price is None:
        price = next((p for p in map(parse_price, [*pieces[1:], raw]) if p is not None), None)
    if price is not None:
        listing["price"] = price
    return listing


def prefers_spanish(fields: dict[str, str], text: str) -> bool:
    """True when the email says the lead prefers Spanish (a language field or a sentence)."""
    if _SPANISH.match(fields.get("language", "").strip()):
        return True
    return bool(_PREFERS_SPANISH.search(text))
