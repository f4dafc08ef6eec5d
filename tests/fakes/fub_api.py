"""A local fake of Follow Up Boss's API (`/v1/events`, `/v1/notes`), checked at the wire.

Every request is recorded with its method, path, headers and JSON body. Requests without the
expected HTTP Basic credentials (API key as username, empty password) get 401, as FUB answers.
`POST /v1/events` finds or creates a person (by id, else by email or phone, as FUB dedupes)
and answers with the person; `POST /v1/notes` needs an existing `personId`.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FubRequest:
    """One request as FUB would receive it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeFub:
    """Fake FUB API on 127.0.0.1, port 0."""

    api_key: str
    requests: list[FubRequest] = field(default_factory=list)
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    _runner: web.AppRunner | None = None

    def _authorised(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
        return request.headers.get("Authorization") == expected

    async def _record(self, request: web.Request) -> FubRequest:
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        req = FubRequest(request.method, request.path, dict(request.headers), body)
        self.requests.append(req)
        return req

    def _find(self, person: dict[str, Any]) -> dict[str, Any] | None:
        if "id" in person:
            return self.people.get(int(person["id"]))
        emails = {e["value"] for e in person.get("emails", [])}
        phones = {p["value"] for p in person.get("phones", [])}
        for p in self.people.values():
            if emails & {e["value"] for e in p.get("emails", [])} or phones & {
                    x["value"] for x in p.get("phones", [])}:
                return p
        return None

    async def _events(self, request: web.Request) -> web.Response:
        req = await self._record(request)
        if not self._authorised(request):
            return web.json_response({"errorMessage": "Unauthorized"}, status=401)
        given = req.body.get("person") or {}
        found = self._find(given)
        if found is None and "id" in given:
            return web.json_response({"errorMessage": "person not found"}, status=404)
        if found is None:
            found = {"id": next(self._ids), "source": req.body.get("source"), "events": []}
            self.people[found["id"]] = found
        found.update({k: v for k, v in given.items() if k != "id"})
        found["events"].append(req.body.get("type"))
        return web.json_response(found, status=200 if len(found["events"]) > 1 else 201)

    async def _notes(self, request: web.Request) -> web.Response:
        req = await self._record(request)
        if not self._authorised(request):
            return web.json_response({"errorMessage": "Unauthorized"}, status=401)
        if int(req.body.get("personId") or 0) not in self.people:
            return web.json_response({"errorMessage": "person not found"}, status=400)
        note = {"id": len(self.notes) + 1, **req.body}
        self.notes.append(note)
        return web.json_response(note, status=201)

    async def start(self) -> FakeFub:
        app = web.Application()
        app.router.add_post("/v1/events", self._events)
        app.router.add_post("/v1/notes", self._notes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
