"""The `intake:` section of config/pronto.yml: lead sources, their keys and consent basis, and
missed calls. Validated once at start; errors name the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from gateway.config.settings import Settings
from gateway.errors import ConfigError

# The consent basis of leads from the portals whose lead emails Pronto reads: the consumer
# asked, on the portal's contact form, to be contacted about the listing. A brokerage should
# check its own portal agreements and may replace these words in config/pronto.yml.
_PORTAL_BASIS = (
    "The consumer submitted the {portal} contact form asking to be contacted about this "
    "property, under {portal}'s terms of use."
)
DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "zillow": {"consent": _PORTAL_BASIS.format(portal="Zillow")},
    "realtor.com": {"consent": _PORTAL_BASIS.format(portal="Realtor.com")},
    "homes.com": {"consent": _PORTAL_BASIS.format(portal="Homes.com")},
    "idx": {"consent": _PORTAL_BASIS.format(portal="our website's IDX")},
}


class SourceConfig(BaseModel):
    """One lead source (a website, a portal, a campaign tool)."""

    model_config = ConfigDict(extra="forbid")

    key: SecretStr = SecretStr("")
    """Its own bearer key for `POST /api/leads` (else PRONTO_INTAKE_TOKEN)."""
    consent: str = ""
    """The consent basis for leads from this source when the delivery carries none (portal
    emails). Without one, Pronto alerts an agent and does not text."""
    language: str | None = None
    """A default language for this source's leads (a Spanish-language campaign)."""


class IntakeConfig(BaseModel):
    """Validated `intake:` settings."""

    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    dial_timeout_seconds: int = Field(20, ge=5, le=120)
    """How long a call rings the agent before it counts as missed."""
    voicemail_max_seconds: int = Field(120, ge=10, le=600)

    @field_validator("sources")
    @classmethod
    def _names(cls, v: dict[str, SourceConfig]) -> dict[str, SourceConfig]:
        for name in v:
            if not name or len(name) > 64 or not name.replace(".", "").replace("-", "")\
                    .replace("_", "").isalnum():
                raise ValueError(f"source name {name!r}: letters, digits, '.', '-', '_'")
        return v

    def source(self, name: str) -> SourceConfig:
        """The config of a source (an unconfigured source has no key and no basis)."""
        return self.sources.get(name) or SourceConfig()


def load_intake_config(settings: Settings) -> IntakeConfig:
    """Validate `settings.intake`, with the shipped portal sources under it.

    Raises:
        ConfigError: a field is invalid; the message names it.
    """
    raw = dict(settings.intake or {})
    sources = {**DEFAULT_SOURCES, **(raw.get("sources") or {})}
    try:
        return IntakeConfig.model_validate({**raw, "sources": sources})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"intake.{loc}: {first['msg']}") from exc
