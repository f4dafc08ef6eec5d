"""`create_app(settings)`: the aiohttp application, its clients and its workers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import func, select, text

from gateway import metrics
from gateway.admin import add_admin_routes, has_admin_bearer
from gateway.channels import Channel, StatusChannel, build_channels
from gateway.channels.base import ChannelContext, Forgets, HasRoutes
from gateway.config.compliance import compliance_path, load_compliance_config
from gateway.config.followup import followup_path, load_followup_config
from gateway.config.handoff import HandoffConfig
from gateway.config.intake import load_intake_config
from gateway.config.settings import Settings
from gateway.config.templates import Templates
from gateway.crm import start_crm, stop_crm
from gateway.crm_admin import add_crm_admin_routes
from gateway.delivery_status import apply_kept, apply_status, keep
from gateway.domain.followup import parse_offset
from gateway.domain.language.detector import LanguageDetector
from gateway.domain.segments import check_templates
from gateway.errors import BadRequest, BadSignature, ConfigError, ProntoError
from gateway.followup.appointments import Appointments
from gateway.followup.calendar import add_calendar_routes
from gateway.followup.feedback import FeedbackAsk
from gateway.followup.silent import FollowUp
from gateway.governance_admin import add_governance_routes
from gateway.handoff.engine import Handoff, load_handoff_config, sync_agents
from gateway.infra.bot_client import BotClient
from gateway.infra.outbound import Outbox
from gateway.infra.queue import InboundQueue
from gateway.infra.redis import connect_redis
from gateway.infra.timers import Clock, Timers
from gateway.intake import wiring as intake_wiring
from gateway.keys import ADAPTERS, PIPELINE, SERVICES, SETTINGS, WORKER
from gateway.messages import Inbound, utcnow
from gateway.pipeline import Pipeline
from gateway.send_failures import SendFailures
from gateway.services import Services
from gateway.store.db import make_engine, make_sessionmaker, migrate
from gateway.store.leads import Store
from gateway.store.models import Timer
from gateway.worker import Worker

log = logging.getLogger(__name__)

Enqueue = Callable[[Inbound], Awaitable[None]]


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Map Pronto's typed errors to HTTP statuses in one place."""
    try:
        return await handler(request)
    except BadSignature:
        metrics.REJECTED.labels(channel=request.match_info.get("name", "?"), reason="sig").inc()
        return web.Response(status=403, text="forbidden")
    except BadRequest as exc:
        metrics.REJECTED.labels(channel=request.match_info.get("name", "?"), reason="bad").inc()
        return web.Response(status=400, text=str(exc))
    except RedisError:
        # The provider retries on 5xx: nothing is lost while Redis is briefly away.
        log.exception("redis unavailable while handling %s", request.path)
        return web.Response(status=503, text="queue unavailable")
    except ProntoError:
        log.exception("error handling %s", request.path)
        return web.Response(status=500, text="internal error")


QUIET_LOGGERS = (
    "httpx", "httpcore", "telegram", "twilio", "aiosqlite", "sqlalchemy", "mail.log")
"""Third-party loggers that write request URLs (the Telegram bot token is part of every Bot API
URL), recipients' addresses, SQL parameters (aiosqlite) or result rows (sqlalchemy, which holds
itself at WARNING only when nothing configured it first), or every SMTP line with its
addresses and body (aiosmtpd's "mail.log") below WARNING: kept at WARNING whatever the root
level."""


