"""`pronto simulate`: chat as a prospect from the terminal through the real pipeline.

Each line you type is sent to the running gateway as a Twilio webhook signed with the
configured auth token, exactly as Twilio would send it; replies are read back from the
gateway's outbox (the dry-run outbox when no Twilio account is configured).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.config.settings import Settings


async def simulate(
    settings: Settings, phone: str, channel: str, url: str | None, wait: float
) -> int:
    """Run the interactive (or piped) simulation; returns an exit status."""
    base = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    sender = f"whatsapp:{phone}" if channel == "whatsapp" else phone
    to = settings.twilio_whatsapp_from if channel == "whatsapp" else settings.twilio_from_number
    interactive = sys.stdin.isatty()
    async with aiohttp.ClientSession(headers=headers) as http:
        last_id = await _last_message_id(http, base, phone)
        lead_id: int | None = None
        if interactive:
            print(f"Chatting as {phone} over {channel} with {base} (Ctrl-D to end).")
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if not text.strip():
                continue
            if not interactive:
                print(f"you> {text}")
            params = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
                "From": sender,
                "To": to or "+13055550100",
                "Body": text,
                "NumMedia": "0",
            }
            signature = validator.compute_signature(
                f"{settings.public_url}/webhooks/twilio", params
            )
            async with http.post(
                f"{base}/webhooks/twilio", data=params,
                headers={"X-Twilio-Signature": signature},
            ) as resp:
                if resp.status != 200:
                    print(f"gateway answered {resp.status}: {await resp.text()}", file=sys.stderr)
                    return 1
            last_id, lead_id = await _print_replies(http, base, phone, last_id, wait, lead_id)
        if lead_id is not None:
            await _print_summary(http, base, lead_id)
    return 0


async def _last_message_id(http: aiohttp.ClientSession, base: str, phone: str) -> int:
    msgs = await _messages(http, base, phone, 0)
    return max((m["id"] for m in msgs), default=0)


async def _messages(
    http: aiohttp.ClientSession, base: str, phone: str, after: int
) -> list[dict[str, Any]]:
    async with http.get(
        f"{base}/admin/api/messages", params={"address": phone, "after_id": str(after)}
    ) as resp:
        resp.raise_for_status()
        data: list[dict[str, Any]] = await resp.json()
        return data


async def _print_replies(
    http: aiohttp.ClientSession, base: str, phone: str, after: int, wait: float,
    lead_id: int | None,
) -> tuple[int, int | None]:
    """Print replies until the bot has been quiet for a moment after answering."""
    deadline = asyncio.get_running_loop().time() + wait
    got_reply = False
    quiet_since = None
    while asyncio.get_running_loop().time() < deadline:
        msgs = await _messages(http, base, phone, after)
        for m in msgs:
            after = max(after, m["id"])
            lead_id = m["lead_id"] or lead_id
            if m["direction"] == "out":
                got_reply = True
                print(f"{m['author']}> {m['text']}")
        now = asyncio.get_running_loop().time()
        if msgs:
            quiet_since = now
        elif got_reply and quiet_since is not None and now - quiet_since > 0.8:
            break
        await asyncio.sleep(0.2)
    if not got_reply:
        print("(no reply yet; the bot may be starting — it will answer when ready)")
    return after, lead_id


async def _print_summary(http: aiohttp.ClientSession, base: str, lead_id: int) -> None:
    async with http.get(f"{base}/admin/api/leads/{lead_id}") as resp:
        if resp.status != 200:
            return
        bundle = await resp.json()
    lead = bundle["lead"]
    print(f"\n-- lead {lead_id}: language {lead['language']}, score {lead['score']}")
    if lead["qualification"]:
        print(f"-- qualification: {lead['qualification']}")
    for a in bundle["assignments"]:
        print(f"-- assignment: {a['agent']} ({a['status']}, rule {a['rule']})")
    for e in bundle["audit"]:
        if e["type"].startswith(("handoff", "assignment", "escalation")):
            print(f"-- {e['at'][11:19]} {e['type']} {e['data']}")
