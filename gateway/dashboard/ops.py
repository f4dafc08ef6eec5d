"""NLU health (`/admin/nlu`) and delivery (`/admin/delivery`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from gateway.dashboard.web import maker, now, render
from gateway.store.models import Message

NLU_DAYS = 30


def nlu_yaml(examples: Iterable[tuple[str, str]]) -> str:
    """(intent, text) pairs as a Rasa `nlu:` file, ready to review and paste into nlu_data/.

    Each text is one `- ` line of a block scalar, so quotes, colons and accents need no
    escaping; line breaks inside a message become spaces.
    """
    by_intent: dict[str, list[str]] = {}
    for intent, text in examples:
        line = " ".join(text.split())
        if line and line not in by_intent.setdefault(intent, []):
            by_intent[intent].append(line)
    out = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        out += [f"- intent: {intent}", "  examples: |"]
        out += [f"    - {t}" for t in by_intent[intent]]
    return "\n".join(out) + "\n"


async def nlu(request: web.Request) -> web.Response:
    """Messages below the confidence threshold, re-asks and message-ceiling give-ups, grouped
    by language and intent, with a copy-as-YAML block per language."""
    since = now(request) - timedelta(days=NLU_DAYS)
    async with maker(request)() as session:
        rows = list((await session.execute(
            select(Message).where(Message.low_confidence.is_(True), Message.created_at >= since)
            .order_by(Message.id.desc()).limit(1000))).scalars())
    groups: dict[tuple[str, str], list[Message]] = {}
    for m in rows:
        groups.setdefault((m.language or "en", m.intent or "unknown"), []).append(m)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    yamls = [(lang, nlu_yaml((m.intent or "unknown", m.text) for m in rows
                             if (m.language or "en") == lang and m.intent != "ceiling"))
             for lang in sorted({k[0] for k in groups})]
    return render(request, "nlu.html", {"groups": ordered, "yamls": yamls}, active="nlu")


async def delivery(request: web.Request) -> web.Response:
    """The outbox (dry-run sends included), failures by error code, SMS segments by language."""
    async with maker(request)() as session:
        outbox = list((await session.execute(
            select(Message).where(Message.direction == "out").order_by(Message.id.desc())
            .limit(100))).scalars())
        failures = (await session.execute(
            select(Message.error_code, func.count()).where(
                Message.direction == "out", Message.status.in_(("failed", "undelivered")))
            .group_by(Message.error_code).order_by(func.count().desc()))).all()
        segments = (await session.execute(
            select(Message.language, Message.encoding, func.count(),
                   func.coalesce(func.sum(Message.segments), 0))
            .where(Message.direction == "out", Message.channel == "sms",
                   Message.status.notin_(("failed", "undelivered", "held", "queued")))
            .group_by(Message.language, Message.encoding)
            .order_by(Message.language, Message.encoding))).all()
    return render(request, "delivery.html", {
        "outbox": outbox, "failures": [tuple(r) for r in failures],
        "segments": [tuple(r) for r in segments],
    }, active="delivery")
