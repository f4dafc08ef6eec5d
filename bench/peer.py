"""Side by side (issue 12): the same trained model, served once, and the same fake Twilio API,
driven through Rasa's REST channel alone (the floor), Rasa's own Twilio connector, and Pronto.

One Rasa process (plus the action server and a Redis tracker store) is started from .venv-rasa
with models/pronto.tar.gz and serves every path, one path and one rate at a time so they never
share the CPU; before each step the bench waits until Rasa has worked off the previous one.
Rasa's Twilio connector sends through twilio's client, pointed at the fake by
bench/rasa_twilio_fake/sitecustomize.py (on that process's PYTHONPATH only). Each Pronto step
gets a fresh redis-server, database (PostgreSQL when the local server answers, else SQLite),
`pronto serve` and `pronto worker` processes.

Messages are offered open-loop at each rate for `--seconds` (new leads, and follow-ups from
leads whose last message was answered), signed like Twilio signs them (the REST channel takes
JSON). Per path and rate it prints the webhook answer time, webhook → first outbound and
webhook → bot answer (not Pronto's acknowledgement) at the fake Twilio, bot answers per second,
messages answered, errors and each process's RSS. Then, with `--replicas 2`, throughput
through Pronto with one and two Rasa replicas, and each turn's cost split into NLU, policies
and action-server calls. Between the two, a closed loop: the same conversations through every
path, `--closed-senders` leads at a time, in alternating rounds (throughput at saturation on
one workload). A table and one JSON line; not a test.

    .venv/bin/python bench/peer.py [--rates 20,50,100,200] [--seconds 15]
        [--paths rest,twilio,pronto] [--replicas 2] [--closed-repeats 2] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import peer_report  # noqa: E402
from bench.faults_drive import phone  # noqa: E402
from bench.faults_stack import postgres_available  # noqa: E402
from bench.peer_drive import Driver, Msg, conversation, counter, figures, keys  # noqa: E402
from bench.peer_stack import (  # noqa: E402
    ActionTimer,
    PeerRasa,
    measured,
    parse_time,
    pronto_stack,
    quiet,
    served_webhooks,
    start_rasa,
    var_dir,
    write_credentials,
)
from gateway import event_loop  # noqa: E402
from tests.conftest import ACCOUNT_SID, FROM_NUMBER, sign  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=15)
"""Twilio gives up on a webhook after 15 s; so does this driver, on every path."""
PATHS = ("rest", "twilio", "pronto")
WARM_RATE = 10.0
"""Webhooks per second at most during a warm-up (`Run.warm_driver`)."""
WARM_DRAIN = 10.0
"""Seconds a warm-up waits for its answers."""


@dataclass
class Run:
    """What every step shares: the one Rasa, the fake Twilio, the HTTP client."""

    args: argparse.Namespace
    http: aiohttp.ClientSession
    real: PeerRasa
    rasa_url: str
    twilio: FakeTwilio
    calm: float
    use_pg: bool
    folder: Path
    ids: Any = None
    warm: Any = None
    """The current step's warm-up driver (`warm_driver`)."""
    closed: bool = False
    """Steps run the closed-loop workload (`closed_loop`), not an open-loop rate."""

    def driver(self, rate: float, prefix: str | None) -> Driver:
        """A fresh schedule for one step; REST senders are named, the others are phones."""
        self.twilio.sent.clear()
        key_of = keys(prefix) if prefix else phone
        if self.closed:
            a = self.args
            return Driver(rate, 0.0, self.ids, key_of, turns=a.turns, senders=a.closed_senders,
                          conversations=range(a.closed_leads))
        return Driver(rate, self.args.seconds, self.ids, key_of, turns=self.args.turns)

    def warm_driver(self, rate: float, prefix: str | None) -> Driver:
        """The warm-up before a step (`--warmup` s at up to `WARM_RATE`/s, one message per
        lead, never counted): every path meets the step with its processes warm, as a
        deployment's are (connection pools open, statement caches filled)."""
        self.twilio.sent.clear()
        return Driver(min(rate, WARM_RATE), self.args.warmup, self.ids,
                      keys(prefix) if prefix else phone, turns=1)

    async def warm_up(self, post: Any, twilio: FakeTwilio | None, urls: str) -> None:
        """Run the warm-up driver with `post`, then wait until Rasa has worked it off."""
        if self.args.warmup <= 0:
            return
        await self.warm.run(post, twilio, WARM_DRAIN)
        for url in urls.split(","):
            await quiet(self.http, url, self.calm)

    def pids(self) -> dict[str, int]:
        """Rasa's processes and this one."""
        return {**self.real.pids(), "bench driver + fake Twilio": os.getpid()}


