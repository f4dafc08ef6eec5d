"""config/followup.yml: the follow-up sequences, validated once at start (errors name the
field), compiled into `gateway.domain.followup` steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.config.settings import Settings, load_yaml
from gateway.domain.followup import NEXT_MORNING, Step, parse_offset


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepConfig(_Strict):
    """One step: `after` an offset, or `at` a named moment."""

    template: str
    after: str | None = None
    at: str | None = None

    @field_validator("after")
    @classmethod
    def _offset(cls, v: str | None) -> str | None:
        if v is not None:
            parse_offset(v)
        return v

    @field_validator("at")
    @classmethod
    def _moment(cls, v: str | None) -> str | None:
        if v is not None and v != NEXT_MORNING:
            raise ValueError(f"unknown moment {v!r} (known: {NEXT_MORNING})")
        return v


class SilentConfig(_Strict):
    """The silent-lead sequence."""

    enabled: bool = True
    steps: list[StepConfig] = Field(default_factory=list)


class ReengageConfig(_Strict):
    """The one check-in for a cold lead."""

    enabled: bool = True
    after: str = "90d"
    template: str = "reengage"

    @field_validator("after")
    @classmethod
    def _offset(cls, v: str) -> str:
        parse_offset(v)
        return v


class FeedbackConfig(_Strict):
    """CSAT after a close, NPS after a won deal; scores at or below `low_*` alert."""

    csat_after: str = "1d"
    nps_after: str = "14d"
    low_csat: int = Field(default=2, ge=1, le=5)
    low_nps: int = Field(default=6, ge=0, le=10)

    @field_validator("csat_after", "nps_after")
    @classmethod
    def _offset(cls, v: str) -> str:
        parse_offset(v)
        return v


class AppointmentsConfig(_Strict):
    """Reminders before an appointment, as offsets ("24h", "2h")."""

    reminders: list[str] = Field(default_factory=lambda: ["24h", "2h"])

    @field_validator("reminders")
    @classmethod
    def _offsets(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_offset(item)
        return v


class FollowupFile(_Strict):
    """The whole file."""

    silent: SilentConfig = Field(default_factory=SilentConfig)
    reengage: ReengageConfig = Field(default_factory=ReengageConfig)
    feedback: FeedbackConfig = Field(default_factory=lambda: FeedbackConfig())
    appointments: AppointmentsConfig = Field(default_factory=AppointmentsConfig)
    templates: dict[str, dict[str, list[str]]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FollowupConfig:
    """The compiled sequences and their texts."""

    silent: tuple[Step, ...]
    reengage_after: timedelta | None
    reengage_template: str
    templates: dict[str, dict[str, list[str]]]
    feedback: FeedbackConfig = field(default_factory=lambda: FeedbackConfig())
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))

    def variants(self, template: str, language: str) -> list[str]:
        """The variants of a template in a language (English when it has none)."""
        langs = self.templates.get(template, {})
        return langs.get(language) or langs.get("en") or []


def followup_path(settings: Settings) -> Path:
    """config/followup.yml, beside the main config file."""
    return settings.config_path.with_name("followup.yml")


def load_followup_config(path: Path, languages: list[str]) -> FollowupConfig:
    """Load and validate the follow-up file; a missing file turns follow-up off.

    Raises:
        ConfigError: a field is wrong, or a step names a template missing in a language.
    """
    from gateway.errors import ConfigError

    if not path.exists():
        return FollowupConfig((), None, "reengage", {})
    data: Any = load_yaml(path) or {}
    try:
        parsed = FollowupFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {loc}: {first['msg']}") from exc
    used = [s.template for s in parsed.silent.steps]
    if parsed.reengage.enabled:
        used.append(parsed.reengage.template)
    for name in used:
        for lang in languages:
            if not parsed.templates.get(name, {}).get(lang):
                raise ConfigError(f"{path}: templates.{name}.{lang}: missing (a step uses it)")
    steps = tuple(
        Step(s.template, parse_offset(s.after) if s.after else None, s.at)
        for s in parsed.silent.steps
    ) if parsed.silent.enabled else ()
    for s in parsed.silent.steps:
        if (s.after is None) == (s.at is None):
            raise ConfigError(f"{path}: silent.steps ({s.template}): give `after` or `at`")
    return FollowupConfig(
        steps,
        parse_offset(parsed.reengage.after) if parsed.reengage.enabled else None,
        parsed.reengage.template,
        parsed.templates,
        parsed.feedback,
        tuple(parse_offset(r) for r in parsed.appointments.reminders),
    )
