"""Compliance configuration (config/compliance.yml): quiet hours, state rules, caps, budgets.

Validated once at start, in the house style of `gateway.config.handoff`: every error names the
file, the line and the field, e.g.
`config/compliance.yml:31: quiet_hours.states.FL.window: '08:00-25:00' is not a time span`.
The validated file is compiled into the pure domain's frozen rules (`QuietRules`, `GateRules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.config.handoff import _compose, _validate  # one YAML error style for all config
from gateway.config.settings import Settings, load_yaml
from gateway.domain.outbound_gate import DEFAULT_MAX_PER_HOUR, GateRules
from gateway.domain.quiet_hours import NATIONAL_WINDOW, STATE_CODES, QuietRules, Span, StatePolicy
from gateway.domain.schedule import parse_days, parse_span
from gateway.errors import ConfigError


def _span(v: str) -> Span:
    start, end = parse_span(v)
    if end < start:
        raise ValueError(
            f"'{v}' crosses midnight; a quiet-hours window is one day's span like 08:00-20:00"
        )
    return start, end


def _fmt(span: Span) -> str:
    return f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateRuleConfig(_Strict):
    """One state under `quiet_hours.states`."""

    window: str | None = None
    """The state's daily window ("08:00-20:00"); default: the national one."""
    days: dict[str, str | None] = Field(default_factory=dict)
    """Per-day overrides ({sun: "12:00-21:00"}); null closes the day."""
    max_starts_per_24h: int | None = Field(default=None, ge=1)
    """At most this many messages Pronto starts on one subject in 24 hours."""

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None:
            _span(v)
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        for days, span in v.items():
            parse_days(str(days))
            if span is not None:
                _span(span)
        return v


class QuietHoursConfig(_Strict):
    """`quiet_hours:`."""

    window: str = _fmt(NATIONAL_WINDOW)
    """The national window every state gets (TCPA: 08:00-21:00)."""
    states: dict[str, StateRuleConfig] = Field(default_factory=dict)

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        _span(v)
        return v

    @field_validator("states", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for code in v:
                if str(code).upper() not in STATE_CODES:
                    raise ValueError(
                        f"'{code}' is not a US state code (use 2 letters like FL, CT, TX)"
                    )
            return {str(k).upper(): val for k, val in v.items()}
        return v


class RateCapConfig(_Strict):
    """`rate_cap:`."""

    per_lead_per_hour: int = Field(default=DEFAULT_MAX_PER_HOUR, ge=1)


class ComplianceFile(_Strict):
    """The whole config/compliance.yml."""

    quiet_hours: QuietHoursConfig = QuietHoursConfig()
    rate_cap: RateCapConfig = RateCapConfig()
    segment_budget: dict[str, int] = Field(default_factory=lambda: {"*": 2})
    """Most SMS segments per message of Pronto's templates, per language ("*": any other)."""

    @field_validator("segment_budget")
    @classmethod
    def _budget(cls, v: dict[str, int]) -> dict[str, int]:
        for lang, limit in v.items():
            if limit < 1:
                raise ValueError(f"budget for '{lang}' must be at least 1 segment")
        return v


@dataclass(frozen=True)
class ComplianceConfig:
    """Validated compliance configuration, compiled for the domain."""

    file: ComplianceFile
    gate: GateRules

    @property
    def quiet(self) -> QuietRules:
        """The quiet-hours rules (also `gate.quiet`)."""
        return self.gate.quiet

    @property
    def segment_budget(self) -> dict[str, int]:
        """Language → most SMS segments per template message."""
        return dict(self.file.segment_budget)


def compliance_path(settings: Settings) -> Path:
    """Where compliance.yml lives: beside the main config file (config/compliance.yml)."""
    return settings.config_path.with_name("compliance.yml")


def load_compliance_config(path: Path) -> ComplianceConfig:
    """Load and validate config/compliance.yml.

    A missing file is an error, not a fallback to defaults: running without the state rules
    would silently text Florida leads at 20:30.

    Raises:
        ConfigError: naming the file, line and field of the first problems found.
    """
    if not path.exists():
        raise ConfigError(f"{path}: file not found (quiet hours and state compliance rules)")
    return build_compliance_config(load_yaml(path), path=path, node=_compose(path))


def build_compliance_config(
    data: Any, *, path: Path = Path("config/compliance.yml"), node: yaml.Node | None = None
) -> ComplianceConfig:
    """Validate already-parsed data; `node` (the YAML node tree) supplies line numbers."""
    parsed = _validate(ComplianceFile, data if data is not None else {}, path, node, ())
    quiet = parsed.quiet_hours
    states = {code: _policy(rule) for code, rule in quiet.states.items()}
    rules = QuietRules(window=_span(quiet.window), states=states)
    for code in states:
        if all(rules.span(code, day) is None for day in range(7)):
            raise ConfigError(
                f"{path}: quiet_hours.states.{code}: no day is left open for starting messages"
            )
    gate = GateRules(quiet=rules, max_per_lead_per_hour=parsed.rate_cap.per_lead_per_hour)
    return ComplianceConfig(parsed, gate)


def _policy(rule: StateRuleConfig) -> StatePolicy:
    days: dict[int, Span | None] = {}
    for spec, span in rule.days.items():
        for day in parse_days(spec):
            days[day] = _span(span) if span is not None else None
    return StatePolicy(
        window=_span(rule.window) if rule.window else None,
        days=days,
        max_starts_per_24h=rule.max_starts_per_24h,
    )
