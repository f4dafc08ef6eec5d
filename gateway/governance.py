"""Data governance as a service: find a lead by id, phone or email; export, erase, unmerge.

A thin layer over `gateway.store.governance` and `gateway.store.erasure`: it parses what a
person typed, opens the transaction, and cleans what SQL cannot (a web chat session's Redis
history). The CLI (`gateway.governance_cli`) and the admin API (`gateway.governance_admin`)
both call it, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import String, cast, func, select

from gateway.domain.phones import to_e164
from gateway.errors import ProntoError
from gateway.media_intake import media_path
from gateway.messages import utcnow
from gateway.store.erasure import Erased, erase_lead
from gateway.store.governance import Unmerged, UnmergeRefused, export_lead, find_lead
from gateway.store.governance import unmerge_identity as _unmerge
from gateway.store.leads import Store
from gateway.store.models import Message

log = logging.getLogger(__name__)
IDENTITY_KINDS = ("phone", "email", "telegram", "webchat")
MAX_ID_DIGITS = 6
"""A bare number this short is a lead id; a longer one is a phone ("3055550123")."""
NOT_REACHABLE = (
    "Rasa's tracker store (sender = the lead id) keeps the bot conversation: with the shipped"
    " in-memory store it is gone at Rasa's next restart; with a Redis or SQL tracker store,"
    " delete that sender there. A voicemail recording stays in the Twilio account until"
    " deleted there."
)
_SAFE_SID = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


class LeadNotFound(ProntoError):
    """No lead matches the id, phone or email given."""


class GovernanceRefused(ProntoError):
    """The request cannot be carried out as asked (a malformed key, a refused unmerge)."""


def parse_key(key: str) -> tuple[str, str | int]:
    """What a person typed to name a lead: ("id", 42), ("phone", E.164) or ("email", lower).

    Accepts "42", "id:42", "+1 305 555 0123", "phone:3055550123", "a@b.com", "email:A@B.com".

    Raises:
        GovernanceRefused: nothing recognisable.
    """
    text = key.strip()
    kind, _, rest = text.partition(":")
    if kind.lower() in ("id", "phone", "email") and rest:
        kind, text = kind.lower(), rest.strip()
    elif "@" in text:
        kind = "email"
    elif text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        kind = "id"
    else:
        kind = "phone"
    if kind == "id":
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise GovernanceRefused("a lead id is a number")
        return "id", int(text)
    if kind == "email":
        if "@" not in text:
            raise GovernanceRefused("not an email address")
        return "email", text.lower()
    phone = to_e164(text)
    if phone is None:
        raise GovernanceRefused("not a lead id, phone number or email address")
    return "phone", phone


def parse_identity(spec: str) -> tuple[str, str]:
    """"kind:address" → (kind, normalised address), e.g. "phone:+13055550123".

    Raises:
        GovernanceRefused: an unknown kind or an empty / invalid address.
    """
    kind, _, address = spec.partition(":")
    kind, address = kind.strip().lower(), address.strip()
    if kind not in IDENTITY_KINDS or not address:
        raise GovernanceRefused(f"identity must be KIND:ADDRESS, KIND one of "
                                f"{', '.join(IDENTITY_KINDS)}")
    if kind == "phone":
        phone = to_e164(address)
        if phone is None:
            raise GovernanceRefused("not a phone number")
        return kind, phone
    return kind, address.lower() if kind == "email" else address


class Governance:
    """Export, erase and unmerge leads through one store.

    Args:
        store: The SQL store.
        redis: When given, a web chat's Redis history is removed with the lead.
        clock: The time source.
    """

    def __init__(self, store: Store, redis: Redis | None = None,
                 clock: Callable[[], datetime] = utcnow, media_dir: Path | None = None) -> None:
        self.store, self.redis, self.clock = store, redis, clock
        self.media_dir = media_dir

    async def lead_id(self, key: str | int) -> int:
        """The id of the lead named by `key` (see `parse_key`); raises `LeadNotFound`."""
        kind, value = ("id", key) if isinstance(key, int) else parse_key(key)
        async with self.store.maker() as session:
            lead = await find_lead(session, kind, value)
        if lead is None:
            raise LeadNotFound(f"no lead with that {kind}")
        return lead.id

    async def export(self, key: str | int, *, how: str, by: str | None = None
                     ) -> dict[str, Any]:
        """Everything held about the lead (JSON-able), audited `lead.exported`."""
        lead_id = await self.lead_id(key)
        async with self.store.transaction() as session:
            data = await export_lead(session, lead_id, how=how, by=by, at=self.clock())
        if data is None:
            raise LeadNotFound("no lead with that id")
        log.info("lead %s exported (%s)", lead_id, how)
        return data

    async def erase(self, key: str | int, *, by: str) -> Erased:
        """Erase the lead's personal data (SQL, then its web chat history in Redis)."""
        lead_id = await self.lead_id(key)
        async with self.store.transaction() as session:
            result = await erase_lead(session, lead_id, by=by, at=self.clock())
        if result is None:
            raise LeadNotFound("no lead with that id")
        sessions = [a for k, a in result.identities if k == "webchat"]
        if sessions and self.redis is not None:
            result.counts["webchat_histories"] = await forget_webchat(self.redis, sessions)
        if result.media and self.media_dir is not None:
            result.counts["media_files"] = await self._delete_media(result.media)
        log.info("lead %s erased by %s", lead_id, by)
        return result

    async def _delete_media(self, hashes: list[str]) -> int:
        """Delete the erased lead's attachment files that no other message still names (the
        same photo sent by two leads is one file)."""
        assert self.media_dir is not None
        gone = 0
        async with self.store.maker() as session:
            for sha in hashes:
                shared = await session.scalar(select(func.count()).select_from(Message).where(
                    cast(Message.media, String).contains(sha)))
                if shared:
                    continue
                try:
                    path = media_path(self.media_dir, sha)
                    await asyncio.to_thread(path.unlink, missing_ok=True)
                    gone += 1
                except (ValueError, OSError) as exc:
                    log.warning("attachment file of an erased lead not deleted: %s",
                                type(exc).__name__)
        return gone

    async def unmerge(self, lead_id: int, identity: str, *, by: str | None = None) -> Unmerged:
        """Move `identity` ("kind:address") and its messages from the lead to a new lead."""
        kind, address = parse_identity(identity)
        async with self.store.transaction() as session:
            if await find_lead(session, "id", lead_id) is None:
                raise LeadNotFound("no lead with that id")
            try:
                done = await _unmerge(session, lead_id, kind, address, by=by, at=self.clock())
            except UnmergeRefused as exc:
                raise GovernanceRefused(str(exc)) from None
        log.info("lead %s unmerged into lead %s", lead_id, done.new_lead_id)
        return done


