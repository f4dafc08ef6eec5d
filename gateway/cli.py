"""The `pronto` command: serve, worker, detect-language, simulate, demo-data, lead."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from datetime import timedelta
from typing import TextIO

from gateway.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pronto` console script."""
    parser = argparse.ArgumentParser(prog="pronto", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("serve", help="run the gateway (webhooks, web chat, dashboard, workers)")
    w = sub.add_parser("worker", help="run a queue and timer worker (scale out with several)")
    w.add_argument("--burst", action="store_true", help="process what is due, then exit")
    d = sub.add_parser(
        "detect-language",
        help="print en/es for each line on stdin",
        description=(
            "Print the answer language (en or es) for each line on stdin. By default stdin is"
            " ONE conversation: each answer is the next line's previous language, so a line"
            " without evidence (ok, 500k, a name) keeps it and only a clear sentence or an"
            " explicit request switches. With --each every line is judged on its own, with no"
            " context: batch use, one answer per line, and a line without evidence gets the"
            " default language (en)."
        ),
    )
    d.add_argument(
        "--previous",
        metavar="en|es",
        help="the conversation's language so far (seeds the first line)",
    )
    d.add_argument(
        "--each",
        action="store_true",
        help="judge every line on its own, without context (batch use)",
    )
    s = sub.add_parser("simulate", help="chat as a prospect through the running gateway")
    s.add_argument("--phone", default="+13055550123", help="the prospect's phone number")
    s.add_argument("--channel", choices=["sms", "whatsapp"], default="sms")
    s.add_argument("--url", help="gateway URL (default: http://PRONTO_HOST:PRONTO_PORT)")
    s.add_argument("--wait", type=float, default=8.0, help="seconds to wait for replies")
    dd = sub.add_parser("demo-data", help="seed a realistic week into the database (dashboard)")
    dd.add_argument("--days", type=int, default=7, help="days of leads, ending now")
    dd.add_argument("--per-day", type=int, default=45, help="about this many leads a day")
    dd.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    from gateway.governance_cli import add_lead_parser, run_lead

    add_lead_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.cmd == "detect-language":
            return detect_language(sys.stdin, sys.stdout, args.previous, each=args.each)
        # httpx, telegram and twilio log request URLs (the Telegram token is in them) and
        # addresses: they stay at WARNING whatever the root level.
        from gateway.app import quiet_loggers
        from gateway.config.settings import load_settings

        quiet_loggers()
        settings = load_settings()
        if args.cmd == "serve":
            return serve(settings)
        if args.cmd == "worker":
            from gateway.event_loop import run as run_on

            return run_on(worker(settings, burst=args.burst), settings.event_loop)
        if args.cmd == "lead":
            return run_lead(settings, args)
        if args.cmd == "demo-data":
            from gateway.dev.demo_data import run

            counts = asyncio.run(run(settings, days=args.days, per_day=args.per_day,
                                     seed_value=args.seed))
            print(", ".join(f"{v} {k}" for k, v in counts.items()))
            return 0
        from gateway.dev.simulate import simulate

        return asyncio.run(simulate(settings, args.phone, args.channel, args.url, args.wait))
    except ConfigError as exc:
        print(f"pronto: configuration error: {exc}", file=sys.stderr)
        return 2


def detect_language(
    stdin: TextIO, stdout: TextIO, previous: str | None, *, each: bool = False
) -> int:
    """Read lines, print the language of each.

    Args:
        stdin: One message a line.
        stdout: Gets one language code a line.
        previous: The conversation's language before the first line (not with ``each``).
        each: Judge every line alone; otherwise each answer becomes the next `previous`.
    """
    from gateway.domain.language.detector import LanguageDetector

    detector = LanguageDetector()
    if previous is not None and previous not in detector.languages:
        print(f"pronto: --previous must be one of {', '.join(detector.languages)}",
              file=sys.stderr)
        return 2
    if each and previous is not None:
        print("pronto: --each judges lines without context; drop --previous", file=sys.stderr)
        return 2
    for line in stdin:
        decision = detector.decide(line.rstrip("\r\n"), previous=previous)
        if not each:
            previous = decision.language
        stdout.write(decision.language + "\n")
        stdout.flush()
    return 0


def serve(settings: object) -> int:
    """Run the gateway until SIGINT/SIGTERM."""
    from aiohttp import web

    from gateway.app import check_startup, create_app
    from gateway.config.settings import Settings
    from gateway.event_loop import new_loop

    assert isinstance(settings, Settings)
    check_startup(settings)
    app = create_app(settings)
    app.on_startup.append(_freeze_heap)  # after the app's own start-up (cleanup_ctx) ran
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None,
                loop=new_loop(settings.event_loop))
    return 0


async def _freeze_heap(_app: object = None) -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    A long-running process holds a few hundred thousand objects from start-up (SQLAlchemy,
    twilio, the language models) that live as long as it does; every full collection walks
    them all, which under load shows as a pause in whatever the loop was doing (a webhook
    answer). Frozen after one collection, they are left alone (`gc.freeze`).
    """
    gc.collect()
    gc.freeze()


async def worker(settings: object, *, burst: bool) -> int:
    """A worker process: no HTTP, the same pipeline."""
    from gateway.app import create_app
    from gateway.config.handoff import load_handoff_config
    from gateway.config.settings import Settings
    from gateway.delivery_status import apply_kept
    from gateway.keys import PIPELINE, SERVICES
    from gateway.store.db import open_pool
    from gateway.worker import Worker

    assert isinstance(settings, Settings)
    from aiohttp import web

    app = create_app(settings, run_workers=False, listeners=False, sql_pre_ping=False)
    # An AppRunner with no site runs the app's start-up and clean-up without serving HTTP:
    # the same clients and checks as `serve`.
    runner = web.AppRunner(app)
    await runner.setup()
    await _freeze_heap()
    try:
        services = app[SERVICES]
        await open_pool(services.store.engine)  # the first burst after a start finds it open
        if settings.worker_metrics_port:
            # The worker serves no web app; prometheus-client's own small server exposes the
            # same registry (pipeline, outbound, timer counters) for Prometheus to scrape.
            from prometheus_client import start_http_server

            start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
        w = Worker(services.queue, services.timers, app[PIPELINE].handle,
                   lease_seconds=settings.lease_seconds, outbox=services.outbox,
                   idle_close_after=load_handoff_config(settings).policy.close.idle_after,
                   stall_after=timedelta(seconds=settings.stall_after_seconds),
                   max_in_flight=settings.worker_in_flight,
                   side_tasks=[app[PIPELINE].lane.run],
                   status_sweep=lambda: apply_kept(services))
        if burst:
            handled = await w.run_burst()
            print(f"processed {handled} event(s)")
            return 0
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, w.stop)
        await w.run()
        return 0
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
