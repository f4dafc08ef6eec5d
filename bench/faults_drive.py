"""The sender and the accountant of `bench/faults.py`.

`Sender` posts signed Twilio webhooks and, like Twilio, retries a message until the gateway
accepts it (any 2xx); only accepted messages are owed a reply. `Ledger` reads what reached the
fake Twilio API and counts, per lead, replies lost, replies sent twice and replies out of order.
`Result` prints one scenario's markdown table and JSON line.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.conftest import ACCOUNT_SID, FROM_NUMBER, sign
from tests.fakes.twilio_api import FakeTwilio

TAG = re.compile(r"ref (\S+)$")


def phone(i: int) -> str:
    """The i-th lead's number (one distinct phone per lead, so replies map back to it); not
    in 305-555-01xx, where config/agents.yml keeps the agents' phones."""
    return f"+1786{5550000 + i:07d}"


def text(tag: str) -> str:
    return f"Hello, I would like to buy a home, ref {tag}"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


@dataclass
class Sender:
    """Posts inbound webhooks the way Twilio does, retrying 5xx and refused connections."""

    http: aiohttp.ClientSession
    public_url: str
    accepted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    accepted_at: dict[str, float] = field(default_factory=dict)
    status_counts: Counter[int] = field(default_factory=Counter)
    conn_errors: int = 0
    retried: int = 0
    gave_up: int = 0
    first_refused: float | None = None
    last_refused: float | None = None

    async def post(self, to_phone: str, tag: str, give_up_after: float = 120.0) -> bool:
        """Deliver one message; True once the gateway answered 2xx."""
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                  "From": to_phone, "To": FROM_NUMBER, "Body": text(tag), "NumMedia": "0"}
        url = f"{self.public_url}/webhooks/twilio"
        headers = {"X-Twilio-Signature": sign(url, params)}
        deadline = time.monotonic() + give_up_after
        delay = 0.2
        while True:
            status = 0
            try:
                async with self.http.post(url, data=params, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=15)) as r:
                    await r.read()
                    status = r.status
                    self.status_counts[status] += 1
            except (aiohttp.ClientError, OSError, TimeoutError):
                self.conn_errors += 1
            if 200 <= status < 300:
                self.accepted[to_phone].append(tag)
                self.accepted_at[tag] = time.perf_counter()
                return True
            now = time.perf_counter()
            self.first_refused = self.first_refused or now
            self.last_refused = now
            if time.monotonic() > deadline:
                self.gave_up += 1
                return False
            self.retried += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def run(self, items: list[tuple[str, str]], *, concurrency: int = 16,
                  rate: float | None = None) -> None:
        """Post (phone, tag) items; a lead's messages go out one after another, in order."""
        per_lead: dict[str, list[str]] = defaultdict(list)
        for p, t in items:
            per_lead[p].append(t)
        sem = asyncio.Semaphore(concurrency)
        start = time.perf_counter()

        async def lead(i: int, p: str, tags: list[str]) -> None:
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            for t in tags:
                async with sem:
                    await self.post(p, t)

        await asyncio.gather(*(lead(i, p, ts) for i, (p, ts) in enumerate(per_lead.items())))


@dataclass
class Ledger:
    """What the fake Twilio received, judged against what the gateway accepted."""

    twilio: FakeTwilio
    expected: dict[str, list[str]]

    def acks(self) -> dict[str, list[float]]:
        """Arrival times (perf_counter) of the acknowledgement template, per phone."""
        out: dict[str, list[float]] = defaultdict(list)
        for s in list(self.twilio.sent):
            if "reply in a moment" in s.body or "respondemos en un momento" in s.body:
                out[s.to].append(s.at)
        return out

    def replies(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for s in list(self.twilio.sent):
            if s.body.startswith("re:") and (m := TAG.search(s.body)):
                out[s.to].append(m.group(1))
        return out

    def others(self) -> Counter[str]:
        """Non-bot sends per kind (the acknowledgement template, anything else)."""
        c: Counter[str] = Counter()
        for s in list(self.twilio.sent):
            if not s.body.startswith("re:"):
                c["ack" if "reply in a moment" in s.body or "respondemos en un momento"
                  in s.body else s.body[:40]] += 1
        return c

    def missing(self) -> int:
        got = self.replies()
        return sum(len(set(tags) - set(got.get(p, []))) for p, tags in self.expected.items())

    def judge(self) -> dict[str, Any]:
        """Lost, duplicated and out-of-order replies, with a few examples of each."""
        got = self.replies()
        lost, dupes, order = [], [], []
        for p, tags in self.expected.items():
            seq = got.get(p, [])
            counts = Counter(seq)
            lost += [t for t in tags if counts[t] == 0]
            dupes += [t for t, n in counts.items() if n > 1]
            firsts = list(dict.fromkeys(seq))
            idx = [tags.index(t) for t in firsts if t in tags]
            if idx != sorted(idx):
                order.append(p)
        extra = sum(len(v) for p, v in got.items() if p not in self.expected)
        return {"lost": len(lost), "duplicated": len(dupes), "leads_out_of_order": len(order),
                "unexpected": extra, "examples": {"lost": lost[:5], "duplicated": dupes[:5],
                                                  "out_of_order": order[:5]}}

    async def settle(self, database_url: str, redis_url: str, timeout: float,
                     quiet: float = 2.0, stalled: float = 20.0) -> float:
        """Wait until every accepted message has its reply and nothing is owed, then `quiet`
        seconds more for late duplicates; returns the seconds waited.

        Owed: an outbound row a process still must send (a dead worker's send goes out after
        the outbox lease), a queue entry, or a pending bot retry. When replies are missing but
        nothing has been owed and nothing sent for `stalled` seconds, the missing ones are
        lost: waiting longer would only make the run slower.
        """
        from bench.faults_stack import owed

        t0 = time.perf_counter()
        deadline = t0 + timeout
        seen, changed = -1, t0
        while time.perf_counter() < deadline:
            busy = await owed(database_url, redis_url)
            if self.missing() == 0 and not busy:
                break
            now = time.perf_counter()
            if busy or len(self.twilio.sent) != seen:
                seen, changed = len(self.twilio.sent), now
            elif now - changed > stalled:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(quiet)
        return time.perf_counter() - t0


@dataclass
class Result:
    """One scenario's measured figures and verdict."""

    scenario: str
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None

    def check(self, ok: bool, failure: str) -> None:
        if not ok:
            self.failures.append(failure)

    @property
    def ok(self) -> bool:
        return not self.failures

    def print(self) -> None:
        print(f"\n### {self.scenario}\n")
        if self.skipped:
            print(f"skipped: {self.skipped}")
        else:
            print("| figure | value |\n| --- | --- |")
            for k, v in self.figures.items():
                if isinstance(v, float):
                    v = f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
                print(f"| {k} | {v} |")
            print(f"\nverdict: {'PASS' if self.ok else 'FAIL: ' + '; '.join(self.failures)}")
        line = {"scenario": self.scenario, "ok": self.ok, "skipped": self.skipped,
                **self.figures, "failures": self.failures}
        print(json.dumps(line, default=str), flush=True)
