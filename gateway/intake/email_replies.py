"""A lead's emailed answer: an email from an address that is already a lead's identity is the
next message of that lead's conversation (channel "email"), not a new lead notification. Only
the new text is kept: the quoted history under "On … wrote:" / "El … escribió:" or ">" lines
is cut."""

from __future__ import annotations

import hashlib
import re

from gateway.intake.email_formats.mime import bodies, envelope, read_message
from gateway.messages import Inbound

_QUOTE_HEAD = re.compile(
    r"^\s*(on .{4,200} wrote:|el .{4,200} escribi[oó]:|-{2,}\s*original message\s*-{2,}|"
    r"-{2,}\s*mensaje original\s*-{2,}|from: .+)\s*$", re.I)
MAX_TEXT = 4000


def reply_text(body: str) -> str:
    """The new part of a reply: everything above the first quote marker."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith(">") or _QUOTE_HEAD.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()[:MAX_TEXT]


def sender_of(raw: bytes) -> str:
    """The From address of an email, lower case ("" when unreadable)."""
    try:
        return envelope(read_message(raw)).sender
    except Exception:  # a mangled email is the parser's to report, not ours
        return ""


def as_inbound(raw: bytes) -> Inbound | None:
    """The reply as an inbound message on the "email" channel; None when it has no text."""
    msg = read_message(raw)
    env = envelope(msg)
    found = bodies(msg)
    text = reply_text("\n".join(found.plain) or "\n".join(found.html))
    if not env.sender or not text:
        return None
    provider_id = env.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()[:40]
    return Inbound(channel="email", provider_id=provider_id[:128], address=env.sender,
                   text=text)
