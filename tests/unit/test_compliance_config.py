"""Compliance configuration: the shipped file loads with its rules; errors name line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.compliance import (
    ComplianceConfig,
    build_compliance_config,
    compliance_path,
    load_compliance_config,
)
from gateway.config.settings import Settings
from gateway.domain.quiet_hours import NATIONAL_WINDOW, StatePolicy
from gateway.domain.segments import check_templates
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "compliance.yml"


def load(tmp_path: Path, text: str) -> ComplianceConfig:
    path = tmp_path / "compliance.yml"
    path.write_text(text, encoding="utf-8")
    return load_compliance_config(path)


def test_shipped_file_has_every_state_rule() -> None:
    cfg = load_compliance_config(SHIPPED)
    q = cfg.quiet
    assert q.window == NATIONAL_WINDOW == (480, 1260)
    for state in ("FL", "OK", "MD", "MS", "NJ"):
        assert q.states[state].window == (480, 1200), state
    assert q.states["CT"] == StatePolicy(window=(540, 1200))
    assert q.states["TX"] == StatePolicy(days={6: (720, 1260)})
    assert q.states["FL"].max_starts_per_24h == 3
    assert q.states["OK"].max_starts_per_24h == 3
    assert {s for s, p in q.states.items() if p.max_starts_per_24h} == {"FL", "OK"}
    assert cfg.gate.max_per_lead_per_hour == 30
    assert cfg.segment_budget == {"en": 2, "es": 2}


def test_shipped_file_cites_its_sources() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    for source in ("64.1200", "501.059", "501.616", "Oklahoma Telephone Solicitation Act",
                   "Stop the Spam Calls Act", "42-288a", "301.051", "305.053"):
        assert source in text, source


def test_shipped_file_sits_beside_pronto_yml() -> None:
    settings = Settings(config_path=ROOT / "config" / "pronto.yml")  # type: ignore[call-arg]
    assert compliance_path(settings) == SHIPPED


def test_shipped_budget_reports_the_long_spanish_templates() -> None:
    import yaml

    cfg = load_compliance_config(SHIPPED)
    templates = yaml.safe_load((ROOT / "config" / "templates.yml").read_text(encoding="utf-8"))
    warnings = check_templates(templates, cfg.segment_budget)
    assert all("(es)" in w for w in warnings)


def test_empty_file_gives_the_national_defaults(tmp_path: Path) -> None:
    cfg = load(tmp_path, "")
    assert cfg.quiet.window == NATIONAL_WINDOW
    assert cfg.quiet.states == {}
    assert cfg.gate.max_per_lead_per_hour == 30


def test_state_codes_are_upper_cased_and_days_expand(tmp_path: Path) -> None:
    cfg = load(tmp_path, "quiet_hours:\n  states:\n    tx: {days: {sat-sun: '12:00-21:00'}}\n")
    assert cfg.quiet.states["TX"].days == {5: (720, 1260), 6: (720, 1260)}


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_compliance_config(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("quiet_hours:\n  window: '8am-9pm'\n", ":2: quiet_hours.window: '8am-9pm' is not"),
        (
            "quiet_hours:\n  states:\n    FL:\n      window: '08:00-25:00'\n",
            ":4: quiet_hours.states.FL.window:",
        ),
        (
            "quiet_hours:\n  states:\n    FL:\n      window: '20:00-08:00'\n",
            "crosses midnight",
        ),
        (
            "quiet_hours:\n  states:\n    FL:\n      max_starts_per_24h: 0\n",
            ":4: quiet_hours.states.FL.max_starts_per_24h:",
        ),
        (
            "quiet_hours:\n  states:\n    TX:\n      days: {sunday-ish: '12:00-21:00'}\n",
            ":4: quiet_hours.states.TX.days: unknown day",
        ),
        ("quiet_hours:\n  states:\n    ZZ: {window: '08:00-20:00'}\n", "'ZZ' is not a US state"),
        (
            "quiet_hours:\n  states:\n    FL:\n      widow: '08:00-20:00'\n",
            ":4: quiet_hours.states.FL.widow: Extra inputs",
        ),
        ("rate_cap:\n  per_lead_per_hour: 0\n", ":2: rate_cap.per_lead_per_hour:"),
        ("segment_budget:\n  es: 0\n", "segment_budget: budget for 'es'"),
        ("quiet_hours: [1, 2]\n", "quiet_hours:"),
    ],
)
def test_bad_data_names_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert str(tmp_path / "compliance.yml") in str(err.value)
    assert where in str(err.value)


def test_a_state_window_outside_the_national_one_leaves_no_day(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"quiet_hours\.states\.FL: no day is left open"):
        load(tmp_path, "quiet_hours:\n  states:\n    FL: {window: '21:00-23:00'}\n")


def test_every_day_closed_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no day is left open"):
        load(tmp_path, "quiet_hours:\n  states:\n    MS: {days: {daily: null}}\n")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"compliance.yml:\d+: "):
        load(tmp_path, "quiet_hours:\n  window: [\n")


def test_build_without_nodes_still_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"compliance.yml:\?: rate_cap.per_lead_per_hour"):
        build_compliance_config({"rate_cap": {"per_lead_per_hour": -1}})
