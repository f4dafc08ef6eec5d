"""The aiohttp application keys: what `create_app` stores on the app, typed.

In their own module so the admin pages, the CLI and tests can read them without importing the
app factory (which imports the admin pages: that was a cycle).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.config.settings import Settings
from gateway.pipeline import Pipeline
from gateway.services import Services
from gateway.worker import Worker

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
ADAPTERS: web.AppKey[dict[str, Any]] = web.AppKey("adapters", dict)
PIPELINE = web.AppKey("pipeline", Pipeline)
WORKER = web.AppKey("worker", Worker)
