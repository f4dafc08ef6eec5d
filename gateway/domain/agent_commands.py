"""Commands an agent texts to Pronto (pure parser), English and Spanish, case-insensitive.

    ACCEPT 4821 | A 4821 | 1 | ACEPTAR 4821   take the offered lead (no code: the latest offer)
    PASS 4821 | PASAR 4821                     decline it
    #4821 text                                 send text to that lead
    DONE 4821 | LISTO 4821                     hand the conversation back to the assistant
                                               (always with its code)
    DONE 4821 won|lost|no-answer               close it with its outcome
    LISTO 4821 ganado|perdido|sin-respuesta
    APPT 4821 tomorrow 5pm | CITA 4821 mañana a las 5
                                               set a showing or consultation (the prospect
                                               gets a confirmation and reminders)
    LEADS | CLIENTES                           list my open leads
    HELP | AYUDA | ?                           the command list
    anything else                              text for my most recent lead

Telegram buttons send "accept:4821" / "pass:4821", parsed the same way. Something that looks
like a mistyped command ("ACEPT 4821") is "unknown", so the agent gets help instead of the
prospect receiving the typo.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal["accept", "pass", "relay", "reply", "done", "close", "appt", "leads", "help",
               "unknown"]

_WORDS: dict[str, Kind] = {
    **dict.fromkeys(
        ["accept", "a", "acc", "claim", "take", "aceptar", "acepto", "acepta", "tomar", "tomo"],
        "accept",
    ),
    **dict.fromkeys(["pass", "skip", "decline", "pasar", "paso", "rechazar", "rechazo"], "pass"),
    **dict.fromkeys(
        ["done", "release", "close", "listo", "terminado", "terminar", "cerrar", "fin"],
        "done",
    ),
    **dict.fromkeys(["appt", "appointment", "showing", "cita", "visita"], "appt"),
    **dict.fromkeys(["leads", "list", "clientes", "prospectos", "pendientes"], "leads"),
    **dict.fromkeys(["help", "commands", "menu", "ayuda", "comandos", "?"], "help"),
}
# Commands that make sense without a code. DONE needs one: "listo" alone is likely meant for
# the prospect, and releasing a lead by accident is worse than asking again.
_STANDALONE: frozenset[Kind] = frozenset({"accept", "pass", "leads", "help"})
_CODE = re.compile(r"^[a-z0-9]{3,8}$")
# Outcomes of DONE <code> <outcome>, words folded and joined with "-".
OUTCOMES: dict[str, str] = {
    **dict.fromkeys(["won", "win", "ganado", "ganada", "ganamos", "gane"], "won"),
    **dict.fromkeys(["lost", "lose", "perdido", "perdida", "perdimos"], "lost"),
    **dict.fromkeys(
        ["no-answer", "noanswer", "no-response", "unresponsive", "sin-respuesta",
         "sinrespuesta", "no-contesta", "no-responde"],
        "no_answer",
    ),
}
_RELAY = re.compile(r"^#\s*([A-Za-z0-9]{3,8})\b[\s:,.-]*(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed agent message.

    Attributes:
        kind: what the agent asked for.
        code: the lead code given, upper-cased, or None.
        text: text to relay ("relay" and "reply"); the time as typed ("appt").
        outcome: "won", "lost" or "no_answer" ("close"); None for a close whose outcome
            was not understood (the agent is shown the usage).
    """

    kind: Kind
    code: str | None = None
    text: str = ""
    outcome: str | None = None


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return word.lower().strip(".,!¡¿:;")


def parse_command(text: str) -> Command:
    """Parse one agent message into a command."""
    stripped = text.strip()
    if not stripped:
        return Command("help")
    if stripped.startswith("#"):
        m = _RELAY.match(stripped)
        if m and m.group(2).strip():
            return Command("relay", m.group(1).upper(), m.group(2).strip())
        return Command("unknown")
    if stripped == "1":
        return Command("accept")
    words = stripped.replace(":", " ", 1).split()
    head = _fold(words[0]) if words[0] != "?" else "?"
    kind = _WORDS.get(head)
    rest = words[1:]
    if head in ("mis", "my") and len(rest) == 1 and _fold(rest[0]) in ("leads", "clientes"):
        return Command("leads")
    if kind == "done" and len(rest) >= 2 and _is_code(rest[0]):
        outcome = "-".join(_fold(w) for w in rest[1:]).replace("_", "-")
        return Command("close", _fold(rest[0]).upper(), outcome=OUTCOMES.get(outcome))
    if kind == "appt" and rest and _is_code(rest[0]):
        when = stripped.replace(":", " ", 1).split(None, 2)
        return Command("appt", _fold(rest[0]).upper(), when[2].strip() if len(when) > 2 else "")
    if kind is not None:
        if not rest and kind in _STANDALONE:
            return Command(kind)
        if len(rest) == 1 and _CODE.match(_fold(rest[0])) and kind not in ("leads", "help",
                                                                           "appt"):
            return Command(kind, _fold(rest[0]).upper())
    if len(words) <= 2 and len(head) >= 3 and _near_command(head):
        if len(words) == 1 or _CODE.match(_fold(words[1])):
            return Command("unknown")
    return Command("reply", None, stripped)


def _is_code(word: str) -> bool:
    """A lead code as agents type it after DONE (codes are numbers; a word is not one)."""
    folded = _fold(word)
    return bool(_CODE.match(folded)) and any(c.isdigit() for c in folded)


def _near_command(word: str) -> bool:
    """Whether `word` is a likely typo of a command word (edit distance 1 or 2)."""
    if word in _WORDS:
        return True
    return any(len(w) >= 4 and _distance(word, w) <= (1 if len(w) < 6 else 2) for w in _WORDS)


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
