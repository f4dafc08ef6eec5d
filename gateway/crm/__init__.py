"""CRM push: every lead and every step, delivered to the brokerage's CRM (README "CRM push").

`start_crm(services)` at app/worker start installs the audit listener (`capture`), which owes
deliveries in the same transaction as each state change, and starts the delivery loop
(`delivery.Dispatcher`) over the endpoints' adapters: signed webhooks (`webhook`), Follow Up
Boss (`fub`) and lead emails (`email_crm`). With no endpoint configured nothing is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from gateway.config.crm import CrmConfig, load_crm_config
from gateway.config.handoff import HandoffSection
from gateway.config.settings import Settings
from gateway.crm.base import Sender
from gateway.crm.capture import install, uninstall
from gateway.crm.delivery import Dispatcher
from gateway.crm.email_crm import EmailSender
from gateway.crm.fub import FubSender
from gateway.crm.signing import signature_header, verify_signature
from gateway.crm.webhook import WebhookSender
from gateway.store.leads import Store

__all__ = [
    "Dispatcher", "build_senders", "install", "signature_header", "start_crm", "stop_crm",
    "transcript_links", "uninstall", "verify_signature",
]
EXTRA = "crm"
"""Key of the running dispatcher in `Services.extras`."""


def transcript_links(settings: Settings) -> Callable[[int], str]:
    """The dashboard link of a lead's transcript, as agent alerts give it."""
    path = HandoffSection.model_validate(settings.handoff or {}).transcript_path
    base = (settings.dashboard_url or settings.public_url).rstrip("/")
    return lambda lead_id: base + path.format(lead_id=lead_id)


def build_senders(config: CrmConfig, http: aiohttp.ClientSession) -> dict[str, Sender]:
    """One adapter per enabled endpoint."""
    timeout = config.retry.timeout_seconds
    senders: dict[str, Sender] = {}
    for name, ep in config.endpoints.items():
        if not ep.config.enabled:
            continue
        if ep.kind == "webhook":
            senders[name] = WebhookSender(ep, http, timeout=timeout)
        elif ep.kind == "fub":
            senders[name] = FubSender(ep, http, timeout=timeout)
        else:
            senders[name] = EmailSender(ep, timeout=timeout)
    return senders


class _Running:
    def __init__(self, store: Store, dispatcher: Dispatcher, http: aiohttp.ClientSession):
        self.store, self.dispatcher, self.http = store, dispatcher, http


async def start_crm(services: Any, *, clock: Callable[[], datetime]) -> Dispatcher | None:
    """Install the listener and start delivering, if the settings name any endpoint.

    Args:
        services: the app's `Services` (settings, store; the dispatcher is kept in `extras`).
        clock: the app's time source.

    Returns:
        The running dispatcher, or None when the CRM push is off.
    """
    settings: Settings = services.settings
    config = load_crm_config(settings)
    if not any(e.config.enabled for e in config.endpoints.values()):
        return None
    http = aiohttp.ClientSession()
    dispatcher = Dispatcher(services.store, config, build_senders(config, http),
                            transcript_url=transcript_links(settings), clock=clock)
    install(services.store, config, clock=clock, wake=dispatcher.wake)
    dispatcher.start()
    services.extras[EXTRA] = _Running(services.store, dispatcher, http)
    return dispatcher


async def stop_crm(services: Any) -> None:
    """Stop delivering and uninstall the listener (what `start_crm` started)."""
    running: _Running | None = services.extras.pop(EXTRA, None)
    if running is None:
        return
    uninstall(running.store)
    await running.dispatcher.stop()
    await running.http.close()
