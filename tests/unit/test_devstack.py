"""`make run`'s pieces: commands from settings, the banner and signed curl, and the supervisor
driven with a trivial HTTP server as a fake component (free ports only; nothing left running)."""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from gateway.config.settings import Settings
from gateway.dev import devstack
from gateway.dev.supervisor import Component, ComponentFailed, Supervisor, supervise

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Settings built here must not depend on whatever config/pronto.yml holds today.
    monkeypatch.setenv("PRONTO_CONFIG", str(tmp_path / "absent.yml"))


def make_settings(**kw: object) -> Settings:
    base: dict[str, object] = {
        "env": "test",
        "twilio_auth_token": SecretStr("tok-123"),
        "admin_token": SecretStr("adm-456"),
        "telegram_bot_token": SecretStr(""),
        "twilio_account_sid": "",
        "twilio_from_number": "",
        "public_url": "https://pronto.example.com",
        "rasa_url": "http://127.0.0.1:5005",
        "host": "127.0.0.1",
        "port": 8080,
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_server(name: str, port: int, **kw: object) -> Component:
    return Component(
        name=name,
        argv=(sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"),
        health_url=f"http://127.0.0.1:{port}/",
        **kw,  # type: ignore[arg-type]
    )


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A reparented zombie still "exists" until init reaps it; it is not running.
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return True


# --- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:5005", True),
        ("http://localhost:5005", True),
        ("http://[::1]:5005", True),
        ("http://0.0.0.0:5005", True),
        ("http://rasa:5005", False),
        ("https://bot.example.com", False),
    ],
)
def test_is_local_url(url: str, local: bool) -> None:
    assert devstack.is_local_url(url) is local


def test_url_port_defaults_by_scheme() -> None:
    assert devstack.url_port("http://localhost:5999/x") == 5999
    assert devstack.url_port("http://localhost") == 80
    assert devstack.url_port("https://localhost") == 443


def test_plan_local_rasa_starts_actions_and_rasa_in_parallel_then_gateway() -> None:
    settings = make_settings(rasa_url="http://localhost:5999")
    stages = devstack.plan(settings, root=Path("/r"))
    assert [[c.name for c in s] for s in stages] == [["actions", "rasa"], ["gateway"]]
    actions, rasa = stages[0]
    assert actions.argv == ("/r/.venv-rasa/bin/rasa", "run", "actions", "--actions", "actions",
                            "--port", "5055")
    assert actions.health_url == "http://127.0.0.1:5055/health"
    assert rasa.argv[:3] == ("/r/.venv-rasa/bin/rasa", "run", "--enable-api")
    args = " ".join(rasa.argv)
    assert "--model models/pronto.tar.gz" in args
    endpoints = settings.var_dir / "rasa-endpoints.yml"
    assert f"--endpoints {endpoints} --credentials bot/credentials.yml" in args
    assert rasa.argv[-2:] == ("--port", "5999")
    assert rasa.health_url == "http://127.0.0.1:5999/status"
    assert rasa.env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert rasa.ready is devstack.rasa_model_loaded
    (gateway,) = stages[1]
    assert gateway.argv == ("/r/.venv/bin/pronto", "serve")
    assert gateway.health_url == "http://127.0.0.1:8080/readyz"


def test_plan_remote_rasa_starts_only_the_gateway() -> None:
    stages = devstack.plan(make_settings(rasa_url="http://rasa:5005", host="0.0.0.0", port=9000))
    assert [[c.name for c in s] for s in stages] == [["gateway"]]
    assert stages[0][0].health_url == "http://127.0.0.1:9000/readyz"


def test_rasa_model_loaded() -> None:
    assert devstack.rasa_model_loaded(b'{"model_file": "pronto.tar.gz", "model_id": "abc"}')
    assert not devstack.rasa_model_loaded(b'{"model_file": null, "model_id": null}')
    assert not devstack.rasa_model_loaded(b"Hello from Rasa: 3.6.21")


