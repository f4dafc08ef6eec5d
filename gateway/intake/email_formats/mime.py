"""Reading an email: its headers and the readable text of its body (pure, standard library).

Lead emails arrive from portals, website plugins and people forwarding them, so everything here
is lenient: a header the standard library cannot parse is read raw, a wrong charset label falls
back to UTF-8 and then Windows-1252, and HTML becomes text when there is no text/plain part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

# Multipart nesting deeper than this is not a lead notification; the limit keeps hostile input
# from recursing without end.
_MAX_DEPTH = 12

# A lead notification is a few kilobytes of text; reading at most this much of each part bounds
# the work a hostile or huge email can cause.
_MAX_TEXT = 200_000

# Longer header values (a real Subject is under 1,000 characters) are read raw, not decoded.
_MAX_HEADER = 4_000

_SPACES = re.compile(r"[ \f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the headers say.

    Attributes:
        message_id: The Message-ID without angle brackets ("" when missing).
        subject: The decoded Subject ("" when missing).
        sender: The From address, lower case ("" when missing).
        reply_to: The Reply-To address, lower case ("" when missing).
        date: The Date header as an aware UTC datetime, None when missing or unreadable.
        bulk: True when the headers mark bulk mail (List-Unsubscribe, Precedence: bulk/list).
    """

    message_id: str
    subject: str
    sender: str
    reply_to: str
    date: datetime | None
    bulk: bool


@dataclass(slots=True)
class Bodies:
    """The readable text of a message, by kind.

    Attributes:
        plain: Decoded text/plain parts, in order.
        html: Decoded text/html parts turned into text, in order.
        attached: Messages attached as message/rfc822 (forwarded as an attachment).
    """

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attached: list[Message] = field(default_factory=list)


def read_message(raw: bytes) -> Message:
    """Parse raw bytes into a message with the modern policy (never raises on bad input)."""
    return BytesParser(policy=policy.default).parsebytes(raw)


def header(msg: Message, name: str) -> str:
    """Return the first such header's decoded value, or its raw text when decoding fails.

    The standard library's structured header parser has raised IndexError, ValueError and
    others on malformed headers across Python versions; a lead email must never fail on that.
    """
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    if len(raw) <= _MAX_HEADER:
        try:
            return _SPACES.sub(" ", str(msg.get(name, ""))).strip()
        except Exception:
            pass
    # Unparseable, or so long that decoding it would cost seconds: no lead needs more than
    # the start of it, as written.
    return _SPACES.sub(" ", re.sub(r"\r?\n[ \t]+", " ", raw[:_MAX_HEADER])).strip()


def first_address(value: str) -> str:
    """Return the first email address in a header value or text, lower case ("" when none)."""
    value = value[:998]  # the RFC 5322 line limit; also bounds the regex below
    try:
        for _, addr in getaddresses([value]):
            if _ADDRESS.fullmatch(addr):
                return addr.lower()
    except Exception:  # the address parser has its own edge-case crashes; fall back to a regex
        pass
    found = _ADDRESS.search(value)
    return found.group(0).lower() if found else ""


def envelope(msg: Message) -> Envelope:
    """Read the headers the lead parser needs."""
    precedence = header(msg, "Precedence").lower()
    return Envelope(
        message_id=header(msg, "Message-ID").strip().strip("<>").strip(),
        subject=header(msg, "Subject"),
        sender=first_address(header(msg, "From")),
        reply_to=first_address(header(msg, "Reply-To")),
        date=parse_date(header(msg, "Date")),
        bulk=bool(header(msg, "List-Unsubscribe")) or precedence in ("bulk", "list", "junk"),
    )


def parse_date(value: str) -> datetime | None:
    """Parse an RFC 5322 date into aware UTC; a date without a zone (-0000) is taken as UTC."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed over the edge by the offset
        return None


def bodies(msg: Message) -> Bodies:
    """Collect the text/plain and text/html parts (not attachments) and attached messages."""
    found = Bodies()
    _collect(msg, found, 0)
    return found


def _collect(part: Message, found: Bodies, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    ctype = part.get_content_type()
    payload = part.get_payload()
    if ctype == "message/rfc822" and isinstance(payload, list):
        found.attached.extend(p for p in payload if isinstance(p, Message))
        return
    if part.is_multipart():
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _collect(sub, found, depth + 1)
        return
    if _is_attachment(part) or ctype not in ("text/plain", "text/html"):
        return
    text = decode_text(part)[:_MAX_TEXT]
    if not text.strip():
        return
    if ctype == "text/plain":
        found.plain.append(normalise_text(text))
    else:
        found.html.append(html_to_text(text))


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # a malformed Content-Disposition: treat the part as inline text
        return False


def decode_text(part: Message) -> str:
    """Decode a text part's transfer encoding and charset.

    The declared charset is tried first, then UTF-8 (portals often declare us-ascii and send
    UTF-8), then Windows-1252, which maps every byte, with replacement for the few it lacks.
    """
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: read what is there
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    try:
        declared = part.get_content_charset() or "utf-8"
    except Exception:
        declared = "utf-8"
    for charset in (declared, "utf-8"):
        try:
            return data.decode(charset)
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return data.decode("cp1252", errors="replace")


def normalise_text(text: str) -> str:
    """Unify line ends, drop odd spaces, and collapse runs of blank lines into one."""
    lines = [_SPACES.sub(" ", line).rstrip() for line in re.split(r"\r\n|\r|\n", text)]
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip("\n")


# Tags whose start and end break a line; table cells are separated by a tab so that
# "Name | Jane" rows stay one labelled line.
_BLOCKS = frozenset(
    "address article aside blockquote body center dd div dl dt fieldset figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody thead tfoot "
    "tr ul".split()
)
_SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template"})


class _TextFromHtml(HTMLParser):
    """Turns HTML into lines of text, keeping link targets as "<url>" after the link text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip = 0  # an unclosed <head> must not hide the whole document
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._href = href.strip() if href.strip().lower().startswith("http") else None
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "a" and self._href is not None:
            if self._href not in "".join(self._link_text):
                self.parts.append(f" <{self._href}>")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        text = re.sub(r"\s+", " ", data)
        self.parts.append(text)
        if self._href is not None:
            self._link_text.append(text)


def html_to_text(html: str) -> str:
    """Render HTML as plain lines: blocks become paragraphs, table cells tab-separated."""
    parser = _TextFromHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but hostile input must not fail a lead
        pass
    lines = []
    for line in "".join(parser.parts).split("\n"):
        cells = [_SPACES.sub(" ", cell).strip() for cell in line.split("\t")]
        lines.append("\t".join(cell for cell in cells if cell))
    return normalise_text("\n".join(lines))