async def twilio_post(http: aiohttp.ClientSession, url: str, m: Msg, text: str) -> None:
    """Post one inbound SMS webhook as Twilio does (form-encoded, X-Twilio-Signature)."""
    params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
              "From": m.lead.key, "To": FROM_NUMBER, "Body": text, "NumMedia": "0"}
    try:
        async with http.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params)},
                             timeout=WEBHOOK_TIMEOUT) as r:
            await r.read()
            m.status = r.status
    except (aiohttp.ClientError, TimeoutError):
        m.status = 0
    m.answer_s = time.perf_counter() - m.posted


async def step_rest(run: Run, rate: float, rasa_url: str | None = None
                    ) -> tuple[Driver, dict[str, Any]]:
    """Rasa's REST channel alone: the bot's answer is in the HTTP answer (nothing reaches the
    fake Twilio), so first outbound and bot answer are the answer time of a non-empty reply.
    With several replicas in `rasa_url` (comma list) messages go to them in turn."""
    d = run.warm = run.warm_driver(rate, "peer-rest")
    urls = (rasa_url or run.rasa_url).split(",")
    turn = itertools.count()

    async def post(m: Msg, text: str) -> None:
        body: Any = None
        url = urls[next(turn) % len(urls)]
        try:
            async with run.http.post(
                    f"{url}/webhooks/rest/webhook", timeout=WEBHOOK_TIMEOUT,
                    json={"sender": m.lead.key, "message": text,
                          "metadata": {"language": m.lead.lang, "channel": "sms"}}) as r:
                body = await r.json(content_type=None) if r.status == 200 else None
                m.status = r.status
        except (aiohttp.ClientError, TimeoutError, ValueError):
            m.status = 0
        now = time.perf_counter()
        m.answer_s = now - m.posted
        if isinstance(body, list) and any(isinstance(x, dict) and x.get("text") for x in body):
            d.answered(m, now)

    await run.warm_up(post, None, ",".join(urls))
    d = run.driver(rate, "peer-rest")  # `post` answers to the measured driver from now on
    return d, await measured(run.pids(), d.run(post, None, run.args.drain))


async def step_twilio(run: Run, rate: float, _: str | None = None
                      ) -> tuple[Driver, dict[str, Any]]:
    """Rasa's built-in Twilio connector: signed webhooks in, its sends at the fake Twilio."""
    url = f"{run.rasa_url}/webhooks/twilio/webhook"

    async def post(m: Msg, text: str) -> None:
        await twilio_post(run.http, url, m, text)

    run.warm = run.warm_driver(rate, None)
    await run.warm_up(post, run.twilio, run.rasa_url)
    d = run.driver(rate, None)
    return d, await measured(run.pids(), d.run(post, run.twilio, run.args.drain))


async def step_pronto(run: Run, rate: float, rasa_url: str | None = None
                      ) -> tuple[Driver, dict[str, Any]]:
    """Pronto (`pronto serve` + workers) in front of the Rasa replicas in `rasa_url`."""
    urls = rasa_url or run.rasa_url
    name = f"r{urls.count(',') + 1}"
    async with pronto_stack(urls, run.twilio.url, workers=run.args.workers,
                            use_pg=run.use_pg, name=name, folder=run.folder) as stack:
        for url in urls.split(","):
            await quiet(run.http, url, run.calm)
        url = f"{stack.pronto.public_url}/webhooks/twilio"

        async def post(m: Msg, text: str) -> None:
            await twilio_post(run.http, url, m, text)

        run.warm = run.warm_driver(rate, None)
        await run.warm_up(post, run.twilio, urls)
        d = run.driver(rate, None)

        work = d.run(post, run.twilio, run.args.drain)
        usage = await measured({**run.pids(), **stack.pids()}, work)
        return d, {**usage, **await served_webhooks(run.http, stack)}


STEPS = {"rest": step_rest, "twilio": step_twilio, "pronto": step_pronto}


