"""A lead's attachments, after the message is stored: fetched by the worker, best effort.

The pipeline records one "pending" entry per attachment when it stores the message
(`pending_media`), so the dashboard and the agent's relay know at once that something came.
After the bot's turn (never in the webhook's answer, never before the bot), `fetch_media`
fetches each one through the safe fetcher (`gateway.infra.media`), keeps the file under
var/media named by its SHA-256, and records what became of it on `messages.media`. A refusal or
a failure is recorded and logged with the message id; it never fails the event, so the bot's
turn and the message stand whatever the media does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

from gateway.config.templates import Templates
from gateway.infra.media import Fetched, MediaFetcher, MediaRefused
from gateway.messages import Inbound
from gateway.services import Services
from gateway.store.leads import audit, find_message
from gateway.store.models import Lead, Message

log = logging.getLogger(__name__)
FETCHER = "media_fetcher"
"""Key of the fetcher in `Services.extras` (built from the settings on first use; tests put
one there that trusts their CA and routes provider names to a local fake)."""
MAX_ATTACHMENTS = 10  # Twilio's own limit per message
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def pending_media(inbound: Inbound) -> list[dict[str, Any]] | None:
    """The record a lead's message is stored with: one pending entry per attachment."""
    if not inbound.media:
        return None
    return [_entry("pending") for _ in inbound.media[:MAX_ATTACHMENTS]]


def with_attachments(templates: Templates, language: str, text: str,
                     media: list[dict[str, Any]] | None) -> str:
    """A lead's text as relayed to the agent, with how many attachments came with it (the
    agent opens them on the lead's page; a relay carries no files)."""
    if not media:
        return text
    note = (templates.render("agent_relay_media", language, count=len(media))
            if templates.has("agent_relay_media") else f"[{len(media)} attachment(s)]")
    return f"{text} {note}".strip()


def fetcher(services: Services) -> MediaFetcher:
    """The process's media fetcher, built from the settings once."""
    existing = services.extras.get(FETCHER)
    if isinstance(existing, MediaFetcher):
        return existing
    s = services.settings
    made = MediaFetcher(
        hosts=s.media_hosts, max_bytes=s.media_max_bytes, timeout=s.media_timeout_seconds,
        credentials=((s.twilio_account_sid, s.twilio_auth_token.get_secret_value())
                     if s.twilio_enabled else None))
    services.extras[FETCHER] = made
    return made


async def fetch_media(services: Services, inbound: Inbound) -> None:
    """Fetch and record the pending attachments of the lead's message `inbound` (a no-op for a
    message without any, one from an agent, or one already fetched: a redelivery)."""
    if not inbound.media:
        return
    async with services.store.maker() as session:
        msg = await find_message(session, inbound.channel, inbound.provider_id)
        lead = await session.get(Lead, msg.lead_id) if msg and msg.lead_id else None
    if msg is None or lead is None or lead.erased_at is not None or msg.author != "lead":
        return
    entries = list(msg.media or [])
    todo = [i for i, e in enumerate(entries) if e.get("status") == "pending"]
    if not todo:
        return
    if services.settings.media_fetch:
        get = fetcher(services)
        done = await asyncio.gather(*(_one(services, get, inbound.media[i], msg.id, i)
                                      for i in todo))
    else:
        done = [_entry("refused:disabled") for _ in todo]
    for i, entry in zip(todo, done, strict=True):
        entries[i] = entry
    async with services.store.transaction() as session:
        row = await session.get(Message, msg.id)
        if row is None:
            return
        row.media = entries  # a new list: the JSON column is written
        stored = sum(1 for e in entries if e["status"] == "stored")
        audit(session, "message.media", lead_id=lead.id, message_id=msg.id,
              stored=stored, refused=len(entries) - stored)


async def _one(services: Services, get: MediaFetcher, url: str, message_id: int, index: int
               ) -> dict[str, Any]:
    """Fetch and keep one attachment; a refusal becomes its record, never an exception."""
    try:
        got = await get.fetch(url)
        await asyncio.to_thread(keep, services.settings.media_dir, got)
    except MediaRefused as exc:
        # The reason and its detail name a rule or an address class, never the URL.
        log.info("media %d of message %s refused: %s %s", index, message_id, exc.reason,
                 exc.detail)
        return _entry(f"refused:{exc.reason}")
    except OSError as exc:
        log.warning("media %d of message %s not stored: %s", index, message_id,
                    type(exc).__name__)
        return _entry("refused:storage")
    except Exception as exc:  # best effort: nothing here may fail the lead's event
        # Only the type: an exception's text may hold the URL, and so the account SID.
        log.warning("media %d of message %s failed: %s", index, message_id, type(exc).__name__)
        return _entry("refused:error")
    log.info("media %d of message %s stored (%s, %d bytes)", index, message_id,
             got.content_type, len(got.body))
    return {"content_type": got.content_type, "bytes": len(got.body), "sha256": got.sha256,
            "status": "stored"}


def keep(directory: Path, got: Fetched) -> Path:
    """Write `got` under `directory` as its SHA-256 (once: the same file sent twice is one)."""
    path = media_path(directory, got.sha256)
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f".{got.sha256}.{secrets.token_hex(4)}.tmp"
    tmp.write_bytes(got.body)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return path


def media_path(directory: Path, sha256: str) -> Path:
    """The file of a stored attachment; refuses anything but a SHA-256 (no path tricks)."""
    if not SHA256.match(sha256):
        raise ValueError("not a sha256")
    return directory / sha256


def _entry(status: str) -> dict[str, Any]:
    return {"content_type": None, "bytes": None, "sha256": None, "status": status}
