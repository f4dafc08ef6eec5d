"""Plays prospect conversations (YAML, see README.md here) through the real pipeline.

A simulated prospect texts the running gateway through signed Twilio webhooks; the gateway
talks to the real trained Rasa model and action server; replies reach the fake Twilio API. The
prospect reads each batch of bot messages, works out which question was asked, and answers
from its script. At the end the lead is read back from SQL and compared with the expectation.

Used by `tests/conversations/test_conversations.py` (pytest) and by
`scripts/converse_eval.py` (`make converse-eval`, which prints the figures).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.store.models import Assignment, AuditEvent, Lead, Message

_PHONES = itertools.count(5550000)
TODAY = "2026-12-01"
"""The date every conversation is played on (the action server gets PRONTO_TODAY)."""
FIELDS = ("intent", "location", "bedrooms", "budget_min", "budget_max", "timeline_days",
          "financing", "name", "language")
MAX_MESSAGES = 20
"""The simulated prospect gives up after this many messages (the bot's own ceiling is 12)."""

# How a person tells which question the bot asked: words of the question, EN and ES.
_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("lead_intent", r"buy, sell or rent|comprar, vender o rentar"),
    ("financing", r"planning to pay|piensas pagar"),
    ("name", r"your name|tu nombre"),
    ("bedrooms", r"how many bedrooms|cuantas habitaciones"),
    ("budget", r"budget|presupuesto|price are you hoping|en cuanto esperas"),
    ("timeline", r"^when |when are you hoping|para cuando"),
    ("location", r"which area|where is the property|en que zona|donde esta la propiedad"),
)


