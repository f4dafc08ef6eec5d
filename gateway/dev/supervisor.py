"""A small process supervisor: start components in stages, wait for their health URLs, watch
them, and stop them in reverse order. Generic on purpose (`gateway.dev.devstack` feeds it Pronto's
components; tests feed it a trivial HTTP server).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.25
PROGRESS_EVERY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Component:
    """One child process and how to tell it is ready.

    Attributes:
        name: short name, also the log file's stem (`var/logs/<name>.log`).
        argv: the command line.
        health_url: polled with GET until it answers 200 (and `ready` accepts the body).
        timeout: seconds to wait for health before giving up.
        env: extra environment variables on top of this process's environment.
        ready: optional check of the 200 body (Rasa answers /status before a model is loaded).
        what: what the wait is for, shown in the progress lines.
    """

    name: str
    argv: tuple[str, ...]
    health_url: str
    timeout: float = 120.0
    env: dict[str, str] = field(default_factory=dict)
    ready: Callable[[bytes], bool] | None = None
    what: str = "starting"


class ComponentFailed(Exception):
    """A child exited, or did not become healthy in time; the message names it and its log."""


def tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file (empty if it does not exist)."""
    try:
        data = path.read_bytes()[-64_000:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


@dataclass(slots=True)
class _Child:
    component: Component
    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]


class Supervisor:
    """Starts components in their own process groups, waits for health, stops them in reverse.

    Args:
        log_dir: where each child's output goes, as `<name>.log`.
        cwd: the children's working directory (the repo root).
        base_env: the children's environment before each component's own additions.
        out: where progress lines go.
    """

    def __init__(self, log_dir: Path, cwd: Path, base_env: dict[str, str], out: IO[str]) -> None:
        self.log_dir = log_dir
        self.cwd = cwd
        self.base_env = base_env
        self.out = out
        self.children: list[_Child] = []

    def say(self, text: str) -> None:
        """Print a progress line at once (make and pipes buffer otherwise)."""
        print(text, file=self.out, flush=True)

    def spawn(self, component: Component) -> _Child:
        """Start one component, its output going to its log file."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{component.name}.log"
        log = log_path.open("wb")
        try:
            proc = subprocess.Popen(
                component.argv,
                cwd=self.cwd,
                env={**self.base_env, **component.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: the terminal's Ctrl-C reaches only us, so we stop the
                # children in order, and killpg also reaches whatever the child forked.
                start_new_session=True,
            )
        except OSError as exc:
            log.close()
            raise ComponentFailed(
                f"{component.name}: cannot start {component.argv[0]}: {exc}"
            ) from exc
        child = _Child(component, proc, log_path, log)
        self.children.append(child)
        return child

    def failure(self, child: _Child, reason: str) -> ComponentFailed:
        """A ComponentFailed naming the component and carrying its log's tail."""
        text = tail(child.log_path)
        return ComponentFailed(
            f"{child.component.name} {reason}. Last lines of {child.log_path}:\n{text}"
        )

    async def wait_healthy(self, child: _Child) -> float:
        """Poll the child's health URL until it is ready; returns the seconds it took.

        Raises:
            ComponentFailed: the child exited, or `timeout` passed.
        """
        comp = child.component
        started = time.monotonic()
        next_note = started + PROGRESS_EVERY_SECONDS
        while True:
            code = child.proc.poll()
            if code is not None:
                raise self.failure(child, f"exited with code {code} before it was ready")
            if await asyncio.to_thread(_probe, comp.health_url, comp.ready):
                return time.monotonic() - started
            now = time.monotonic()
            if now - started > comp.timeout:
                raise self.failure(
                    child, f"was not ready after {comp.timeout:.0f}s ({comp.health_url})"
                )
            if now >= next_note:
                self.say(f"  … {comp.name:<8} {comp.what} ({now - started:.0f}s)")
                next_note = now + PROGRESS_EVERY_SECONDS
            await asyncio.sleep(POLL_SECONDS)

    async def start_stage(self, stage: Sequence[Component]) -> None:
        """Start a stage's components together and wait until all are healthy.

        Fails fast: the first component that fails cancels the wait for the others.
        """
        for comp in stage:
            self.say(f"  ▸ {comp.name:<8} starting (log: {self.log_dir / (comp.name + '.log')})")
        children = [self.spawn(c) for c in stage]
        tasks = {asyncio.ensure_future(self.wait_healthy(ch)): ch for ch in children}
        pending = set(tasks)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    seconds = task.result()  # re-raises ComponentFailed
                    self.say(f"  ✓ {tasks[task].component.name:<8} ready in {seconds:.1f}s")
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def watch(self, stop: asyncio.Event) -> None:
        """Return when `stop` is set; raise ComponentFailed if a child exits first."""
        while not stop.is_set():
            for child in self.children:
                code = child.proc.poll()
                if code is not None:
                    raise self.failure(child, f"exited unexpectedly with code {code}")
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS * 2)
            except TimeoutError:
                pass

    def stop_all(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM each child's process group in reverse start order; SIGKILL after `grace`."""
        for child in reversed(self.children):
            _stop_group(child.proc, grace)
            child.log.close()
            if child.proc.returncode not in (None, 0, -signal.SIGTERM):
                self.say(f"  ■ {child.component.name} stopped (code {child.proc.returncode})")
        self.children.clear()


def _stop_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # Even when the leader has exited, a forked grandchild may linger in the group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _probe(url: str, ready: Callable[[bytes], bool] | None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:
            body: bytes = resp.read()
            return resp.status == 200 and (ready is None or ready(body))
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except (OSError, ValueError):
        return False


async def supervise(
    stages: Sequence[Sequence[Component]],
    supervisor: Supervisor,
    on_ready: Callable[[], None] = lambda: None,
    stop: asyncio.Event | None = None,
) -> int:
    """Start the stages, call `on_ready`, run until SIGINT/SIGTERM or a child's death.

    Returns:
        0 after a requested stop, 1 when a component failed (its log tail is printed).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        for stage in stages:
            starting = asyncio.ensure_future(supervisor.start_stage(stage))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not starting.done():  # Ctrl-C while waiting: stop what has started.
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
                return 0
            starting.result()
        on_ready()
        await supervisor.watch(stop)
    except ComponentFailed as exc:
        supervisor.say(f"\nERROR: {exc}")
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        supervisor.say("\nStopping…")
        await asyncio.to_thread(supervisor.stop_all)
        supervisor.say("Stopped.")
    return code
