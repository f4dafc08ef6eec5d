"""Handoff configuration: the shipped files load; errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.handoff import load_handoff_config
from gateway.config.settings import Settings
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

AGENTS = """\
teams:
  miami: {lead: carmen}
agents:
  - key: ana
    name: Ana
    phone: "+13055550101"
    languages: [es, en]
    timezone: America/New_York
    hours: {mon-fri: "09:00-18:00"}
    team: miami
  - key: carmen
    name: Carmen
    phone: "+13055550105"
    languages: [es]
    timezone: America/New_York
    team: miami
"""


def settings(tmp_path: Path, agents: str = AGENTS, pronto: str = "handoff: {}\n") -> Settings:
    (tmp_path / "agents.yml").write_text(agents)
    (tmp_path / "pronto.yml").write_text(pronto)
    import yaml

    handoff = (yaml.safe_load(pronto) or {}).get("handoff") or {}
    return Settings(config_path=tmp_path / "pronto.yml", agents_path=tmp_path / "agents.yml",
                    handoff=handoff)


def error(s: Settings) -> str:
    with pytest.raises(ConfigError) as exc:
        load_handoff_config(s)
    return str(exc.value)


def test_shipped_config_loads() -> None:
    s = Settings(config_path=ROOT / "config/pronto.yml", agents_path=ROOT / "config/agents.yml")
    import yaml

    s = s.model_copy(update={"handoff": yaml.safe_load(
        (ROOT / "config/pronto.yml").read_text())["handoff"]})
    cfg = load_handoff_config(s)
    assert len(cfg.team.agents) >= 4
    assert sum("es" in a.languages for a in cfg.team.agents) >= 2
    assert cfg.team_lead("miami") is not None
    assert any(a.on_call for a in cfg.team.agents)
    assert cfg.policy.accept.deadline_minutes.business == 5


def test_defaults(tmp_path: Path) -> None:
    cfg = load_handoff_config(settings(tmp_path))
    assert cfg.policy.mode == "single"
    assert cfg.policy.accept.deadline_minutes.after_hours == 10
    assert cfg.policy.reply_lapse.sla_minutes.business == 15
    assert [p.key for p in cfg.profiles] == ["ana", "carmen"]


def test_bad_phone_names_line_and_field(tmp_path: Path) -> None:
    msg = error(settings(tmp_path, AGENTS.replace('"+13055550101"', '"305 555 0101"')))
    assert "agents.yml:6: agents[0].phone:" in msg and "E.164" in msg


def test_missing_field_points_at_the_agent(tmp_path: Path) -> None:
    msg = error(settings(tmp_path, AGENTS.replace("    timezone: America/New_York\n", "", 1)))
    assert "agents.yml:4: agents[0].timezone: Field required" in msg


def test_bad_hours_and_timezone(tmp_path: Path) -> None:
    msg = error(settings(tmp_path, AGENTS.replace('"09:00-18:00"', '"9 to 5"')))
    assert "agents.yml:9: agents[0].hours:" in msg and "9 to 5" in msg
    msg = error(settings(tmp_path, AGENTS.replace("America/New_York", "Miami/Beach", 1)))
    assert "agents.yml:8: agents[0].timezone: unknown time zone 'Miami/Beach'" in msg


def test_unknown_team_lead_and_duplicates(tmp_path: Path) -> None:
    assert "agents.yml:2: teams.miami.lead: team lead 'carmen'" in error(
        settings(tmp_path, AGENTS.replace("key: carmen", "key: carmela")))
    assert "agents.yml:11: agents[1].key: duplicate agent key 'ana'" in error(
        settings(tmp_path, AGENTS.replace("key: carmen", "key: ana")))
    assert "agents[1].team: unknown team 'boston'" in error(
        settings(tmp_path, AGENTS.replace("    team: miami\n", "    team: boston\n", 2)
                 .replace("team: boston", "team: miami", 1)))


def test_unknown_key_in_pronto_handoff(tmp_path: Path) -> None:
    pronto = "# config\nhandoff:\n  mode: single\n  accept:\n    deadline_minuts: 5\n"
    msg = error(settings(tmp_path, pronto=pronto))
    assert "pronto.yml:5: handoff.accept.deadline_minuts: Extra inputs are not permitted" in msg
    msg = error(settings(tmp_path, pronto="handoff:\n  mode: everyone\n"))
    assert "pronto.yml:2: handoff.mode:" in msg
