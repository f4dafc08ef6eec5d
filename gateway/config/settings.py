"""The one settings object: environment variables over `config/pronto.yml` over defaults.

Read once at start (`load_settings`) and passed down; no other module reads `os.environ`.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.domain.media_policy import TWILIO_MEDIA_HOSTS
from gateway.domain.phones import to_e164
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]  # the repository (gateway/config/settings.py)


class WebchatConfig(BaseModel):
    """Web chat widget settings."""

    origins: list[str] = Field(default_factory=list)
    max_message_chars: int = 1000
    messages_per_minute: int = 20


class WhatsAppConfig(BaseModel):
    """WhatsApp outside its 24-hour window (README "WhatsApp 24-hour window").

    Free-form text is refused by WhatsApp once the lead's last message is 24 hours old; only
    an approved template may go. With `reengage_content_sid` set, an agent's relay outside the
    window sends that template instead (its `variables`, Twilio's "1", "2"… filled from
    `{lead_name}`, `{agent_name}`, `{brokerage}`); unset, the agent is told to call or text.
    """

    model_config = {"extra": "forbid"}

    reengage_content_sid: str = ""
    variables: dict[str, str] = Field(default_factory=dict)
    preview: str = "[WhatsApp template: reconnect]"
    """What the transcript shows for the template (WhatsApp renders the real text)."""

    @field_validator("reengage_content_sid")
    @classmethod
    def _content_sid(cls, value: str) -> str:
        if value and not re.fullmatch(r"HX[0-9a-fA-F]{32}", value):
            raise ValueError("a Twilio ContentSid is HX followed by 32 hex digits")
        return value

    @field_validator("variables")
    @classmethod
    def _numbered(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not (k.isascii() and k.isdigit())]
        if bad:
            raise ValueError(f"template variables are numbered (\"1\", \"2\"…), not {bad}")
        return value


class Settings(BaseSettings):
    """Everything the gateway needs to start. See README "Configuration"."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    config_path: Path = Field(Path("config/pronto.yml"), validation_alias="PRONTO_CONFIG")
    env: Literal["development", "production", "test"] = Field(
        "development", validation_alias="PRONTO_ENV"
    )
    host: str = Field("127.0.0.1", validation_alias="PRONTO_HOST")
    port: int = Field(8080, validation_alias="PRONTO_PORT")
    public_url: str = Field("http://127.0.0.1:8080", validation_alias="PRONTO_PUBLIC_URL")
    var_dir: Path = Field(Path("var"), validation_alias="PRONTO_VAR_DIR")
    database_url: str = Field("", validation_alias="DATABASE_URL")
    redis_url: str = Field("", validation_alias="REDIS_URL")
    rasa_url: str = Field("http://127.0.0.1:5005", validation_alias="RASA_URL")

    twilio_account_sid: str = Field("", validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr = Field(SecretStr(""), validation_alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str = Field("", validation_alias="TWILIO_FROM_NUMBER")
    twilio_whatsapp_from: str = Field("", validation_alias="TWILIO_WHATSAPP_FROM")
    twilio_api_url: str = Field("", validation_alias="PRONTO_TWILIO_API_URL")

    telegram_bot_token: SecretStr = Field(SecretStr(""), validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    telegram_api_url: str = Field("", validation_alias="PRONTO_TELEGRAM_API_URL")
    telegram_polling: bool = Field(False, validation_alias="PRONTO_TELEGRAM_POLLING")

    admin_token: SecretStr = Field(SecretStr(""), validation_alias="PRONTO_ADMIN_TOKEN")
    metrics_public: bool = Field(False, validation_alias="PRONTO_METRICS_PUBLIC")
    """Serve `/metrics` without the admin token (a scraper on a private network)."""
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, validation_alias="PRONTO_WORKER_METRICS_PORT"
    )
    """`pronto worker` serves its own Prometheus metrics (pipeline, outbound, timers) on this
    port: the workers do the work, so their counters are the ones that matter."""
    worker_metrics_host: str = Field("127.0.0.1", validation_alias="PRONTO_WORKER_METRICS_HOST")
    session_secret: SecretStr = Field(SecretStr(""), validation_alias="PRONTO_SESSION_SECRET")
    intake_token: SecretStr = Field(SecretStr(""), validation_alias="PRONTO_INTAKE_TOKEN")
    """The default key for `POST /api/leads` (any source); per-source keys in `intake:`."""
    email_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias="PRONTO_EMAIL_WEBHOOK_SECRET"
    )
    """Authenticates `POST /webhooks/email` (an email provider's inbound-parse webhook)."""
    email_smtp_url: str = Field("", validation_alias="PRONTO_EMAIL_SMTP_URL")
    """Where Pronto sends email to leads who gave only an email: `smtp://host:port` (or
    `smtps://`, or `smtp+starttls://`); unset sends go to the dry-run outbox."""
    email_smtp_user: str = Field("", validation_alias="PRONTO_EMAIL_SMTP_USER")
    email_smtp_password: SecretStr = Field(SecretStr(""),
                                           validation_alias="PRONTO_EMAIL_SMTP_PASSWORD")
    email_from: str = Field("", validation_alias="PRONTO_EMAIL_FROM")
    """From and Reply-To of emails to leads; replies must reach the lead-email listener or
    webhook (e.g. the address forwarded to PRONTO_SMTP_HOST) to continue the conversation."""
    smtp_host: str = Field("", validation_alias="PRONTO_SMTP_HOST")
    smtp_port: int | None = Field(None, ge=0, le=65535, validation_alias="PRONTO_SMTP_PORT")
    """The embedded SMTP listener for forwarded lead emails; off unless both are set."""

    sms_spanish_gsm7: bool = Field(False, validation_alias="PRONTO_SMS_SPANISH_GSM7")
    """Send Spanish SMS in GSM-7: á, í, ó, ú lose their accents (ñ, é, ¿, ¡ stay), so one
    accent no longer makes a text UCS-2 (70 characters a segment instead of 160). A trade-off:
    cheaper and fewer parts, slightly less correct Spanish."""
    brokerage: str = "Pronto Realty"
    """The brokerage's name, used in templates."""
    dashboard_url: str = ""
    """Base URL of the dashboard for links in agent alerts (default: public_url)."""

    # Worker and pipeline tuning.
    run_workers: bool = Field(True, validation_alias="PRONTO_RUN_WORKERS")
    partitions: int = Field(8, validation_alias="PRONTO_PARTITIONS")
    ack_budget_seconds: float = Field(2.5, validation_alias="PRONTO_ACK_BUDGET")
    rasa_timeout_seconds: float = 30.0
    rasa_concurrency: int = Field(8, ge=1, le=256, validation_alias="PRONTO_RASA_CONCURRENCY")
    """Turns one process sends to Rasa at once (per replica list); beyond it, new leads are
    acknowledged at once and their turn waits for a slot."""
    rasa_retry_seconds: float = Field(5.0, validation_alias="PRONTO_RASA_RETRY")
    ack_lane: bool = Field(True, validation_alias="PRONTO_ACK_LANE")
    """A new lead's first message nobody has taken on at 60 % of `ack_budget_seconds` after
    its webhook is acknowledged by the workers' acknowledgement lane (`gateway.ack_lane`),
    however long the queue in front of it (the rest of the budget is for the send)."""
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto", validation_alias="PRONTO_EVENT_LOOP")
    """The loop `pronto serve` and `pronto worker` run on: "auto" is uvloop when installed
    (less CPU a socket operation; `gateway.event_loop`), "asyncio" the standard loop."""
    worker_in_flight: int = Field(32, ge=1, le=4096, validation_alias="PRONTO_WORKER_IN_FLIGHT")
    """Events one worker process works on at once (most wait for a Rasa slot). The rest wait
    in the durable queue, where they cost nothing: taking more only splits the CPU and the
    connection pools among messages Rasa cannot answer sooner."""
    redis_max_connections: int = Field(
        64, ge=4, le=10000, validation_alias="PRONTO_REDIS_MAX_CONNECTIONS")
    """Connections one process opens to Redis at most; past it a command waits for a free
    one (up to 20 s) instead of failing."""
    lease_seconds: float = Field(15.0, validation_alias="PRONTO_LEASE_SECONDS")
    outbox_lease_seconds: float = Field(
        120.0, ge=5.0, validation_alias="PRONTO_OUTBOX_LEASE_SECONDS"
    )
    """How long the process that queued a message holds it before any sweeper may send it
    (renewed while its send retries); a message a dead process left waits this long."""
    stall_after_seconds: float = Field(
        300.0, ge=60.0, validation_alias="PRONTO_STALL_AFTER_SECONDS"
    )
    """A message pending for the bot this long with no retry timer is resumed by the workers'
    stall sweep (`gateway.bot_stalls`); longer than any Rasa turn plus its queueing."""
    nlu_fallback_threshold: float = 0.5

    # Media (README "Media"): a lead's attachments, fetched by the worker under these caps.
    media_fetch: bool = Field(True, validation_alias="PRONTO_MEDIA_FETCH")
    """Fetch and store inbound attachments (off: each is recorded as "refused:disabled")."""
    media_hosts: list[str] = Field(default_factory=lambda: list(TWILIO_MEDIA_HOSTS),
                                   validation_alias="PRONTO_MEDIA_HOSTS")
    """The only hosts media is fetched from, on every redirect hop (`name` or `*.domain`)."""
    media_max_bytes: int = Field(5 * 1024 * 1024, ge=1, validation_alias="PRONTO_MEDIA_MAX_BYTES")
    media_timeout_seconds: float = Field(10.0, gt=0, validation_alias="PRONTO_MEDIA_TIMEOUT")
    """The time cap of one attachment's fetch, redirects included."""

    # Language.
    languages: list[str] = Field(default_factory=lambda: ["en", "es"])
    default_language: str = "en"
    numbers: dict[str, str] = Field(default_factory=dict)
    """Per business number (E.164 or "whatsapp:+…") default language for new leads."""

    templates_path: Path = Path("config/templates.yml")
    agents_path: Path = Field(Path("config/agents.yml"), validation_alias="PRONTO_AGENTS")
    webchat: WebchatConfig = Field(default_factory=WebchatConfig)
    whatsapp: WhatsAppConfig = Field(default_factory=WhatsAppConfig)
    intake: dict[str, Any] = Field(default_factory=dict)
    """The `intake:` section of pronto.yml (sources, their keys and consent basis, missed
    calls), validated by `gateway.config.intake`."""
    handoff: dict[str, Any] = Field(default_factory=dict)
    """The `handoff:` section of pronto.yml (routing, SLAs, business hours), validated by
    `gateway.config.handoff`."""
    crm: dict[str, Any] = Field(default_factory=dict)
    """The `crm:` section of pronto.yml (endpoints pushed every lead and step), validated by
    `gateway.config.crm`."""

    @field_validator("numbers")
    @classmethod
    def _numbers_e164(cls, value: dict[str, str]) -> dict[str, str]:
        # Adapters hand over our number in E.164, so keys written "whatsapp:+1…" or
        # "(305) 555-0100" are normalised once here; other keys (a channel name) stay as they are.
        return {(to_e164(k) or k): v for k, v in value.items()}

    @field_validator("public_url", "rasa_url", "twilio_api_url", "telegram_api_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @property
    def twilio_enabled(self) -> bool:
        """True when real Twilio credentials are set; otherwise sends go to the dry-run outbox."""
        return bool(self.twilio_account_sid and self.twilio_auth_token.get_secret_value())

    @property
    def telegram_enabled(self) -> bool:
        """True when a Telegram bot token is set."""
        return bool(self.telegram_bot_token.get_secret_value())

    @property
    def media_dir(self) -> Path:
        """Where fetched attachments are kept, each named by its SHA-256."""
        return self.var_dir / "media"

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file under var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'pronto.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the top-level keys of the YAML file named by PRONTO_CONFIG (field names)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("PRONTO_CONFIG", "config/pronto.yml"))
        if not path.exists():
            return {}
        data = load_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        known = set(Settings.model_fields)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        return data


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax errors into a ConfigError naming file and line."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: {exc.problem}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once at start; fills development secrets and checks production ones.

    Raises:
        ConfigError: a value is invalid, or production mode lacks a required secret.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {loc}: {first['msg']}") from exc
    return _fill_secrets(settings)


def _fill_secrets(settings: Settings) -> Settings:
    if settings.env == "production":
        missing = [
            name
            for name, value in (
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                ("PRONTO_ADMIN_TOKEN", settings.admin_token),
                ("PRONTO_SESSION_SECRET", settings.session_secret),
            )
            if not value.get_secret_value()
        ]
        if missing:
            raise ConfigError(
                "production mode refuses to start without "
                + ", ".join(missing)
                + " (webhooks would be unverifiable)"
            )
        return settings
    # Development: secrets are generated once and kept under var/ so webhooks are still signed
    # and verified (never "accept everything"), and `make run` can print them.
    path = settings.var_dir / "dev-secrets.yml"
    stored: dict[str, str] = {}
    if path.exists():
        stored = yaml.safe_load(path.read_text()) or {}
    changed = False
    for key in ("twilio_auth_token", "admin_token", "session_secret", "telegram_webhook_secret",
                "intake_token", "email_webhook_secret"):
        if not getattr(settings, key).get_secret_value():
            if key not in stored:
                stored[key] = secrets.token_urlsafe(24)
                changed = True
            settings = settings.model_copy(update={key: SecretStr(stored[key])})
    if changed:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(stored))
        path.chmod(0o600)
    return settings
