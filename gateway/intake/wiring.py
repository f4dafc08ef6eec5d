"""Intake's place in the app: its routes at build time, its objects once services exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from gateway.channels.twilio import TwilioChannel
from gateway.config.handoff import HandoffConfig
from gateway.config.intake import IntakeConfig
from gateway.domain.outbound_gate import GateRules
from gateway.intake.calls import CALLS, Calls, add_call_routes
from gateway.intake.emails import EMAILS, LeadEmails, email_webhook, smtp_listener
from gateway.intake.first_touch import FirstTouch
from gateway.intake.record import INTAKE_EVENT
from gateway.intake.routes import INTAKE, add_intake_routes
from gateway.intake.service import Intake
from gateway.pipeline import Pipeline
from gateway.services import Services

SMTP_PORT = web.AppKey("smtp_port", int)
"""The lead-email SMTP listener's bound port, when it runs."""


def add_routes(app: web.Application) -> None:
    """Register every intake route (call before the generic `/webhooks/{name}` routes)."""
    add_call_routes(app)
    add_intake_routes(app)
    app.router.add_post("/webhooks/email", email_webhook)


@asynccontextmanager
async def started(
    app: web.Application,
    services: Services,
    pipeline: Pipeline,
    config: IntakeConfig,
    handoff: HandoffConfig,
    adapters: dict[str, Any],
    *,
    gate: GateRules,
    listeners: bool = True,
) -> AsyncIterator[Intake]:
    """Build intake for a running app: the first touch joins the pipeline's events."""
    intake = Intake(services, config)
    app[INTAKE] = intake
    twilio = adapters.get("twilio")
    if isinstance(twilio, TwilioChannel):
        app[CALLS] = Calls(intake, twilio, handoff)
    touch = FirstTouch(services, gate, handoff.policy.business_hours.timezone)

    async def run(body: dict[str, Any]) -> None:
        await touch.run(int(body["intake_id"]))

    pipeline.register(INTAKE_EVENT, run)
    emails = LeadEmails(intake)
    app[EMAILS] = emails
    settings = services.settings
    if listeners and settings.smtp_host and settings.smtp_port is not None:
        async with smtp_listener(emails, settings.smtp_host, settings.smtp_port) as port:
            app[SMTP_PORT] = port
            yield intake
    else:
        yield intake