def fold(text: str) -> str:
    """Lower-case without accents."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def asked_topic(bot_texts: Sequence[str]) -> str | None:
    """The topic of the last question in a batch of bot messages (None: no known question)."""
    for message in reversed(bot_texts):
        for sentence in reversed(re.split(r"(?<=[.!?])\s+", message)):
            folded = fold(sentence)
            if "?" not in sentence:
                continue
            for topic, pattern in _QUESTIONS:
                if re.search(pattern, folded):
                    return topic
    return None


@dataclass
class Conversation:
    """One scripted prospect."""

    id: str
    language: str
    opening: str
    answers: dict[str, list[str]]
    expect: dict[str, Any]
    other: list[str] = field(default_factory=lambda: ["ok"])
    switch_language_at: int | None = None
    switch_to: str | None = None
    note: str = ""
    source: str = ""


def load(paths: Iterable[Path]) -> list[Conversation]:
    """Read every conversation in the YAML files under ``paths`` (files or folders)."""
    out: list[Conversation] = []
    for root in paths:
        files = sorted(root.glob("*.yml")) if root.is_dir() else [root]
        for path in files:
            for item in yaml.safe_load(path.read_text()) or []:
                out.append(Conversation(
                    id=item["id"], language=item["language"], opening=item["opening"],
                    answers={k: list(v) for k, v in (item.get("answers") or {}).items()},
                    expect=item.get("expect") or {}, other=list(item.get("other") or ["ok"]),
                    switch_language_at=item.get("switch_language_at"),
                    switch_to=item.get("switch_to"), note=item.get("note", ""),
                    source=path.name,
                ))
    ids = [c.id for c in out]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate conversation ids: {sorted(duplicates)}")
    return out


@dataclass
class Result:
    """What happened in one conversation."""

    conversation: Conversation
    transcript: list[tuple[str, str]] = field(default_factory=list)
    reached_person: bool = False
    opted_out: bool = False
    reason: str | None = None
    lead: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """field -> (expected, got), for every field the conversation lists."""
    wrong_language: list[str] = field(default_factory=list)
    unknown_questions: int = 0
    error: str | None = None

    @property
    def field_hits(self) -> int:
        """Fields that came out as expected."""
        return sum(1 for exp, got in self.fields.values() if _same(exp, got))

    @property
    def expects_opt_out(self) -> bool:
        """The prospect revokes consent: the right end is an opt-out, not a person."""
        return self.conversation.expect.get("reason") == "opted_out"

    @property
    def ended_right(self) -> bool:
        """A person got the lead; or, for a revocation, the lead was opted out and nobody."""
        if self.expects_opt_out:
            return self.opted_out and not self.reached_person
        return self.reached_person

    @property
    def reason_ok(self) -> bool:
        """The handoff reason is the expected one."""
        if self.expects_opt_out:
            return self.opted_out and self.reason is None
        return self.reason == self.conversation.expect.get("reason", "qualified")

    def misses(self) -> dict[str, tuple[Any, Any]]:
        """The fields that did not come out as expected."""
        return {k: v for k, v in self.fields.items() if not _same(*v)}

    def render(self) -> str:
        """A readable transcript with the verdict."""
        c = self.conversation
        lines = [f"--- {c.id} ({c.source}, {c.language}): {c.note}".rstrip(": ")]
        for who, line in self.transcript:
            lines.append(f"  {who:>8}: {line}")
        lines.append(f"  reached a person: {self.reached_person}; opted out {self.opted_out}; "
                     f"reason {self.reason} "
                     f"(expected {c.expect.get('reason', 'qualified')})")
        for name, (exp, got) in self.misses().items():
            lines.append(f"  MISS {name}: expected {exp!r}, got {got!r}")
        if self.wrong_language:
            lines.append(f"  wrong language: {self.wrong_language}")
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, str) and isinstance(got, str):
        return fold(expected).strip() == fold(got).strip()
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return float(expected) == float(got)
    return bool(expected == got)


class Prospect:
    """Drives one conversation against a running gateway."""

    def __init__(self, stack: Any, conversation: Conversation, phone: str,
                 detector: Any, sign_token: str, account_sid: str) -> None:
        self.stack, self.c, self.phone = stack, conversation, phone
        self.detector, self.token, self.account_sid = detector, sign_token, account_sid
        self.asked: dict[str, int] = {}
        self.result = Result(conversation)

    async def play(self, http: aiohttp.ClientSession, timeout: float = 60.0) -> Result:
        """Text the bot until a person has the lead (or the prospect gives up)."""
        try:
            text = self.c.opening
            for n in range(1, MAX_MESSAGES + 1):
                replies = await self._say(http, text, timeout)
                language = self._language_at(n)
                for reply in replies:
                    self._check_language(reply, language)
                if await self._handed_off() or await self._opted_out():
                    await self._settle(http)
                    break
                text = self._answer(replies)
            await self._read_lead()
        except Exception as exc:  # a crash is a failed conversation, with its transcript
            self.result.error = f"{type(exc).__name__}: {exc}"
        return self.result

    def _language_at(self, n: int) -> str:
        if self.c.switch_language_at and self.c.switch_to and n >= self.c.switch_language_at:
            return self.c.switch_to
        return self.c.language

    def _answer(self, replies: Sequence[str]) -> str:
        topic = asked_topic(replies)
        if topic is None or topic not in self.c.answers:
            self.result.unknown_questions += topic is not None
            options = self.c.other if topic is None else ["?"]
        else:
            options = self.c.answers[topic]
        key = topic or "_other"
        k = self.asked.get(key, 0)
        self.asked[key] = k + 1
        return options[min(k, len(options) - 1)]

    async def _say(self, http: aiohttp.ClientSession, text: str, timeout: float) -> list[str]:
        before = len(self.stack.twilio.to(self.phone))
        self.result.transcript.append(("prospect", text))
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": self.account_sid,
                  "From": self.phone, "To": self.stack.settings.twilio_from_number,
                  "Body": text, "NumMedia": "0"}
        url = f"{self.stack.settings.public_url}/webhooks/twilio"
        signature = RequestValidator(self.token).compute_signature(url, params)
        async with http.post(f"{self.stack.base}/webhooks/twilio", data=params,
                             headers={"X-Twilio-Signature": signature}) as resp:
            await resp.read()
            if resp.status != 200:
                raise AssertionError(f"webhook answered {resp.status}")
        await self._wait_answered(params["MessageSid"], timeout)
        replies = [s.body for s in self.stack.twilio.to(self.phone)[before:]]
        for reply in replies:
            self.result.transcript.append(("bot", reply))
        return replies

    async def _wait_answered(self, sid: str, timeout: float) -> None:
        """Until this message was handled, and every reply to it has left the outbox."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            async with self.stack.services.store.maker() as s:
                # The webhook only queues the message: first wait until a worker handled it.
                status = await s.scalar(select(Message.bot_status).where(
                    Message.provider_id == sid, Message.direction == "in"))
                lead_id = await s.scalar(select(Lead.id).where(Lead.phone == self.phone))
                if lead_id is not None and status is not None and status != "pending":
                    waiting = await s.scalar(select(func.count()).select_from(Message).where(
                        Message.lead_id == lead_id,
                        ((Message.direction == "in") & (Message.bot_status == "pending"))
                        # Sent means the provider gave it an id (Twilio's own status for an
                        # accepted message is "queued" too).
                        | ((Message.direction == "out") & (Message.status == "queued")
                           & Message.provider_id.is_(None))))
                    if not waiting:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no answer within {timeout:.0f}s")

    async def _lead_id(self) -> int | None:
        async with self.stack.services.store.maker() as s:
            value = await s.scalar(select(Lead.id).where(Lead.phone == self.phone))
            return int(value) if value is not None else None

    async def _handed_off(self) -> bool:
        lead_id = await self._lead_id()
        async with self.stack.services.store.maker() as s:
            n = await s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.lead_id == lead_id, AuditEvent.type == "handoff.requested"))
            return bool(n)

    async def _opted_out(self) -> bool:
        async with self.stack.services.store.maker() as s:
            return bool(await s.scalar(select(Lead.opted_out).where(Lead.phone == self.phone)))

    async def _settle(self, http: aiohttp.ClientSession) -> None:
        """Let the alert reach the agent before the lead is read back."""
        await asyncio.sleep(0.1)

    async def _read_lead(self) -> None:
        lead_id = await self._lead_id()
        if lead_id is None:
            return
        async with self.stack.services.store.maker() as s:
            lead = await s.get(Lead, lead_id)
            assert lead is not None
            offered = await s.scalar(select(func.count()).select_from(Assignment).where(
                Assignment.lead_id == lead_id))
            events = (await s.scalars(select(AuditEvent).where(
                AuditEvent.lead_id == lead_id, AuditEvent.type == "handoff.requested"
            ).order_by(AuditEvent.id))).all()
            self.result.reached_person = bool(offered)
            self.result.opted_out = bool(lead.opted_out)
            if events:
                self.result.reason = (events[0].data or {}).get("reason")
            self.result.lead = {**(lead.qualification or {}), "language": lead.language}
        for name, expected in (self.c.expect.get("lead") or {}).items():
            self.result.fields[name] = (expected, self.result.lead.get(name))

    def _check_language(self, text: str, expected: str) -> None:
        decision = self.detector.decide(text)
        if decision.detected is not None and decision.detected != expected:
            self.result.wrong_language.append(text)


