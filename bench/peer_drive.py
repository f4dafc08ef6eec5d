"""The load of `bench/peer.py`: leads, their messages, the open-loop schedule and the figures.

Messages are offered at a fixed rate (one every 1/rate s). Each slot goes to a lead whose
previous message has its bot answer (after a short think time), else to a new lead, so every
lead has at most one message in flight and whatever reaches a lead's phone at the fake Twilio
belongs to its latest message. A lead writes a first message, then answers the bot's questions
(area, bedrooms, budget, timeline), in English or Spanish.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from bench.faults_drive import pct
from tests.fakes.twilio_api import FakeTwilio
from tests.rasa_server import ROOT

LAG_TICK = 0.005
"""The driver's loop-lag probe sleeps this long, again and again (`Driver.lags`)."""

FIRST = {
    "en": ["Hi, I want to buy a house", "Hello, is the 3 bedroom on Palm Ave still available?",
           "Hi! We're looking for a home in Coral Gables, can someone help?",
           "I'd like to sell my condo in Brickell",
           "Looking to rent a 2 bedroom apartment in Doral",
           "Hey, saw your listing on Zillow. What's the HOA on it?"],
    "es": ["Hola, busco casa", "Hola, ¿sigue disponible la casa de 3 recámaras en Palm Ave?",
           "¡Buenas tardes! Queremos comprar una casa en Kendall",
           "Quiero vender mi apartamento en Brickell",
           "Busco alquilar un apartamento de 2 habitaciones en Doral",
           "Vi su anuncio en Zillow, ¿cuánto es el HOA?"],
}
FOLLOW_UPS = {
    "en": [["Doral", "Coral Gables", "Kendall area", "Brickell"],
           ["3 bedrooms", "2 beds", "4 bedrooms please"],
           ["around 450k", "up to 600,000", "$350k max"],
           ["in 2 months", "asap", "by the summer"]],
    "es": [["en Doral", "Coral Gables", "por Kendall", "Brickell"],
           ["3 habitaciones", "2 recámaras", "4 cuartos"],
           ["unos 450 mil", "hasta 600 mil dólares", "máximo 350 mil"],
           ["en 2 meses", "lo antes posible", "para el verano"]],
}