def test_signed_curl_carries_a_signature_twilio_would_accept() -> None:
    url = "https://pronto.example.com/webhooks/twilio"
    params = devstack.sample_params(make_settings(twilio_from_number="+13055550199"), "SM1")
    assert params == {"From": "+13055550123", "To": "+13055550199",
                      "Body": "Hola, busco casa en Miami", "MessageSid": "SM1"}
    words = shlex.split(devstack.signed_curl(url, "tok-123", params).replace("\\\n", " "))
    assert words[:5] == ["curl", "-sS", "-X", "POST", url]
    header = words[words.index("-H") + 1]
    assert header.startswith("X-Twilio-Signature: ")
    sent = dict(
        w.split("=", 1) for i, w in enumerate(words) if words[i - 1] == "--data-urlencode"
    )
    assert sent == params
    assert RequestValidator("tok-123").validate(url, sent, header.split(": ", 1)[1])
    assert not RequestValidator("other").validate(url, sent, header.split(": ", 1)[1])


def test_banner_dry_run_lists_urls_and_a_signed_example() -> None:
    text = devstack.banner(make_settings(), message_sid="SMfixed")
    assert "http://127.0.0.1:8080/admin/?token=adm-456" in text
    assert "http://127.0.0.1:8080/chat/demo" in text
    assert "POST https://pronto.example.com/webhooks/twilio\n" in text
    assert "POST https://pronto.example.com/webhooks/twilio/status" in text
    assert "DRY-RUN" in text and "Telegram        off" in text
    assert "simulate" in text and "MessageSid=SMfixed" in text


def test_banner_live_twilio_and_telegram_webhook() -> None:
    text = devstack.banner(make_settings(
        twilio_account_sid="AC1", telegram_bot_token=SecretStr("1:A"),
        telegram_webhook_secret=SecretStr("hook-secret"),
    ))
    assert "LIVE" in text
    assert "https://pronto.example.com/webhooks/telegram" in text
    assert "secret_token=hook-secret" in text
    assert "1:A" not in text  # the bot token stays a shell variable


