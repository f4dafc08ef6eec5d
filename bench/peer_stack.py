"""Processes for `bench/peer.py`: one Rasa served with the trained model (REST channel and
Rasa's own Twilio connector, its client pointed at the fake Twilio), a Pronto stack per step,
a timing proxy in front of the action server, and each process's RSS.

Everything listens on 127.0.0.1. The Rasa, action server and tracker-store Redis come from
`tests.rasa_server.RealRasa`; Pronto's processes from `bench.faults_stack`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.faults import held
from bench.faults_stack import Pronto, RedisServer, fresh_database, pg_url
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, free_port
from tests.rasa_server import ROOT, RealRasa

PATCH_DIR = Path(__file__).resolve().parent / "rasa_twilio_fake"
"""Put on the Rasa process's PYTHONPATH: its sitecustomize points twilio's client at the fake."""


def write_credentials(folder: Path) -> Path:
    """A Rasa credentials file with the REST channel and Rasa's own Twilio connector.

    Args:
        folder: Where to write it (under var/, never bot/).

    Returns:
        The file's path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "credentials.yml"
    path.write_text(
        "# Written by bench/peer.py: the REST channel and Rasa's built-in Twilio connector.\n"
        "rest:\n"
        "twilio:\n"
        f'  account_sid: "{ACCOUNT_SID}"\n'
        f'  auth_token: "{AUTH_TOKEN}"\n'
        f'  twilio_number: "{FROM_NUMBER}"\n')
    return path


class PeerRasa(RealRasa):
    """`RealRasa` whose Rasa servers read the bench's credentials file and extra environment
    (the Twilio client patch, an action-server URL), and whose children are known by name."""

    def __init__(self, log_dir: Path, credentials: Path, nice: int = 0) -> None:
        self.credentials = credentials
        self.nice = nice
        """Niceness added to Rasa and the action server (README Performance: on one machine
        the bot runs below the gateway, so acknowledgements never queue behind a turn)."""
        self.named: dict[str, subprocess.Popen[bytes]] = {}
        self._rasa_env: dict[str, str] = {}
        super().__init__(log_dir)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        if name.startswith("rasa-"):
            args = [str(self.credentials) if a == "bot/credentials.yml" else a for a in args]
            env = {**env, **self._rasa_env}
        if self.nice and (name.startswith("rasa-") or name == "actions"):
            args = ["nice", "-n", str(self.nice), *args]  # exec'd: the pid stays the server's
        proc = super()._spawn(name, args, env)
        self.named[name] = proc
        return proc

    def start_with(self, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a Rasa server on `port` with `env` added to its environment (blocking)."""
        self._rasa_env = env
        return self.start_rasa(port)

    def pids(self) -> dict[str, int]:
        """Live children by role: "rasa :port", "actions", "rasa redis"."""
        roles = {"actions": "actions", "redis": "rasa redis"}
        out: dict[str, int] = {}
        for name, proc in self.named.items():
            if proc.poll() is None:
                out[roles.get(name, name.replace("rasa-", "rasa :"))] = proc.pid
        return out


async def start_rasa(real: PeerRasa, twilio_url: str, action_url: str | None = None
                     ) -> tuple[str, int]:
    """Start one Rasa replica; returns its URL and pid.

    Args:
        real: The action server and tracker store it joins.
        twilio_url: The fake Twilio API its Twilio connector sends to.
        action_url: Another action endpoint (the timing proxy), else the action server.
    """
    port = free_port()
    env = {"PYTHONPATH": str(PATCH_DIR), "PRONTO_BENCH_TWILIO_URL": twilio_url}
    if action_url:
        env["ACTION_ENDPOINT_URL"] = action_url
    proc = await asyncio.to_thread(real.start_with, port, env)
    return f"http://127.0.0.1:{port}", proc.pid


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (VmRSS), None when it is gone."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far, None when it is gone."""
    with suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


async def measured(pids: dict[str, int], work: Coroutine[Any, Any, None]) -> dict[str, Any]:
    """Run `work`; then each named process's RSS (MB) and the CPU seconds it used meanwhile.

    Args:
        pids: The processes to read, by role.
        work: One step's load.

    Returns:
        {"rss_mb": {role: MB}, "cpu_s": {role: seconds}}.
    """
    before = {name: cpu_s(pid) for name, pid in pids.items()}
    await work
    cpu: dict[str, float | None] = {}
    for name, pid in pids.items():
        now, then = cpu_s(pid), before[name]
        cpu[name] = None if now is None or then is None else round(now - then, 1)
    return {"rss_mb": {name: rss_mb(pid) for name, pid in pids.items()}, "cpu_s": cpu}


async def parse_time(http: aiohttp.ClientSession, url: str, text: str) -> float:
    """Seconds one `POST /model/parse` takes (NLU alone)."""
    t0 = time.perf_counter()
    async with http.post(f"{url}/model/parse", json={"text": text},
                         timeout=aiohttp.ClientTimeout(total=30)) as r:
        await r.read()
    return time.perf_counter() - t0


async def quiet(http: aiohttp.ClientSession, url: str, calm: float, timeout: float = 90
                ) -> float:
    """Wait until Rasa has worked off what a step left (two NLU parses in a row under
    `calm` seconds); returns the seconds waited (the wait is reported, not hidden)."""
    t0 = time.perf_counter()
    streak = 0
    while streak < 2 and time.perf_counter() - t0 < timeout:
        try:
            streak = streak + 1 if await parse_time(http, url, "hello") < calm else 0
        except (aiohttp.ClientError, TimeoutError):
            streak = 0
        if streak < 2:
            await asyncio.sleep(0.5)
    return time.perf_counter() - t0


# -- the action server's timing proxy ---------------------------------------------------------


@dataclass
class ActionTimer:
    """Forwards Rasa's action calls to the action server, timing each one."""

    target: str
    calls: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) perf_counter of every action-server call."""
    url: str = ""
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        t0 = time.perf_counter()
        async with self._http.post(f"{self.target}/webhook", data=body,
                                   headers={"Content-Type": "application/json"}) as r:
            answer = await r.read()
            status = r.status
        self.calls.append((t0, time.perf_counter()))
        return web.Response(body=answer, status=status, content_type="application/json")

    async def start(self) -> ActionTimer:
        """Listen on a free port; `url` is the action endpoint to give Rasa."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/webhook"
        return self

    def within(self, t0: float, t1: float) -> list[float]:
        """Durations of the calls that started inside [t0, t1]."""
        return [b - a for a, b in self.calls if t0 <= a <= t1]

    async def stop(self) -> None:
        """Close the listener and the client."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()


# -- Pronto ------------------------------------------------------------------------------------


@dataclass
class ProntoStack:
    """One step's Pronto: its Redis, its database and its processes."""

    pronto: Pronto
    redis: RedisServer
    database: str

    def pids(self) -> dict[str, int]:
        """Live Pronto processes by role."""
        out: dict[str, int] = {}
        if self.pronto.serve_proc is not None and self.pronto.serve_proc.returncode is None:
            out["pronto serve"] = self.pronto.serve_proc.pid
        for name, proc in self.pronto.workers.items():
            if proc.returncode is None:
                out[f"pronto worker {name}"] = proc.pid
        if self.redis.proc is not None and self.redis.proc.returncode is None:
            out["pronto redis"] = self.redis.proc.pid
        return out


