"""Follow Up Boss: leads through the Events API, each later step as a note on the person.

- `lead.created` and `lead.qualified` are `POST /v1/events` (the only way FUB wants leads sent:
  its lead flow assigns the agent and starts action plans), with `source`, `system`, `type`
  ("Registration", "Seller Inquiry", "Property Inquiry" or "General Inquiry"), `message`,
  `person` and `property`. The answer is the person; its id is kept (`external_ref`) so later
  events name the same person (`person.id`) and notes can be attached.
- Every other step is `POST /v1/notes` `{personId, subject, body}`; the qualification note
  carries the summary and the transcript link.

Auth is HTTP Basic with the API key as username and an empty password, plus `X-System` /
`X-System-Key`. The base URL is the endpoint's `url` (default `https://api.followupboss.com`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp

from gateway.config.crm import Endpoint
from gateway.crm.base import DeliveryFailed, Outgoing, http_failure
from gateway.crm.notes import note_body, note_subject, split_name, summary

_EVENTS = ("lead.created", "lead.qualified")


def event_type(lead: dict[str, Any]) -> str:
    """FUB's event type for a lead: what its action plans and automations key on."""
    q = lead.get("qualification") or {}
    if q.get("intent") == "sell":
        return "Seller Inquiry"
    if lead.get("listing"):
        return "Property Inquiry"
    if lead.get("source") in ("website", "form", "idx"):
        return "Registration"
    return "General Inquiry"


def person(lead: dict[str, Any], ref: str | None) -> dict[str, Any]:
    """FUB's `person` object for a lead (with its id once FUB gave us one)."""
    first, last = split_name(lead.get("name"))
    out: dict[str, Any] = {"tags": ["Pronto", f"Language {str(lead.get('language')).upper()}"]}
    if ref and ref.isascii() and ref.isdigit():
        out["id"] = int(ref)
    if first:
        out["firstName"] = first
    if last:
        out["lastName"] = last
    if lead.get("email"):
        out["emails"] = [{"value": lead["email"]}]
    if lead.get("phone"):
        out["phones"] = [{"value": lead["phone"]}]
    return out


def property_(listing: dict[str, Any] | None) -> dict[str, Any] | None:
    """FUB's `property` object from the lead's listing (None without one)."""
    if not listing:
        return None
    fields = {
        "street": listing.get("street") or listing.get("address"),
        "city": listing.get("city"), "state": listing.get("state"),
        "code": listing.get("zip") or listing.get("code"),
        "mlsNumber": listing.get("mls_id") or listing.get("mls"),
        "price": listing.get("price"), "url": listing.get("url"),
    }
    return {k: v for k, v in fields.items() if v not in (None, "")} or None


class FubSender:
    """Delivers events to Follow Up Boss."""

    def __init__(self, endpoint: Endpoint, http: aiohttp.ClientSession, *, timeout: float
                 ) -> None:
        """Create the sender for one FUB account (the endpoint's API key)."""
        self.endpoint, self.http = endpoint, http
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        key = endpoint.secret.get_secret_value()
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            "X-System": endpoint.config.system,
            "Content-Type": "application/json",
        }
        if endpoint.system_key.get_secret_value():
            self.headers["X-System-Key"] = endpoint.system_key.get_secret_value()

    async def deliver(self, item: Outgoing) -> str | None:
        """Send the event (and its note); returns FUB's person id when it named one."""
        lead = item.envelope.get("lead")
        if not lead:
            return None  # erased or never known: nothing to tell FUB about
        ref = item.external_ref
        note = note_body(item.envelope)
        if item.event not in _EVENTS and note is None:
            return None  # nothing worth a note (a message without its text)
        if item.event in _EVENTS or ref is None:
            # Only an event creates or updates the person (and tells us its id).
            ref = await self._event(item, lead, ref) or ref
        numeric = ref is not None and ref.isascii() and ref.isdigit()
        if item.event != "lead.created" and ref is not None and numeric and note is not None:
            await self._post("/v1/notes", {"personId": int(ref),
                                           "subject": note_subject(item.envelope),
                                           "body": note})
        return ref

    async def _event(self, item: Outgoing, lead: dict[str, Any], ref: str | None) -> str | None:
        body: dict[str, Any] = {
            "source": self.endpoint.config.source or lead.get("source") or "Pronto",
            "system": self.endpoint.config.system,
            "type": event_type(lead),
            "message": summary(lead),
            "person": person(lead, ref),
        }
        if item.envelope.get("occurred_at"):
            body["occurredAt"] = item.envelope["occurred_at"]
        prop = property_(lead.get("listing"))
        if prop:
            body["property"] = prop
        answer = await self._post("/v1/events", body)
        found = answer.get("id") if isinstance(answer, dict) else None
        return str(found) if found is not None else None

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        url = self.endpoint.url + path
        try:
            async with self.http.post(url, data=json.dumps(body), headers=self.headers,
                                      timeout=self.timeout, allow_redirects=False) as resp:
                raw = await resp.read()
                if resp.status == 204:
                    return None  # FUB: the source's lead flow is archived; nothing to add
                if not 200 <= resp.status < 300:
                    raise http_failure(resp.status, resp.headers.get("Retry-After"))
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(type(exc).__name__, retryable=True) from None