def test_preflight_names_missing_pieces_and_busy_ports(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problems = devstack.preflight(make_settings(port=port), root=tmp_path)
    text = "\n".join(problems)
    assert "make setup" in text and "make train" in text
    assert f"gateway: port {port} is already in use" in text


def test_main_exits_2_on_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "pronto.yml"
    bad.write_text("port: [unclosed\n")
    monkeypatch.setenv("PRONTO_CONFIG", str(bad))
    assert devstack.main() == 2
    assert "configuration error" in capsys.readouterr().err


# --- the supervisor with fake components -------------------------------------------------------


def supervisor(tmp_path: Path) -> tuple[Supervisor, io.StringIO]:
    out = io.StringIO()
    return Supervisor(tmp_path / "logs", cwd=tmp_path, base_env=dict(os.environ), out=out), out


async def test_starts_waits_for_health_and_stops(tmp_path: Path) -> None:
    sup, out = supervisor(tmp_path)
    await sup.start_stage([http_server("one", free_port()), http_server("two", free_port())])
    pids = [c.proc.pid for c in sup.children]
    assert "one      ready" in out.getvalue() and "two      ready" in out.getvalue()
    sup.stop_all(grace=5)
    assert all(gone(pid) for pid in pids)
    assert (tmp_path / "logs" / "one.log").exists()


async def test_child_exiting_early_fails_with_its_log_tail(tmp_path: Path) -> None:
    sup, _ = supervisor(tmp_path)
    code = "print('boom: bad model'); raise SystemExit(3)"
    crash = Component("crashy", (sys.executable, "-c", code), f"http://127.0.0.1:{free_port()}/")
    slow = http_server("slow", free_port(), ready=lambda body: False)  # never ready
    try:
        with pytest.raises(ComponentFailed, match=r"(?s)crashy exited with code 3.*boom: bad"):
            await sup.start_stage([crash, slow])  # fails fast, not after slow's timeout
    finally:
        sup.stop_all(grace=5)


async def test_health_timeout_names_the_component(tmp_path: Path) -> None:
    sup, _ = supervisor(tmp_path)
    comp = http_server("sleepy", free_port(), timeout=0.5, ready=lambda body: False)
    try:
        with pytest.raises(ComponentFailed, match="sleepy was not ready after"):
            await sup.start_stage([comp])
    finally:
        sup.stop_all(grace=5)


async def test_supervise_stops_on_request_and_reports_ready(tmp_path: Path) -> None:
    sup, out = supervisor(tmp_path)
    stop = asyncio.Event()
    seen: list[int] = []

    def ready() -> None:
        seen.extend(c.proc.pid for c in sup.children)
        stop.set()

    code = await supervise([[http_server("web", free_port())]], sup, ready, stop)
    assert code == 0 and len(seen) == 1 and gone(seen[0])
    assert "Stopped." in out.getvalue()


async def test_supervise_fails_when_a_child_dies_after_start(tmp_path: Path) -> None:
    sup, out = supervisor(tmp_path)
    port = free_port()
    script = (f"import http.server,threading,time;s=http.server.HTTPServer(('127.0.0.1',{port}),"
              "http.server.SimpleHTTPRequestHandler);threading.Thread(target=s.serve_forever,"
              "daemon=True).start();time.sleep(1.5);print('dying now',flush=True)")
    comp = Component("flaky", (sys.executable, "-c", script), f"http://127.0.0.1:{port}/")
    code = await supervise([[comp]], sup)
    assert code == 1
    assert "flaky exited unexpectedly with code 0" in out.getvalue()
    assert "dying now" in out.getvalue()


def test_sigint_stops_children_even_stubborn_ones(tmp_path: Path) -> None:
    # A real Ctrl-C on a real process: the supervisor must SIGTERM, then SIGKILL a child that
    # ignores SIGTERM, and leave nothing running.
    port, port2 = free_port(), free_port()
    stubborn = (f"import signal,http.server;signal.signal(signal.SIGTERM,signal.SIG_IGN);"
                f"http.server.HTTPServer(('127.0.0.1',{port2}),"
                "http.server.SimpleHTTPRequestHandler).serve_forever()")
    driver = textwrap.dedent(f"""
        import asyncio, os, sys
        from pathlib import Path
        from gateway.dev import supervisor as s
        s.STOP_GRACE_SECONDS = 1.0
        sup = s.Supervisor(Path({str(tmp_path)!r}) / "logs", Path.cwd(), dict(os.environ),
                           sys.stdout)
        stages = [
            [s.Component("web", (sys.executable, "-m", "http.server", "{port}", "--bind",
                                  "127.0.0.1"), "http://127.0.0.1:{port}/")],
            [s.Component("stubborn", (sys.executable, "-c", {stubborn!r}),
                         "http://127.0.0.1:{port2}/")],
        ]
        def ready():
            print("PIDS", *[c.proc.pid for c in sup.children], flush=True)
        sys.exit(asyncio.run(s.supervise(stages, sup, ready)))
    """)
    proc = subprocess.Popen([sys.executable, "-c", driver], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        pids: list[int] = []
        for line in proc.stdout:
            if line.startswith("PIDS"):
                pids = [int(p) for p in line.split()[1:]]
                break
        assert len(pids) == 2
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, rest
        assert time.monotonic() - started < 15
        assert "Stopped." in rest
        assert all(gone(pid) for pid in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_make_run_keeps_rasa_conversations_across_a_restart() -> None:
    embedded = devstack.rasa_endpoints(make_settings(), "http://127.0.0.1:5055")
    assert "type: SQL" in embedded and "rasa-trackers.db" in embedded
    assert 'url: "http://127.0.0.1:5055/webhook"' in embedded
    server = devstack.rasa_endpoints(make_settings(redis_url="redis://127.0.0.1:6380/3"),
                                     "http://127.0.0.1:5055")
    assert "type: redis" in server and "port: 6380" in server and "db: 3" in server
    assert "key_prefix: rasa" in server
