"""Intake's place in the app: its routes at build time, its objects once services exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from gateway.channels.twilio import TwilioChannel
from gateway.config.compliance import compliance_path, load_compliance_config
from gateway.config.handoff import HandoffConfig
from gateway.config.intake import IntakeConfig
from gateway.intake.calls import CALLS, Calls, add_call_routes
from gateway.intake.first_touch import FirstTouch
from gateway.intake.record import INTAKE_EVENT
from gateway.intake.routes import INTAKE, add_intake_routes
from gateway.intake.service import Intake
from gateway.pipeline import Pipeline
from gateway.services import Services


def add_routes(app: web.Application) -> None:
    """Register every intake route (call before the generic `/webhooks/{name}` routes)."""
    add_call_routes(app)
    add_intake_routes(app)


@asynccontextmanager
async def started(
    app: web.Application,
    services: Services,
    pipeline: Pipeline,
    config: IntakeConfig,
    handoff: HandoffConfig,
    adapters: dict[str, Any],
) -> AsyncIterator[Intake]:
    """Build intake for a running app: the first touch joins the pipeline's events."""
    intake = Intake(services, config)
    app[INTAKE] = intake
    twilio = adapters.get("twilio")
    if isinstance(twilio, TwilioChannel):
        app[CALLS] = Calls(intake, twilio, handoff)
    compliance = load_compliance_config(compliance_path(services.settings))
    touch = FirstTouch(services, compliance.gate, handoff.policy.business_hours.timezone)

    async def run(body: dict[str, Any]) -> None:
        await touch.run(int(body["intake_id"]))

    pipeline.register(INTAKE_EVENT, run)
    yield intake
