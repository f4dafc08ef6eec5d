"""The web chat's static files: the embeddable widget and a demo listing page that embeds it.

`GET /chat/widget.js` serves `gateway/static/widget.js` (a site adds one ``<script>`` tag) and
`GET /chat/demo` serves `gateway/static/demo.html`. Each file is read once, on first request.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent.parent / "static"


class WidgetFiles:
    """Handlers for the widget script and the demo page, with the files cached in memory.

    Args:
        root: The folder holding ``widget.js`` and ``demo.html``.
    """

    def __init__(self, root: Path = STATIC) -> None:
        self._root = root
        self._cache: dict[str, bytes] = {}

    async def widget(self, request: web.Request) -> web.Response:
        """`GET /chat/widget.js`."""
        return web.Response(
            body=self._file("widget.js"),
            content_type="application/javascript",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def demo(self, request: web.Request) -> web.Response:
        """`GET /chat/demo`: a listing page with the widget."""
        return web.Response(body=self._file("demo.html"), content_type="text/html", charset="utf-8")

    def _file(self, name: str) -> bytes:
        if name not in self._cache:
            self._cache[name] = (self._root / name).read_bytes()
        return self._cache[name]
