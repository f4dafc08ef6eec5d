"""A lead's stored attachment (`/admin/leads/{id}/media/{message}/{index}`), for the admin or
the agent's signed link to that lead, served so a browser can never run it.

The file is what a prospect sent, so it is untrusted content on the dashboard's origin: it
goes out with the content type recorded when it was fetched (an allowlisted media type),
`X-Content-Type-Options: nosniff` so the browser never guesses another, a sandboxing
Content-Security-Policy, and as a download unless it is an image, audio or video.
"""

from __future__ import annotations

import logging

from aiohttp import web

from gateway.dashboard.auth import guard
from gateway.dashboard.links import verify_request
from gateway.dashboard.web import int_param, maker
from gateway.domain.media_policy import ALLOWED_TYPES
from gateway.keys import SETTINGS
from gateway.media_intake import media_path
from gateway.store.models import Message

log = logging.getLogger(__name__)
INLINE = ("image/", "audio/", "video/")


async def attachment(request: web.Request) -> web.StreamResponse:
    """One stored attachment of one of the lead's messages; 404 for anything else."""
    raw = request.match_info["id"]
    if "s" in request.query and len(raw) <= 18 and verify_request(request, int(raw)):
        return await _serve(request)
    return await _admin(request)


@guard
async def _admin(request: web.Request) -> web.StreamResponse:
    return await _serve(request)


async def _serve(request: web.Request) -> web.StreamResponse:
    lead_id = int_param(request.match_info["id"], "lead id")
    message_id = int_param(request.match_info["message"], "message id")
    index = int_param(request.match_info["index"], "attachment")
    async with maker(request)() as session:
        msg = await session.get(Message, message_id)
    media = (msg.media or []) if msg is not None and msg.lead_id == lead_id else []
    entry = media[index] if 0 <= index < len(media) else {}
    content_type = str(entry.get("content_type") or "")
    if entry.get("status") != "stored" or content_type not in ALLOWED_TYPES:
        raise web.HTTPNotFound(text="no such attachment")
    try:
        path = media_path(request.app[SETTINGS].media_dir, str(entry.get("sha256") or ""))
    except ValueError:
        raise web.HTTPNotFound(text="no such attachment") from None
    if not path.is_file():
        raise web.HTTPNotFound(text="attachment file missing")
    disposition = "inline" if content_type.startswith(INLINE) else "attachment"
    log.info("attachment %d of message %s served for lead %s", index, message_id, lead_id)
    return web.FileResponse(path, headers={
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": f'{disposition}; filename="attachment-{message_id}-{index}"',
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    })