async def peer(run: Run, rows: list[dict[str, Any]]) -> None:
    """Every path at every rate, one step at a time; each step's figures go to `rows`."""
    for path in run.args.paths:
        for rate in run.args.rates:
            waited = await quiet(run.http, run.rasa_url, run.calm)
            print(f"==> {path} at {rate:g}/s for {run.args.seconds:g} s "
                  f"(Rasa quiet after {waited:.1f} s)", flush=True)
            d, rss = await STEPS[path](run, rate)
            row = {"path": path, "rate": rate, **figures(d), **rss,
                   "quiet_wait_s": round(waited, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)


async def closed_loop(run: Run, rows: list[dict[str, Any]]) -> None:
    """Throughput at saturation on one fixed workload (`Driver.run_closed`): the same
    conversations through every path of `--closed-paths`, `--closed-repeats` rounds, paths
    alternating so a slow minute of the machine does not fall on one path only."""
    a = run.args
    run.closed = True
    try:
        for repeat in range(a.closed_repeats):
            for path in a.closed_paths:
                waited = await quiet(run.http, run.rasa_url, run.calm)
                print(f"==> {path}, closed loop: {a.closed_leads} conversations, "
                      f"{a.closed_senders} at a time, round {repeat + 1} "
                      f"(Rasa quiet after {waited:.1f} s)", flush=True)
                d, usage = await STEPS[path](run, float(a.closed_senders))
                rows.append({"path": path, "repeat": repeat + 1, "rate": 0.0,
                             "seconds": round(d.seconds, 1), **figures(d), **usage})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        run.closed = False


async def replicas(run: Run, second_url: str, rows: list[dict[str, Any]]) -> None:
    """Bot answers per second with one Rasa replica, then with two, through each path of
    `--replica-paths` (the REST channel alone, Pronto); each run's figures go to `rows`."""
    rate = run.args.replica_rate
    for path in run.args.replica_paths:
        for n, urls in ((1, run.rasa_url), (2, f"{run.rasa_url},{second_url}")):
            for url in urls.split(","):
                await quiet(run.http, url, run.calm)
            print(f"==> {path}, {n} Rasa replica(s), {rate:g}/s", flush=True)
            d, usage = await STEPS[path](run, rate, urls)
            rows.append({"path": path, "replicas": n, "rate": rate, **figures(d), **usage})
            print(json.dumps(rows[-1]), flush=True)


async def cost_split(run: Run, url: str, timer: ActionTimer) -> dict[str, Any]:
    """Single-stream turns on the Rasa behind the timing proxy: turn time, action-server
    calls inside it, and `/model/parse` of the same text (NLU); policies are the rest."""
    await quiet(run.http, url, run.calm)
    turns: list[dict[str, float]] = []
    for c in range(run.args.cost_conversations):
        lang, texts = conversation(next(run.ids), 5)
        for text in texts:
            t0 = time.perf_counter()
            async with run.http.post(f"{url}/webhooks/rest/webhook", json={
                    "sender": f"peer-cost-{c}", "message": text,
                    "metadata": {"language": lang, "channel": "sms"}}) as r:
                await r.read()
            t1 = time.perf_counter()
            calls = timer.within(t0, t1)
            nlu = await parse_time(run.http, url, text)
            turns.append({"turn": t1 - t0, "nlu": nlu, "actions": sum(calls),
                          "calls": len(calls), "policies": t1 - t0 - nlu - sum(calls)})
    return peer_report.cost_figures(turns)


async def main(args: argparse.Namespace) -> int:
    t_all = time.perf_counter()
    folder = var_dir()
    machine = peer_report.machine()
    print(f"machine: {machine}", flush=True)
    use_pg = await postgres_available()
    twilio = await FakeTwilio().start()
    print("starting the action server, the tracker store and Rasa (model load 30-60 s)...",
          flush=True)
    real = await asyncio.to_thread(PeerRasa, folder, write_credentials(folder), args.rasa_nice)
    timer: ActionTimer | None = None
    result: dict[str, Any] = {"bench": "peer", "machine": machine,
                              "database": "postgresql" if use_pg else "sqlite",
                              "steps": [], "closed": [], "replicas": []}
    failure = ""
    try:
        rasa_url, _ = await start_rasa(real, twilio.url)
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0)) as http:
            idle = sorted([await parse_time(http, rasa_url, "hello") for _ in range(7)])
            run = Run(args, http, real, rasa_url, twilio, max(0.25, 4 * idle[3]), use_pg,
                      folder, counter())
            await peer(run, result["steps"])
            if args.closed_repeats and args.closed_paths:
                await closed_loop(run, result["closed"])
            if args.replicas >= 2 or args.cost_conversations:
                timer = await ActionTimer(real.actions_url).start()
                print("starting a second Rasa replica (its action calls go through the timing "
                      "proxy)...", flush=True)
                second, _ = await start_rasa(real, twilio.url, timer.url)
                if args.cost_conversations:
                    result["cost_split"] = await cost_split(run, second, timer)
                if args.replicas >= 2:
                    await replicas(run, second, result["replicas"])
    except Exception as exc:  # a part failed to start or died: print what was measured
        failure = f"{type(exc).__name__}: {exc}"[:3000]
        result["failed"] = failure
    finally:
        if timer is not None:
            await timer.stop()
        await asyncio.to_thread(real.close)
        await twilio.stop()
    result["seconds"] = round(time.perf_counter() - t_all, 1)
    result["settings"] = {"seconds_per_step": args.seconds, "drain_s": args.drain,
                          "turns_per_lead": args.turns, "warmup_s": args.warmup,
                          "workers": args.workers,
                          "rasa_nice": args.rasa_nice}
    peer_report.print_all(result)
    print(json.dumps(result))
    if failure:
        print(f"\nFAILED (figures above are what was measured before): {failure}\n"
              f"logs kept in {folder}", file=sys.stderr)
    elif not args.keep_logs:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failure else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; `--smoke` shrinks every size (it shows the bench runs)."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", help="webhooks per second, comma list (20,50,100,200)")
    p.add_argument("--seconds", type=float, help="seconds offered per rate and path (15)")
    p.add_argument("--drain", type=float, help="seconds to wait for answers after a step (15)")
    p.add_argument("--paths", default=",".join(PATHS), help="rest,twilio,pronto")
    p.add_argument("--turns", type=int, default=4, help="messages per lead at most")
    p.add_argument("--warmup", type=float, default=3.0,
                   help="seconds of warm-up before each step, not counted (3; 0: none)")
    p.add_argument("--workers", type=int, default=2, help="pronto worker processes")
    p.add_argument("--replicas", type=int, help="2: also Pronto with 1 and 2 Rasa replicas")
    p.add_argument("--replica-rate", type=float, default=50.0,
                   help="webhooks per second for the 1-vs-2-replica runs (50)")
    p.add_argument("--replica-paths", default="rest,pronto",
                   help="paths of the 1-vs-2-replica runs (rest,pronto)")
    p.add_argument("--closed-leads", type=int,
                   help="closed loop: conversations of the fixed workload (100)")
    p.add_argument("--closed-senders", type=int, default=32,
                   help="closed loop: leads writing at once (32)")
    p.add_argument("--closed-repeats", type=int,
                   help="closed loop: rounds over the paths (2; 0: no closed loop)")
    p.add_argument("--closed-paths", default=",".join(PATHS),
                   help="paths of the closed loop (rest,twilio,pronto)")
    p.add_argument("--cost-conversations", type=int,
                   help="conversations of 5 turns for the NLU/policies/actions split (4)")
    p.add_argument("--rasa-nice", type=int, default=5,
                   help="niceness added to Rasa and the action server (5; 0: same as the rest)")
    p.add_argument("--keep-logs", action="store_true", help="keep var/bench-peer/run-*")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: not figures")
    a = p.parse_args(argv)
    small = a.smoke
    a.rates = [float(r) for r in (a.rates or ("5" if small else "20,50,100,200")).split(",")]
    a.seconds = a.seconds or (3.0 if small else 15.0)
    a.drain = a.drain if a.drain is not None else (5.0 if small else 15.0)
    a.replicas = a.replicas if a.replicas is not None else (1 if small else 2)
    if a.cost_conversations is None:
        a.cost_conversations = 1 if small else 4
    a.closed_leads = a.closed_leads or (6 if small else 100)
    if a.closed_repeats is None:
        a.closed_repeats = 1 if small else 2
    if small:
        a.closed_senders = min(a.closed_senders, 3)
    a.paths = [x for x in a.paths.split(",") if x]
    a.replica_paths = [x for x in a.replica_paths.split(",") if x]
    a.closed_paths = [x for x in a.closed_paths.split(",") if x]
    unknown = (set(a.paths) | set(a.replica_paths) | set(a.closed_paths)) - set(PATHS)
    if unknown:
        p.error(f"unknown path(s): {', '.join(sorted(unknown))}")
    if a.workers < 1:  # else the stack waits for workers that never start, then fails vaguely
        p.error("--workers must be at least 1 (Pronto's path needs a worker to answer)")
    return a


if __name__ == "__main__":
    # On uvloop, as `pronto serve` is: the driver's loop is part of every time it measures, and
    # asyncio's own loop costs it more CPU per webhook it posts and per send the fake takes.
    raise SystemExit(event_loop.run(main(parse()), "auto"))