def quiet_loggers() -> None:
    """Hold the `QUIET_LOGGERS` at WARNING (logs never carry tokens or phone numbers)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    run_workers: bool | None = None,
    language: LanguageDetector | None = None,
    listeners: bool = True,
    sql_pre_ping: bool = True,
) -> web.Application:
    """Build the gateway application.

    Args:
        settings: the settings object (see `gateway.settings.load_settings`).
        clock: time source for timers and SLAs (tests inject a controllable one).
        run_workers: run queue/timer workers in this process (default: settings.run_workers).
        language: a prebuilt detector (tests share one; it loads models once).
        listeners: open the lead-email SMTP listener when configured (`pronto worker`
            processes do not: one listener per deployment, in the web process).
        sql_pre_ping: test pooled SQL connections before use (`gateway.store.db.make_engine`);
            `pronto worker` does without: it retries an event whose connection died.
    """
    quiet_loggers()
    app = web.Application(middlewares=[error_middleware], client_max_size=1024**2)
    app[SETTINGS] = settings
    workers = settings.run_workers if run_workers is None else run_workers
    # Adapters are built here (cheap, no I/O) so their routes exist before the router freezes;
    # their clients open in `lifecycle`.
    adapters: dict[str, Channel] = {a.name: a for a in build_channels(settings)}
    app[ADAPTERS] = adapters

    intake_config = load_intake_config(settings)
    compliance = load_compliance_config(compliance_path(settings))
    followup_config = load_followup_config(followup_path(settings), settings.languages)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with (_services(settings, clock, language, sql_pre_ping) as services,
                    AsyncExitStack() as stack):
            services.channels = {c: a for a in adapters.values() for c in a.channels}
            enqueue = _enqueuer(services.queue)
            context = ChannelContext(enqueue=enqueue, redis=services.redis)
            for adapter in adapters.values():
                await adapter.start(context)
            handoff_config = await _start_handoff(services)
            pipeline = Pipeline(services)
            app[SERVICES], app[PIPELINE] = services, pipeline
            await start_crm(services, clock=clock)  # before anything writes events
            for warning in check_templates(services.templates.table,
                                           compliance.segment_budget):
                log.warning("templates: %s", warning)  # names the template, never a lead
            office_zone = handoff_config.policy.business_hours.timezone
            services.followup = FollowUp(services, followup_config, compliance.gate, office_zone)
            services.appointments = Appointments(services, compliance.gate, office_zone,
                                                 followup_config.reminders)
            fb = followup_config.feedback
            services.feedback = FeedbackAsk(
                services, compliance.gate, handoff_config,
                csat_after=parse_offset(fb.csat_after), nps_after=parse_offset(fb.nps_after),
                low_csat=fb.low_csat, low_nps=fb.low_nps)
            await stack.enter_async_context(intake_wiring.started(
                app, services, pipeline, intake_config, handoff_config, adapters,
                gate=compliance.gate, listeners=listeners))
            task = None
            if workers:
                # The worker also sweeps sends a dead process left queued, and closes idle
                # conversations (DESIGN §1.9: every waiting state has a next step).
                worker = Worker(
                    services.queue, services.timers, pipeline.handle,
                    lease_seconds=settings.lease_seconds, outbox=services.outbox,
                    idle_close_after=handoff_config.policy.close.idle_after,
                    stall_after=timedelta(seconds=settings.stall_after_seconds),
                    max_in_flight=settings.worker_in_flight, side_tasks=[pipeline.lane.run],
                    status_sweep=lambda: apply_kept(services),
                )
                app[WORKER] = worker
                task = asyncio.create_task(worker.run(), name="worker")
            try:
                yield
            finally:
                if task is not None:
                    app[WORKER].stop()
                    await asyncio.gather(task, return_exceptions=True)
                for adapter in adapters.values():
                    await adapter.close()
                await stop_crm(services)

    app.cleanup_ctx.append(lifecycle)
    intake_wiring.add_routes(app)  # before /webhooks/{name}: the voice webhooks are fixed paths
    app.router.add_post("/webhooks/{name}/status", status_webhook)
    app.router.add_post("/webhooks/{name}", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    add_admin_routes(app)
    add_crm_admin_routes(app)
    add_governance_routes(app)
    add_calendar_routes(app)  # public by signature: the appointment's .ics link
    for adapter in adapters.values():
        if isinstance(adapter, HasRoutes):
            app.router.add_routes(adapter.routes())
    return app


class _services:
    """Open every client the services need and close them in reverse order."""

    def __init__(self, settings: Settings, clock: Clock, language: LanguageDetector | None,
                 pre_ping: bool = True):
        self.settings, self.clock, self.language = settings, clock, language
        self.pre_ping = pre_ping

    async def __aenter__(self) -> Services:
        s = self.settings
        url = s.resolved_database_url()
        await migrate(url)
        self.engine = make_engine(url, pre_ping=self.pre_ping)
        store = Store(make_sessionmaker(self.engine), serialize_writes=url.startswith("sqlite"))
        self._redis_cm = connect_redis(s.redis_url, s.var_dir, s.redis_max_connections)
        redis = await self._redis_cm.__aenter__()
        queue = InboundQueue(redis, s.partitions)
        await queue.ensure_groups()
        timers = Timers(redis, store, clock=self.clock, lease_seconds=s.lease_seconds)
        self.http = aiohttp.ClientSession()
        templates = Templates.load(s.templates_path, s.languages)
        detector = self.language or LanguageDetector(s.languages, s.default_language)
        # The per-lead hourly cap of config/compliance.yml holds for every sender.
        gate = load_compliance_config(compliance_path(s)).gate
        outbox = Outbox(store, {}, rules=gate, spanish_gsm7=s.sms_spanish_gsm7,
                        lease_seconds=s.outbox_lease_seconds)
        services = Services(
            settings=s, store=store, redis=redis, queue=queue, timers=timers, outbox=outbox,
            channels={}, bot=BotClient(s.rasa_url, self.http), language=detector,
            templates=templates, clock=self.clock,
        )
        self.services = services
        return services

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()
        await self._redis_cm.__aexit__(None, None, None)
        await self.engine.dispose()


async def _start_handoff(services: Services) -> HandoffConfig:
    # The outbox must see the adapters chosen at start.
    services.outbox.channels = services.channels

    config = load_handoff_config(services.settings)
    async with services.store.transaction() as session:
        await sync_agents(session, config)
    handoff = Handoff(services, config)
    handoff.register_timers(services.timers)
    services.handoff = handoff
    services.outbox.on_failure = SendFailures(services)
    return config


def _enqueuer(queue: InboundQueue) -> Enqueue:
    async def enqueue(inbound: Inbound) -> None:
        await queue.enqueue(inbound.queue_key, "inbound", {"inbound": inbound.to_json()})
        metrics.INBOUND.labels(channel=inbound.channel).inc()

    return enqueue


async def webhook(request: web.Request) -> web.StreamResponse:
    """`POST /webhooks/{name}`: verify, parse, queue, answer at once."""
    adapter: Channel | None = request.app[ADAPTERS].get(request.match_info["name"])
    if adapter is None:
        raise web.HTTPNotFound()  # not observed: an unknown name must not become a label
    started = time.perf_counter()
    try:
        return await _webhook(request, adapter)
    finally:
        metrics.WEBHOOK_LATENCY.labels(channel=adapter.name, kind="message").observe(
            time.perf_counter() - started)


async def _webhook(request: web.Request, adapter: Channel) -> web.StreamResponse:
    await adapter.verify(request)
    enqueue = _enqueuer(request.app[SERVICES].queue)
    inbounds = await adapter.parse(request)
    try:
        for inbound in inbounds:
            await enqueue(inbound)
    except Exception:
        # Not queued: the provider will redeliver, and an adapter that remembers what it saw
        # must not drop that redelivery as a duplicate.
        if isinstance(adapter, Forgets):
            await adapter.forget(inbounds)
        raise
    return adapter.webhook_response()


async def status_webhook(request: web.Request) -> web.StreamResponse:
    """`POST /webhooks/{name}/status`: delivery status callbacks update stored messages."""
    adapter = request.app[ADAPTERS].get(request.match_info["name"])
    if not isinstance(adapter, StatusChannel):
        raise web.HTTPNotFound()
    started = time.perf_counter()
    try:
        return await _status_webhook(request, adapter)
    finally:
        # The name matched a registered adapter: a bounded label.
        metrics.WEBHOOK_LATENCY.labels(channel=request.match_info["name"], kind="status").observe(
            time.perf_counter() - started)


async def _status_webhook(request: web.Request, adapter: StatusChannel) -> web.StreamResponse:
    services = request.app[SERVICES]
    for update in await adapter.parse_status(request):
        async with services.store.transaction() as session:
            found = await apply_status(services, session, adapter.channels, update)
        if not found:
            await keep(services, adapter.channels, update)  # its row comes later
    return web.Response(status=204)


async def healthz(request: web.Request) -> web.Response:
    """`GET /healthz`: the process is alive."""
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    """`GET /readyz`: 200 only when Redis, SQL and Rasa answer."""
    services = request.app.get(SERVICES)
    if services is None:
        return web.json_response({"ok": False}, status=503)
    checks: dict[str, bool] = {}
    try:
        checks["redis"] = bool(await services.redis.ping())
    except RedisError:
        checks["redis"] = False
    try:
        async with services.store.maker() as session:
            await session.execute(text("SELECT 1"))
        checks["sql"] = True
    except Exception:
        checks["sql"] = False
    checks["rasa"] = await services.bot.ready()
    ok = all(checks.values())
    return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)


async def metrics_view(request: web.Request) -> web.Response:
    """`GET /metrics`: Prometheus exposition, behind the admin token (`Authorization: Bearer`)
    unless the `metrics_public` setting opens it."""
    if not request.app[SETTINGS].metrics_public and not has_admin_bearer(request):
        raise web.HTTPUnauthorized(
            text="admin token required (Authorization: Bearer)",
            headers={"WWW-Authenticate": 'Bearer realm="pronto"'},
        )
    await refresh_timers_pending(request)
    resp = web.Response(body=generate_latest())
    resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return resp


async def refresh_timers_pending(request: web.Request) -> None:
    """Set `pronto_timers_pending` from SQL, the timers' source of truth, at scrape time.

    One indexed GROUP BY (`ix_timers_status_due`) per scrape: exact whichever process fired or
    scheduled the timers, where a counter kept in one process would not be.
    """
    services = request.app.get(SERVICES)
    if services is None:
        return
    async with services.store.maker() as session:
        rows = (await session.execute(select(Timer.kind, func.count()).where(
            Timer.status == "pending").group_by(Timer.kind))).all()
    metrics.TIMERS_PENDING.clear()  # a kind with nothing pending drops out, not stale
    for kind, n in rows:
        metrics.TIMERS_PENDING.labels(kind=kind).set(n)


def check_startup(settings: Settings) -> None:
    """Fail fast on configuration problems before binding the port."""
    if not settings.templates_path.exists():
        raise ConfigError(f"{settings.templates_path}: templates file not found")