async def forget_webchat(redis: Redis, sessions: list[str]) -> int:
    """Delete web chat sessions' Redis state (history, meta, rate, dedupe marks).

    The key names are those of `gateway.channels.webchat_store`; the history would otherwise
    live until its 30-day expiry. Returns how many sessions had a history.
    """
    found = 0
    for sid in sessions:
        if not _SAFE_SID.match(sid):  # never a pattern that could match other sessions
            continue
        keys = [f"pronto:webchat:{part}:{sid}" for part in ("log", "meta", "rate")]
        keys += [k async for k in redis.scan_iter(match=f"pronto:webchat:cid:{sid}:*")]
        found += int(bool(await redis.exists(keys[0])))
        await redis.delete(*keys)
    return found


def erase_summary(result: Erased) -> list[str]:
    """Lines telling a person what an erasure removed and what it could not reach."""
    head = (f"lead {result.lead_id} erased" if result.first
            else f"lead {result.lead_id} was already erased; removed what came since")
    lines = [head]
    lines += [f"  {name.replace('_', ' ')}: {n}" for name, n in result.counts.items() if n]
    lines.append("kept: the lead row (tombstone), consent ledger entries (kind, channel, time,"
                 " wording), audit event types and times, a lead.erased event with counts")
    for endpoint, ref in result.crm_refs:
        lines.append(f"also erase in CRM {endpoint}: person {ref}")
    if any(k == "webchat" for k, _ in result.identities) and (
            "webchat_histories" not in result.counts):
        lines.append("web chat history in Redis not removed here (no Redis connection): it"
                     " expires within 30 days, or erase through the admin API")
    lines.append("not reachable from here: " + NOT_REACHABLE)
    return lines
