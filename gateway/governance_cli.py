"""`pronto lead export|erase|unmerge`: data governance from the shell.

Talks to SQL directly (the gateway need not run). Exit codes: 0 done, 1 refused (erase
without --yes), 2 an unknown lead or a malformed argument.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every `pronto` call: keep this module light
    from gateway.config.settings import Settings
    from gateway.governance import Governance


def add_lead_parser(sub: Any) -> None:
    """Add the `lead` command group to the `pronto` parser's subcommands."""
    lead = sub.add_parser("lead", help="export, erase or unmerge a lead (data governance)")
    cmds = lead.add_subparsers(dest="lead_cmd", required=True)
    ex = cmds.add_parser("export", help="print everything held about a lead as JSON")
    ex.add_argument("key", help="lead id, phone number or email")
    ex.add_argument("--out", type=Path, help="write the JSON to FILE instead of stdout")
    er = cmds.add_parser("erase", help="erase a lead's personal data (the row stays, blank)")
    er.add_argument("key", help="lead id, phone number or email")
    er.add_argument("--yes", action="store_true", help="really erase (required)")
    un = cmds.add_parser("unmerge", help="move one identity of a lead to a new lead")
    un.add_argument("lead_id", type=int, help="the lead the identity was wrongly attached to")
    un.add_argument("identity", help="KIND:ADDRESS, e.g. phone:+13055550123 or email:a@b.com")


def run_lead(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `pronto lead …` command; returns the exit code."""
    from gateway.governance import GovernanceRefused, LeadNotFound

    if args.lead_cmd == "erase" and not args.yes:
        print("pronto: erasing cannot be undone; add --yes to erase", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_run(settings, args))
    except LeadNotFound as exc:
        print(f"pronto: {exc}", file=sys.stderr)
        return 2
    except GovernanceRefused as exc:
        print(f"pronto: {exc}", file=sys.stderr)
        return 2


@asynccontextmanager
async def _governance(settings: Settings, *, redis: bool) -> AsyncIterator[Governance]:
    from gateway.governance import Governance
    from gateway.store.db import make_engine, make_sessionmaker, migrate
    from gateway.store.leads import Store

    url = settings.resolved_database_url()
    await migrate(url)
    engine = make_engine(url)
    async with AsyncExitStack() as stack:
        client = None
        if redis and settings.redis_url:
            # Only a configured Redis: starting the embedded one here would start a second
            # server on the running gateway's data file.
            from gateway.infra.redis import connect_redis

            client = await stack.enter_async_context(
                connect_redis(settings.redis_url, settings.var_dir))
        try:
            yield Governance(Store(make_sessionmaker(engine)), client,
                             media_dir=settings.media_dir)
        finally:
            await engine.dispose()


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.governance import erase_summary

    async with _governance(settings, redis=args.lead_cmd == "erase") as gov:
        if args.lead_cmd == "export":
            data = await gov.export(args.key, how="cli")
            text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
            if args.out:
                args.out.write_text(text + "\n", encoding="utf-8")
                print(f"lead {data['lead']['id']} exported to {args.out}")
            else:
                print(text)
            return 0
        if args.lead_cmd == "erase":
            result = await gov.erase(args.key, by="cli")
            print("\n".join(erase_summary(result)))
            return 0
        done = await gov.unmerge(args.lead_id, args.identity, by="cli")
        print(f"identity moved from lead {done.from_lead_id} to new lead {done.new_lead_id}"
              f" with {done.messages} message(s)")
        return 0
