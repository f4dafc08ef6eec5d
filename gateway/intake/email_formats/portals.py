"""The lead-email formats Pronto recognises, and how each is told apart.

A format is recognised by its sender's domain first (the original sender, for a forward), then
by markers in the subject or body that only its notifications carry; anything else is read as
the generic lead-metadata convention, which any sender can use. The formats share one field
reader; what differs is recognition, where the listing link lives, and the sentence that names
the lead when a notification has no "Name:" line ("Jane Doe is interested in …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

LeadEmailSource = Literal["zillow", "realtor.com", "homes.com", "idx", "lead-metadata"]

# A name is up to five capitalised words; the verbs around it are matched in any case.
_NAME = r"(?P<name>[A-ZÁÉÍÓÚÑÜ][\w'’-]*(?:\s+[A-ZÁÉÍÓÚÑÜ][\w'’.-]*){0,4})"
_NAMES_LEAD = re.compile(
    r"^(?i:new (?:contact|lead|inquiry)(?: from)?\s*[:-]?\s*)?" + _NAME + r"\s+(?i:"
    r"is interested in|wants to (?:see|tour|know more about)|requested (?:a tour|information)"
    r"|has a question about|sent you a (?:message|question)|would like (?:more )?information"
    r"|está interesad[oa] en|quiere (?:ver|visitar|información sobre))\b"
)
_NAMES_FROM = re.compile(r"\b(?i:(?:new )?(?:lead|contact|inquiry) from:?)\s+" + _NAME + r"\s*$")
# Words that end up in the name slot of those sentences but name no person.
_NOT_A_NAME = re.compile(r"\w\.\w|zillow|realtor|homes|website|web site|\bidx\b", re.I)

_NO_REPLY = re.compile(
    r"^(?:no-?reply|do-?not-?reply|donotreply|notifications?|notify|mailer-daemon|postmaster|"
    r"bounces?)(?:[+.-].*)?$",
    re.IGNORECASE,
)

_ROLE = re.compile(
    r"^(?:leads?|support|help|info|hello|contact|team|service|customer-?(?:care|service)|"
    r"premier-?agent|agents?|alerts?|news(?:letter)?|marketing|mail)(?:[+.-].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class EmailFormat:
    """One kind of lead notification.

    Attributes:
        source: The `ParsedLeadEmail.source` it yields.
        domains: Sender domains (a subdomain counts) whose mail is this format.
        subject_marker: Recognises the format from a subject when the sender is someone else.
        body_marker: Recognises it from the body (a forward whose header block was lost).
        listing_url: A listing link of this portal anywhere in the body.
    """

    source: LeadEmailSource
    domains: tuple[str, ...]
    subject_marker: re.Pattern[str] | None
    body_marker: re.Pattern[str] | None
    listing_url: re.Pattern[str] | None


ZILLOW = EmailFormat(
    source="zillow",
    domains=("zillow.com", "zillowgroup.com"),
    subject_marker=re.compile(r"\bzillow\b", re.I),
    body_marker=re.compile(r"\bzillow premier agent\b|zillow\.com/homedetails/", re.I),
    listing_url=re.compile(r"https?://(?:www\.)?zillow\.com/homedetails/[^\s<>\"']+", re.I),
)
REALTOR = EmailFormat(
    source="realtor.com",
    domains=("realtor.com", "move.com"),
    subject_marker=re.compile(r"\brealtor\.com\b", re.I),
    body_marker=re.compile(
        r"\brealtor\.com®|realtor\.com/realestateandhomes-detail/|\bsent (?:to you )?"
        r"(?:by|from|via) realtor\.com\b",
        re.I,
    ),
    listing_url=re.compile(
        r"https?://(?:www\.)?realtor\.com/realestateandhomes-detail/[^\s<>\"']+", re.I
    ),
)
HOMES = EmailFormat(
    source="homes.com",
    domains=("homes.com",),
    subject_marker=re.compile(r"\bhomes\.com\b", re.I),
    body_marker=re.compile(
        r"homes\.com/property/|\b(?:sent|delivered) (?:by|from|via) homes\.com\b", re.I
    ),
    listing_url=re.compile(r"https?://(?:www\.)?homes\.com/property/[^\s<>\"']+", re.I),
)
IDX = EmailFormat(
    source="idx",
    domains=("idxbroker.com", "ihomefinder.com", "showcaseidx.com", "realgeeks.com"),
    subject_marker=re.compile(
        r"\bIDX\b|\bwebsite (?:lead|inquiry|contact|form)\b|\bcontact form\b"
        r"|\bnew (?:lead|inquiry|contact) (?:from|on|via) (?:your |the )?(?:web ?site|idx)\b",
        re.I,
    ),
    body_marker=re.compile(
        r"\bIDX\b|\bsubmitted (?:from|on|via|through) (?:your |the )?web ?site\b"
        r"|\bwebsite contact form\b",
        re.I,
    ),
    listing_url=None,  # every site has its own links; only a labelled one is taken
)
LEAD_METADATA = EmailFormat(
    source="lead-metadata", domains=(), subject_marker=None, body_marker=None, listing_url=None
)

PORTALS: tuple[EmailFormat, ...] = (ZILLOW, REALTOR, HOMES, IDX)


def domain_of(address: str) -> str:
    """Return the domain of an address, lower case ("" when it has none)."""
    return address.rpartition("@")[2].lower() if "@" in address else ""


def _owns(fmt: EmailFormat, address: str) -> bool:
    domain = domain_of(address)
    return any(domain == d or domain.endswith("." + d) for d in fmt.domains)


def detect(senders: list[str], subjects: list[str], text: str) -> EmailFormat:
    """Pick the format of an email.

    Args:
        senders: Sender addresses, the original's first for a forward, then the outer From.
        subjects: Subjects in the same order.
        text: The body text the lead will be read from.

    Returns:
        The first portal whose domain sent it, else the first whose marker it carries, else
        the lead-metadata convention.
    """
    for address in senders:
        for fmt in PORTALS:
            if address and _owns(fmt, address):
                return fmt
    for fmt in PORTALS:
        if fmt.subject_marker is not None and any(fmt.subject_marker.search(s) for s in subjects):
            return fmt
        if fmt.body_marker is not None and fmt.body_marker.search(text):
            return fmt
    return LEAD_METADATA


def is_lead_address(address: str, fmt: EmailFormat, senders: list[str]) -> bool:
    """True when an address can be the lead's: not a no-reply box, not the portal's own.

    An address at the portal's domain is the portal's own when it sent the email or is a role
    box (support@, premieragent@); any other one there is taken as a relay alias that reaches
    the lead, which some portals hand out instead of the lead's own address.
    """
    local = address.partition("@")[0]
    if not address or _NO_REPLY.match(local):
        return False
    if _owns(fmt, address):
        return address not in senders and not _ROLE.match(local)
    return True


def name_from_sentences(subjects: list[str], text: str) -> str | None:
    """Find the lead's name in "Jane Doe is interested in …" or "New lead from Jane Doe"."""
    candidates = [*subjects, *(line.strip() for line in text.split("\n")[:15])]
    for line in candidates:
        found = _NAMES_LEAD.search(line) or _NAMES_FROM.search(line)
        if found and not _NOT_A_NAME.search(found.group("name")):
            return found.group("name").strip()
    return None


def listing_url(fmt: EmailFormat, text: str) -> str | None:
    """Return this portal's listing link anywhere in the text, if it has a known shape."""
    if fmt.listing_url is None:
        return None
    found = fmt.listing_url.search(text)
    return found.group(0).rstrip(".,;:)]") if found else None
