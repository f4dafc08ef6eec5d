"""Forwarded and replied emails: find the original a person forwarded, drop what a reply quotes.

Agents often forward a portal's notification to Pronto from their own mailbox. The lead then
sits below a forward marker, after a small header block naming the portal as the sender; that
original sender, not the agent, decides the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.intake.email_formats.mime import first_address

_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|rv|tr|wg|enc|reenv(?:iado)?)\s*:", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|aw|antw|sv|rif|r)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_PREFIXES = re.compile(
    r"^(?:\s*(?:fwd?|fw|rv|tr|wg|enc|reenv(?:iado)?|re|aw|antw|sv|rif)\s*(?:\[\d+\])?\s*:)+",
    re.IGNORECASE,
)

# A chain of forwards longer than this is not worth following.
_MAX_FORWARDS = 5

# Gmail, Outlook, Apple Mail and Thunderbird, in English and Spanish.
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|original message|mensaje reenviado|mensaje original)"
    r"\s*-*|begin forwarded message:?|inicio del mensaje reenviado:?)\s*$",
    re.IGNORECASE,
)
_FORWARD_HEADER = re.compile(
    r"^\s*[*_]*(?P<key>from|de|date|fecha|sent|enviado(?: el)?|subject|asunto|to|para|cc|"
    r"reply-to|responder a)[*_]*\s*:[*_]*\s*(?P<value>.*)$",
    re.IGNORECASE,
)
# "On Mon, Jun 2, 2025 at 9:12 PM Jane <jane@example.com> wrote:" and the Spanish form.
_REPLY_INTRO = re.compile(r"^\s*(?:on\s.{4,200}\swrote|el\s.{4,200}\sescribi[óo])\s*:\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Original:
    """The part of a body that holds the lead, with who sent it originally.

    Attributes:
        text: The body text to read fields from.
        sender: The original sender's address when the text was forwarded ("" otherwise).
        subject: The original subject when the text was forwarded ("" otherwise).
        forwarded: True when a forward marker was found.
    """

    text: str
    sender: str = ""
    subject: str = ""
    forwarded: bool = False


def is_reply(subject: str) -> bool:
    """True when a subject starts with a reply prefix (Re:, RE:, AW:…), not a forward one."""
    return bool(_REPLY_SUBJECT.match(subject)) and not _FORWARD_SUBJECT.match(subject)


def strip_prefixes(subject: str) -> str:
    """Remove any run of Re:/Fwd:/RV: prefixes from a subject."""
    return _PREFIXES.sub("", subject).strip()


def unwrap(text: str, subject: str) -> Original:
    """Return the forwarded original inside ``text``, or the text itself.

    A forward of a forward is followed to the innermost original, which names the portal. For
    a reply (and no forward marker), the quoted part is dropped: it repeats an earlier message,
    and a lead quoted back in a reply is not a new lead.
    """
    original: Original | None = None
    for _ in range(_MAX_FORWARDS):
        lines = (text if original is None else original.text).split("\n")
        index = next((i for i, line in enumerate(lines) if _FORWARD_MARKER.match(line)), None)
        if index is None:
            break
        inner = _forwarded(lines[index + 1 :])
        if original is not None:
            inner = Original(
                text=inner.text,
                sender=inner.sender or original.sender,
                subject=inner.subject or original.subject,
                forwarded=True,
            )
        original = inner
    if original is not None:
        return original
    if is_reply(subject):
        kept: list[str] = []
        for line in text.split("\n"):
            if _REPLY_INTRO.match(line):
                break
            if not line.lstrip().startswith(">"):
                kept.append(line)
        return Original(text="\n".join(kept).strip())
    return Original(text=text)


def _forwarded(lines: list[str]) -> Original:
    # Some clients quote the forwarded original with "> "; read it unquoted.
    lines = [re.sub(r"^\s*> ?", "", line) for line in lines]
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    sender = subject = ""
    end = start
    while end < len(lines):
        found = _FORWARD_HEADER.match(lines[end])
        if not found:
            break
        key, value = found.group("key").lower(), found.group("value").strip()
        if key in ("from", "de") and not sender:
            sender = first_address(value)
        elif key in ("subject", "asunto") and not subject:
            subject = value
        end += 1
    body = "\n".join(lines[end:]).strip()
    return Original(text=body, sender=sender, subject=subject, forwarded=True)
