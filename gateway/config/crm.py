"""CRM push configuration: pronto.yml `crm:` (endpoints, the events each wants, retries).

Validated once at start, like the `handoff:` section; errors name the file, line and field.
A secret is written in the file (`secret:`) or, better, named by an environment variable
(`secret_env:`) that is read here, once, at start with the rest of the configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from gateway.config.handoff import _section_node, _validate
from gateway.config.settings import Settings
from gateway.errors import ConfigError

EVENTS: tuple[str, ...] = (
    "lead.created", "lead.qualified", "handoff.offered", "handoff.accepted", "escalation.step",
    "message.in", "message.out", "appointment.set", "lead.closed", "opt_out", "feedback",
)
"""Every event Pronto pushes (README, "CRM push")."""

FUB_DEFAULT_URL = "https://api.followupboss.com"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Strict):
    """How a failed delivery is retried before it becomes a dead letter."""

    max_attempts: int = Field(default=20, ge=1, le=100)
    base_seconds: float = Field(default=2.0, gt=0)
    """The first wait; each later one doubles (with jitter) up to `max_backoff_seconds`."""
    max_backoff_seconds: float = Field(default=3600.0, gt=0)
    max_age_hours: float = Field(default=24.0, gt=0)
    """An event still undelivered this long after it happened is dead-lettered."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    """One delivery attempt (HTTP request or SMTP session) gives up after this."""


class EndpointConfig(_Strict):
    """One CRM endpoint."""

    name: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    kind: Literal["webhook", "fub", "email"]
    url: str = ""
    """webhook: where to POST; fub: API base (default Follow Up Boss's); email: smtp://host:port."""
    secret: SecretStr | None = None
    """webhook: the signing secret; fub: the API key; email: the SMTP password (optional)."""
    secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding the secret (instead of `secret`)."""
    events: list[str] = Field(min_length=1)
    """The events this endpoint wants; "*" for all of them."""
    include_text: bool = False
    """message.in / message.out carry the message text (off: ids and metadata only)."""
    enabled: bool = True

    # Follow Up Boss.
    system: str = "Pronto"
    """FUB `system` field and `X-System` header: the name of the integration."""
    system_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Environment variable holding FUB's `X-System-Key` (issued when a system is registered)."""
    source: str | None = None
    """FUB `source` (lead flow rules key on it); default: the lead's own source or channel."""

    # Email.
    to: list[str] = Field(default_factory=list)
    sender: str = ""
    username: str | None = None
    starttls: bool = False

    @field_validator("events")
    @classmethod
    def _known_events(cls, v: list[str]) -> list[str]:
        unknown = [e for e in v if e != "*" and e not in EVENTS]
        if unknown:
            raise ValueError(f"unknown event(s) {', '.join(unknown)} (one of {', '.join(EVENTS)}"
                             " or \"*\")")
        return v

    @model_validator(mode="after")
    def _per_kind(self) -> EndpointConfig:
        scheme = urlsplit(self.url).scheme if self.url else ""
        has_secret = self.secret is not None or self.secret_env is not None
        if self.kind == "webhook" and scheme not in ("http", "https"):
            raise ValueError("a webhook endpoint needs an http(s) url")
        if self.kind == "webhook" and not has_secret:
            raise ValueError("a webhook endpoint needs a signing secret (secret or secret_env)")
        if self.kind == "fub" and not has_secret:
            raise ValueError("a fub endpoint needs the API key (secret or secret_env)")
        if self.kind == "fub" and self.url and scheme not in ("http", "https"):
            raise ValueError("a fub url must be http(s)")
        if self.kind == "email" and (scheme != "smtp" or not self.to or not self.sender):
            raise ValueError("an email endpoint needs url smtp://host:port, to and sender")
        return self

    def wants(self, event: str) -> bool:
        """Whether this endpoint is subscribed to `event`."""
        return self.enabled and ("*" in self.events or event in self.events)


class CrmSection(_Strict):
    """pronto.yml `crm:`."""

    endpoints: list[EndpointConfig] = Field(default_factory=list)
    retry: RetryPolicy = RetryPolicy()
    poll_seconds: float = Field(default=1.0, gt=0)
    """How often the delivery loop looks for due deliveries (new events also wake it)."""
    lease_seconds: float = Field(default=60.0, gt=0)
    """How long a process holds a claimed delivery before another may take it over."""

    @field_validator("endpoints")
    @classmethod
    def _unique_names(cls, v: list[EndpointConfig]) -> list[EndpointConfig]:
        names = [e.name for e in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate endpoint name(s) {', '.join(dupes)}")
        return v


class Endpoint:
    """A validated endpoint with its secrets resolved (what the senders use)."""

    def __init__(self, config: EndpointConfig, secret: str, system_key: str) -> None:
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.secret = SecretStr(secret)
        self.system_key = SecretStr(system_key)

    @property
    def url(self) -> str:
        """The endpoint URL (for FUB, its API base, defaulting to Follow Up Boss's)."""
        if self.kind == "fub":
            return (self.config.url or FUB_DEFAULT_URL).rstrip("/")
        return self.config.url


class CrmConfig:
    """The `crm:` section, validated, with secrets resolved."""

    def __init__(self, section: CrmSection, endpoints: list[Endpoint]) -> None:
        self.section = section
        self.retry = section.retry
        self.endpoints = {e.name: e for e in endpoints}

    def subscribers(self, event: str) -> list[str]:
        """Names of the endpoints that want `event`, in configuration order."""
        return [n for n, e in self.endpoints.items() if e.config.wants(event)]


def build_crm_config(
    data: Any, *, environ: Mapping[str, str] | None = None, settings: Settings | None = None,
) -> CrmConfig:
    """Validate an already-parsed `crm:` section and resolve its secrets.

    Args:
        data: the section (a mapping, or None for "off").
        environ: where `secret_env` / `system_key_env` are looked up (default: the process
            environment, read once here at start).
        settings: for error messages, the config file and its line numbers.

    Raises:
        ConfigError: naming the file, line and field of the problem.
    """
    path = settings.config_path if settings else None
    node = _section_node(path, "crm") if path else None
    section = _validate(CrmSection, data or {}, path or Path("config/pronto.yml"), node, ("crm",))
    env = os.environ if environ is None else environ
    endpoints: list[Endpoint] = []
    for i, cfg in enumerate(section.endpoints):
        secret = cfg.secret.get_secret_value() if cfg.secret else ""
        if cfg.secret_env:
            secret = env.get(cfg.secret_env, "")
            if not secret and cfg.enabled and cfg.kind != "email":
                raise ConfigError(f"crm.endpoints[{i}].secret_env: {cfg.secret_env} is not set")
        system_key = env.get(cfg.system_key_env, "") if cfg.system_key_env else ""
        endpoints.append(Endpoint(cfg, secret, system_key))
    return CrmConfig(section, endpoints)


def load_crm_config(settings: Settings) -> CrmConfig:
    """The `crm:` section of the settings, validated (see `build_crm_config`)."""
    return build_crm_config(settings.crm or None, settings=settings)