@asynccontextmanager
async def pronto_stack(rasa_url: str, twilio_url: str, *, workers: int, use_pg: bool,
                       name: str, folder: Path) -> AsyncIterator[ProntoStack]:
    """A fresh redis-server, database, `pronto serve` and `workers` workers on `rasa_url`.

    Args:
        rasa_url: One Rasa or a comma list of replicas (RASA_URL).
        twilio_url: The fake Twilio API (PRONTO_TWILIO_API_URL).
        workers: `pronto worker` processes.
        use_pg: A fresh PostgreSQL database, else an SQLite file.
        name: Names the database.
        folder: Holds the step's logs and Redis data.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"pronto-{name}-", dir=folder))
    redis = await RedisServer(tmp / "redis").start()
    if use_pg:
        database_url, kind = pg_url(await fresh_database(f"pronto_peer_{name}")), "postgresql"
    else:
        database_url, kind = f"sqlite+aiosqlite:///{tmp / 'pronto.db'}", "sqlite"
    pronto = Pronto(tmp, database_url, redis.url, rasa_url, twilio_url)
    try:
        async with aiohttp.ClientSession() as http:
            await pronto.serve(http)
        for _ in range(workers):
            await pronto.worker()
        await held(redis.url, pronto)
        yield ProntoStack(pronto, redis, kind)
    finally:
        await pronto.close()
        await redis.stop()


async def served_webhooks(http: aiohttp.ClientSession, stack: ProntoStack) -> dict[str, Any]:
    """`pronto serve`'s own view of its webhook answers (`pronto_webhook_seconds`, from
    arrival in the handler to the answer): the bucket bound under which 50 % and 99 % fell.
    The driver's figures also hold its own wait for the CPU it shares with everything."""
    url = f"http://127.0.0.1:{stack.pronto.port}/metrics"
    async with http.get(url, headers={"Authorization": "Bearer bench-admin"}) as r:
        text = await r.text()
    buckets: list[tuple[float, float]] = []
    for line in text.splitlines():
        if line.startswith("pronto_webhook_seconds_bucket{") and 'kind="message"' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(le), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0

    def bound(p: float) -> float | None:
        for le, n in buckets:
            if total and n >= p / 100 * total:
                return None if le == float("inf") else round(le * 1000, 1)
        return None

    return {"served": int(total), "served_p50_le_ms": bound(50), "served_p99_le_ms": bound(99)}


def var_dir() -> Path:
    """The bench's own folder under var/ (credentials, logs)."""
    path = ROOT / "var" / "bench-peer"
    path.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=path))