def conversation(n: int, turns: int) -> tuple[str, list[str]]:
    """The n-th lead's language and messages (a first message, then `turns - 1` answers)."""
    lang = "es" if n % 5 in (1, 3) else "en"  # 40 % Spanish
    texts = [FIRST[lang][n % len(FIRST[lang])]]
    texts += [opts[(n // 7 + k) % len(opts)] for k, opts in enumerate(FOLLOW_UPS[lang])]
    return lang, texts[:turns]


def ack_marks() -> tuple[str, ...]:
    """The fixed tail of Pronto's acknowledgement template in each language: an outbound
    ending so is the acknowledgement, not the bot's answer."""
    templates = yaml.safe_load((ROOT / "config" / "templates.yml").read_text())
    return tuple(str(t).split("}")[-1] for t in templates["ack"].values())


@dataclass(eq=False)
class Lead:
    """One prospect: where its texts go (phone or REST sender) and what it says."""

    key: str
    lang: str
    texts: list[str]
    sent: int = 0
    inflight: Msg | None = None
    ready_at: float = 0.0


@dataclass(eq=False)
class Msg:
    """One message offered, and what became of it (seconds after it was posted)."""

    lead: Lead
    posted: float
    status: int | None = None
    """HTTP status of the webhook answer; 0 when none came (timeout, refused)."""
    answer_s: float | None = None
    first_s: float | None = None
    bot_s: float | None = None
    bot_at: float | None = None
    new: bool = False
    """The lead's first message (issue 12's promise: a new lead hears from us within 3 s)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at the bot's answer (the closed-loop senders wait on it)."""


Post = Callable[[Msg, str], Coroutine[Any, Any, None]]


@dataclass
class Driver:
    """Offers messages at `rate` for `seconds` and attributes what the fake Twilio got."""

    rate: float
    seconds: float
    ids: Iterator[int]
    key_of: Callable[[int], str]
    turns: int = 4
    think: float = 1.0
    acks: tuple[str, ...] = field(default_factory=ack_marks)
    leads: dict[str, Lead] = field(default_factory=dict)
    msgs: list[Msg] = field(default_factory=list)
    start: float = 0.0
    senders: int = 0
    """Closed loop when > 0 (`run_closed`): this many leads write at once, each its next
    message as soon as the bot answered the last, through the same `conversations`."""
    conversations: range = range(0)
    """The closed loop's workload: these conversation numbers (`conversation`), the same on
    every path, so each path does the same work; the leads' addresses stay new (`ids`)."""
    patience: float = 30.0
    """Closed loop: seconds a lead waits for an answer before it gives up its conversation."""
    lags: list[float] = field(default_factory=list)
    """How late the driver's own loop woke for a 5 ms timer, seconds, through the step: the
    share of every time it measures that is its own wait (for its loop or a core)."""
    _ready: deque[Lead] = field(default_factory=deque)

    def _lead(self, now: float) -> Lead:
        if self._ready and self._ready[0].ready_at <= now:
            return self._ready.popleft()
        n = next(self.ids)
        lang, texts = conversation(n, self.turns)
        lead = Lead(self.key_of(n), lang, texts)
        self.leads[lead.key] = lead
        return lead

    def answered(self, m: Msg, at: float) -> None:
        """The bot answered `m` at `at`: its lead may write its next message after `think`."""
        if m.bot_at is not None:
            return
        m.bot_at, m.bot_s = at, at - m.posted
        m.done.set()
        if m.first_s is None:
            m.first_s = m.bot_s
        if m.lead.sent < len(m.lead.texts):
            m.lead.ready_at = at + self.think
            self._ready.append(m.lead)

    def _saw(self, to: str, body: str, at: float) -> None:
        lead = self.leads.get(to)
        m = lead.inflight if lead else None
        if m is None or at < m.posted:
            return
        if m.first_s is None:
            m.first_s = at - m.posted
        if not body.endswith(self.acks):
            self.answered(m, at)

    async def _watch(self, twilio: FakeTwilio) -> None:
        seen = 0
        while True:
            sent = twilio.sent
            for s in sent[seen:]:
                self._saw(s.to, s.body, s.at)
            seen = len(sent)
            await asyncio.sleep(0.01)

    async def _probe_lag(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            self.lags.append(max(0.0, time.perf_counter() - asked - LAG_TICK))

    async def run(self, post: Post, twilio: FakeTwilio | None, drain: float) -> None:
        """Offer the messages, then wait up to `drain` s after the last for bot answers (a
        closed-loop driver runs its workload instead: `run_closed`)."""
        if self.senders:
            await self.run_closed(post, twilio)
            return
        probe = asyncio.create_task(self._probe_lag())
        try:
            await self._run_open(post, twilio, drain)
        finally:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)

    async def _run_open(self, post: Post, twilio: FakeTwilio | None, drain: float) -> None:
        watcher = asyncio.create_task(self._watch(twilio)) if twilio else None
        tasks: set[asyncio.Task[None]] = set()
        self.start = time.perf_counter()
        for i in range(max(1, round(self.rate * self.seconds))):
            await asyncio.sleep(max(0.0, self.start + i / self.rate - time.perf_counter()))
            now = time.perf_counter()
            lead = self._lead(now)
            m = Msg(lead, now, new=lead.sent == 0)
            lead.inflight = m
            text = lead.texts[lead.sent]
            lead.sent += 1
            self.msgs.append(m)
            task = asyncio.create_task(post(m, text))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        until = time.perf_counter() + drain
        while time.perf_counter() < until:
            if not tasks and all(m.bot_at is not None for m in self.msgs):
                break
            await asyncio.sleep(0.05)
        for t in [*tasks, *([watcher] if watcher else [])]:
            t.cancel()
        await asyncio.gather(*tasks, *([watcher] if watcher else []), return_exceptions=True)

    async def run_closed(self, post: Post, twilio: FakeTwilio | None) -> None:
        """Throughput at saturation on a fixed workload: `senders` leads at a time, each
        writing its next message `think` s after the bot answered its last, until every
        conversation of `conversations` is done. The bench's open-loop rates make the work
        depend on the path (a slower path meets more new leads, whose turns cost more); this
        is the same turns on every path. `seconds` becomes the time it took, so
        `bot_answers_per_s` is answers over that time."""
        leads = []
        for c in self.conversations:
            lang, texts = conversation(c, self.turns)
            lead = Lead(self.key_of(next(self.ids)), lang, texts)
            self.leads[lead.key] = lead
            leads.append(lead)
        todo = deque(leads)
        watcher = asyncio.create_task(self._watch(twilio)) if twilio else None

        async def sender() -> None:
            while todo:
                lead = todo.popleft()
                for k, text in enumerate(lead.texts):
                    if k:  # as in the open loop, a lead answers a second after the bot (and
                        # a turn's later texts are not taken for its next message's answer)
                        await asyncio.sleep(self.think)
                    m = Msg(lead, time.perf_counter(), new=lead.sent == 0)
                    lead.inflight, lead.sent = m, lead.sent + 1
                    self.msgs.append(m)
                    await post(m, text)  # REST: the answer is in the HTTP answer, done
                    if twilio is not None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(m.done.wait(), self.patience)
                    if m.bot_at is None:
                        break  # no answer: this lead gives up its conversation

        self.start = time.perf_counter()
        try:
            await asyncio.gather(*(sender() for _ in range(self.senders)))
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        last = max((m.bot_at for m in self.msgs if m.bot_at is not None), default=self.start)
        self.seconds = max(last - self.start, 1e-9)


def keys(prefix: str) -> Callable[[int], str]:
    """REST sender ids: "<prefix>-<n>"."""
    return lambda n: f"{prefix}-{n}"


def counter(start: int = 0) -> Iterator[int]:
    """Lead numbers, never reused within a run (every step meets new leads)."""
    return itertools.count(start)


# -- figures -----------------------------------------------------------------------------------


def _p(values: list[float], p: float, scale: float = 1.0) -> float | None:
    """Nearest-rank percentile; None when it falls on a message that got no answer."""
    v = pct(values, p) if values else math.inf
    return None if math.isinf(v) else round(v * scale, 3 if scale == 1 else 1)


def figures(d: Driver) -> dict[str, Any]:
    """One step's measured figures (a message without answer counts as infinitely late)."""
    inf = math.inf
    answers = [m.answer_s for m in d.msgs if m.answer_s is not None]
    first = [m.first_s if m.first_s is not None else inf for m in d.msgs]
    bot = [m.bot_s if m.bot_s is not None else inf for m in d.msgs]
    new = [m.first_s if m.first_s is not None else inf for m in d.msgs if m.new]
    window = d.start + d.seconds
    in_window = sum(1 for m in d.msgs if m.bot_at is not None and m.bot_at <= window)
    statuses = Counter(m.status for m in d.msgs)
    names = {None: "no answer by the end", 0: "timeout or refused"}
    errors = {names.get(k, str(k)): v for k, v in statuses.items() if not 200 <= (k or 0) < 300}
    return {
        "offered": len(d.msgs), "leads": len(d.leads),
        "webhook_p50_ms": _p(answers, 50, 1000), "webhook_p99_ms": _p(answers, 99, 1000),
        "webhook_max_ms": round(max(answers) * 1000, 1) if answers else None,
        "first_out_p50_s": _p(first, 50), "first_out_p99_s": _p(first, 99),
        "new_first_p50_s": _p(new, 50), "new_first_p99_s": _p(new, 99),
        "new_first_max_s": _p(new, 100),
        "bot_p50_s": _p(bot, 50), "bot_p99_s": _p(bot, 99),
        "bot_answers_per_s": round(in_window / d.seconds, 2),
        "answered": sum(1 for m in d.msgs if m.bot_at is not None),
        "errors": sum(errors.values()), "error_statuses": errors,
        "driver_lag_p99_ms": _p(d.lags, 99, 1000) if d.lags else None,
    }


def cell(v: Any) -> str:
    """A table cell: None is a percentile that fell on an unanswered message."""
    return "n/a" if v is None else str(v)