@dataclass
class Summary:
    """Figures over a set of results."""

    results: list[Result]

    def of(self, language: str | None = None) -> list[Result]:
        """The results in one language (all when None)."""
        return [r for r in self.results if language in (None, r.conversation.language)]

    def completion(self, language: str | None = None) -> float:
        """Share of conversations in which a person got the lead."""
        rs = self.of(language)
        return sum(r.ended_right for r in rs) / len(rs) if rs else 1.0

    def field_accuracy(self, language: str | None = None) -> float:
        """Share of expected fields that came out right."""
        rs = self.of(language)
        total = sum(len(r.fields) for r in rs)
        return sum(r.field_hits for r in rs) / total if total else 1.0

    def all_right(self, language: str | None = None) -> int:
        """Conversations with a person, the right reason and every field right."""
        return sum(1 for r in self.of(language) if r.ended_right and r.reason_ok
                   and not r.misses() and not r.wrong_language and not r.error)

    def worst(self, n: int = 5) -> list[Result]:
        """The conversations furthest from right."""
        def badness(r: Result) -> tuple[int, int, int]:
            return (not r.ended_right, len(r.misses()) + (not r.reason_ok),
                    len(r.wrong_language))
        return sorted((r for r in self.results if any(badness(r))), key=badness,
                      reverse=True)[:n]

    def report(self, title: str, worst: int = 5) -> str:
        """The printed figures."""
        lines = [f"== {title}: {len(self.results)} conversations"]
        for lang in (None, "en", "es"):
            rs = self.of(lang)
            if not rs:
                continue
            label = lang or "all"
            lines.append(
                f"  {label:>3}: ended right {sum(r.ended_right for r in rs)}/{len(rs)} "
                f"({self.completion(lang):.0%}), field accuracy {self.field_accuracy(lang):.3f}, "
                f"right reason {sum(r.reason_ok for r in rs)}/{len(rs)}, "
                f"all right {self.all_right(lang)}/{len(rs)}, "
                f"wrong-language bot messages {sum(len(r.wrong_language) for r in rs)}")
        bad = self.worst(worst)
        if bad:
            lines.append(f"  worst {len(bad)}:")
            lines.extend(r.render() for r in bad)
        return "\n".join(lines)


async def play_all(stack: Any, conversations: Sequence[Conversation], detector: Any, *,
                   token: str, account_sid: str, concurrency: int = 4,
                   progress: Any = None) -> Summary:
    """Play every conversation (a few at once, each from its own phone number)."""
    gate = asyncio.Semaphore(concurrency)
    results: list[Result] = []
    async with aiohttp.ClientSession() as http:
        async def one(c: Conversation) -> None:
            async with gate:
                # A phone number per conversation, never reused by a later set in the same
                # run (a reused number would be a returning lead, already with an agent).
                phone = f"+1786{next(_PHONES):07d}"
                prospect = Prospect(stack, c, phone, detector, token, account_sid)
                results.append(await prospect.play(http))
                if progress is not None:
                    progress(len(results), len(conversations))
        await asyncio.gather(*(one(c) for c in conversations))
    order = {c.id: i for i, c in enumerate(conversations)}
    results.sort(key=lambda r: order[r.conversation.id])
    return Summary(results)
