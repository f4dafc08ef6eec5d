"""Handoff configuration: the team (config/agents.yml) and the policy (pronto.yml `handoff:`).

Validated once at start. Every error names the file, the line and the field, e.g.
`config/agents.yml:14: agents[1].phone: '+1 305' is not an E.164 phone number`, so an admin
can fix a typo without reading a traceback. Line numbers come from the YAML node tree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.config.routing_rules import SourceRuleConfig
from gateway.config.settings import Settings, load_yaml
from gateway.domain.lead_routing import lead_facts
from gateway.domain.routing import AgentProfile, LeadFacts
from gateway.domain.schedule import WeeklySchedule, parse_days, parse_span
from gateway.errors import ConfigError

Spans = dict[str, str | list[str]]
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_M = TypeVar("_M", bound=BaseModel)


def _both_channels() -> list[Literal["sms", "telegram"]]:
    return ["sms", "telegram"]


def _office_hours() -> Spans:
    return {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_tz(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{v}' (use an IANA name like America/New_York)"
        ) from None
    return v


def _check_spans(v: Spans) -> Spans:
    for days, spans in v.items():
        parse_days(str(days))
        for span in [spans] if isinstance(spans, str) else spans:
            parse_span(str(span))
    return v


class AgentConfig(_Strict):
    """One agent in agents.yml."""

    key: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    phone: str
    telegram_chat_id: str | None = None
    languages: list[str] = Field(min_length=1)
    """Languages spoken; the first is the language of the agent's alerts."""
    areas: list[str] = Field(default_factory=list)
    """Zip codes, cities or names from the file's `areas:` section."""
    timezone: str
    hours: Spans = Field(default_factory=dict)
    on_call: Spans = Field(default_factory=dict)
    max_open_leads: int = Field(default=10, ge=1)
    team: str | None = None
    receives_leads: bool = True
    notify: list[Literal["sms", "telegram"]] = Field(default_factory=_both_channels)
    active: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        v = v.strip()
        try:
            ok = bool(_E164.match(v)) and phonenumbers.is_possible_number(
                phonenumbers.parse(v, None)
            )
        except phonenumbers.NumberParseException:
            ok = False
        if not ok:
            raise ValueError(f"'{v}' is not an E.164 phone number like +13055550101")
        return v

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        return [lang.strip().lower() for lang in v]

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_tz(v)

    @field_validator("hours", "on_call")
    @classmethod
    def _spans(cls, v: Spans) -> Spans:
        return _check_spans(v)


class TeamConfig(_Strict):
    """A team: its lead (an agent key) and, optionally, a display name."""

    lead: str
    name: str | None = None


class AgentsFile(_Strict):
    """The whole agents.yml."""

    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    areas: dict[str, list[str]] = Field(default_factory=dict)
    """Named areas: a name usable in an agent's `areas`, expanded to zips and cities."""
    agents: list[AgentConfig] = Field(min_length=1)


class ByHours(_Strict):
    """A duration in minutes, one value in business hours and one after hours."""

    business: float = Field(gt=0)
    after_hours: float = Field(gt=0)

    def pick(self, business: bool) -> float:
        """The value for business hours or after hours."""
        return self.business if business else self.after_hours


class BusinessHours(_Strict):
    """The office's business hours, for SLAs and for telling a prospect when to expect a call."""

    timezone: str = "America/New_York"
    hours: Spans = Field(default_factory=_office_hours)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_tz(v)

    @field_validator("hours")
    @classmethod
    def _spans(cls, v: Spans) -> Spans:
        return _check_spans(v)


class AcceptPolicy(_Strict):
    """Accept deadline ladder."""

    deadline_minutes: ByHours = ByHours(business=5, after_hours=10)
    realert_at_half: bool = True
    max_reassignments: int = Field(default=2, ge=0)
    pool: bool = True
    remind_minutes: ByHours = ByHours(business=30, after_hours=60)
    """Nobody accepted even the team lead or the pool: remind this often."""
    reminders_before_last_resort: int = Field(default=2, ge=0)
    last_resort: str | None = None
    """Agent key alerted after the reminders (the broker, an owner of record); default: the
    team lead again."""


class ReplyLapsePolicy(_Strict):
    """Reply-lapse ladder: the lead wrote and the owning agent is silent."""

    sla_minutes: ByHours = ByHours(business=15, after_hours=60)
    escalate_after_minutes: ByHours = ByHours(business=10, after_hours=30)
    reassign: bool = False
    reassign_after_minutes: ByHours = ByHours(business=15, after_hours=60)


class ClosePolicy(_Strict):
    """When a conversation nobody touches is closed on its own (outcome "inactive")."""

    idle_days: float = Field(default=14, ge=0)
    """Days without a message or state change before auto-close; 0 turns it off."""

    @property
    def idle_after(self) -> timedelta | None:
        """The inactivity that closes a conversation, or None when auto-close is off."""
        return timedelta(days=self.idle_days) if self.idle_days else None


class HandoffSection(_Strict):
    """pronto.yml `handoff:`."""

    mode: Literal["single", "first_to_claim"] = "single"
    claim_fanout: int = Field(default=3, ge=2, le=20)
    business_hours: BusinessHours = BusinessHours()
    accept: AcceptPolicy = AcceptPolicy()
    reply_lapse: ReplyLapsePolicy = ReplyLapsePolicy()
    close: ClosePolicy = ClosePolicy()
    transcript_path: str = "/admin/leads/{lead_id}"
    listing_agents: dict[str, str] = Field(default_factory=dict)
    """MLS id or listing address → the agent key offered that listing's leads first."""
    source_rules: list[SourceRuleConfig] = Field(default_factory=list)
    """Rules by source, lead type, price band and zip that narrow who gets a lead."""


@dataclass(frozen=True)
class HandoffConfig:
    """Validated handoff configuration, with schedules and routing profiles compiled."""

    policy: HandoffSection
    team: AgentsFile
    business: WeeklySchedule
    profiles: tuple[AgentProfile, ...]

    def facts(self, language: str, qualification: dict[str, Any] | None, source: str | None,
              listing: dict[str, Any] | None) -> LeadFacts:
        """What routing knows of a lead: language, area, the listing's agent, source rules."""
        return lead_facts(language, qualification, source=source, listing=listing,
                          listing_agents=self.policy.listing_agents,
                          rules=[r.compile() for r in self.policy.source_rules])

    def agent(self, key: str) -> AgentConfig | None:
        """The configured agent with this key."""
        return next((a for a in self.team.agents if a.key == key), None)

    def team_lead(self, team: str | None) -> AgentConfig | None:
        """The lead of `team`, if the team is configured."""
        cfg = self.team.teams.get(team or "")
        return self.agent(cfg.lead) if cfg else None


def load_handoff_config(settings: Settings) -> HandoffConfig:
    """Load and validate agents.yml and pronto.yml's `handoff:` section.

    Raises:
        ConfigError: naming the file, line and field of the first problems found.
    """
    handoff_node = _section_node(settings.config_path, "handoff")
    agents_path = settings.agents_path
    if not agents_path.exists():
        raise ConfigError(f"{agents_path}: file not found (the team of agents)")
    raw_agents = load_yaml(agents_path)
    agents_node = _compose(agents_path)
    return build_handoff_config(
        settings.handoff or {},
        raw_agents,
        config_path=settings.config_path,
        agents_path=agents_path,
        handoff_node=handoff_node,
        agents_node=agents_node,
    )


def build_handoff_config(
    handoff: Any,
    agents: Any,
    *,
    config_path: Path = Path("config/pronto.yml"),
    agents_path: Path = Path("config/agents.yml"),
    handoff_node: yaml.Node | None = None,
    agents_node: yaml.Node | None = None,
) -> HandoffConfig:
    """Validate already-parsed data; nodes (when given) supply line numbers for errors."""
    policy = _validate(HandoffSection, handoff or {}, config_path, handoff_node, ("handoff",))
    team = _validate(AgentsFile, agents, agents_path, agents_node, ())

    def fail(loc: tuple[str | int, ...], msg: str) -> ConfigError:
        return ConfigError(f"{agents_path}:{_line(agents_node, loc)}: {_dotted(loc)}: {msg}")

    seen_keys: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for i, a in enumerate(team.agents):
        if a.key in seen_keys:
            raise fail(("agents", i, "key"), f"duplicate agent key '{a.key}'")
        if a.phone in seen_phones:
            other = team.agents[seen_phones[a.phone]].key
            raise fail(("agents", i, "phone"), f"phone already used by agent '{other}'")
        seen_keys[a.key], seen_phones[a.phone] = i, i
        if a.team is not None and a.team not in team.teams:
            raise fail(("agents", i, "team"), f"unknown team '{a.team}' (not under teams:)")
    for name, tcfg in team.teams.items():
        if tcfg.lead not in seen_keys:
            raise fail(("teams", name, "lead"), f"team lead '{tcfg.lead}' is not an agent key")
    named = {_norm(k): v for k, v in team.areas.items()}
    profiles = tuple(_profile(a, named) for a in team.agents if a.active)
    bh = policy.business_hours
    return HandoffConfig(policy, team, WeeklySchedule.parse(bh.timezone, bh.hours), profiles)


def _profile(a: AgentConfig, named: dict[str, list[str]]) -> AgentProfile:
    areas: list[str] = []
    for area in a.areas:
        areas.extend(named.get(_norm(area), [area]))
    return AgentProfile(
        key=a.key,
        languages=tuple(a.languages),
        areas=tuple(_norm(x) for x in areas),
        hours=WeeklySchedule.parse(a.timezone, a.hours) if a.hours else None,
        on_call=WeeklySchedule.parse(a.timezone, a.on_call) if a.on_call else None,
        cap=a.max_open_leads,
        team=a.team,
        receives_leads=a.receives_leads,
    )


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


def _validate(
    model: type[_M], data: Any, path: Path, node: yaml.Node | None, prefix: tuple[str, ...]
) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines: list[str] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, depth = _walk(node, loc)
            if node is not None and err["type"] != "missing":
                loc = loc[:depth]  # drop pydantic's union-member tags ("str", "list[str]")
            msg = str(err["msg"]).removeprefix("Value error, ")
            text = f"{path}:{line}: {_dotted(prefix + loc)}: {msg}"
            if not any(x.startswith(f"{path}:{line}: {_dotted(prefix + loc)}:") for x in lines):
                lines.append(text)
        if len(lines) > 5:
            lines = [*lines[:5], f"… and {len(lines) - 5} more"]
        raise ConfigError("\n".join(lines)) from None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | str:
    """1-based line of the deepest node along `loc` (a missing field points at its parent)."""
    return _walk(node, loc)[0]


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int | str, int]:
    """(line of the deepest node found along `loc`, how many parts of `loc` were found)."""
    if node is None:
        return "?", len(loc)
    depth = 0
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    child = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
        if child is None:
            break
        node, depth = child, depth + 1
    return node.start_mark.line + 1, depth


def _compose(path: Path) -> yaml.Node | None:
    try:
        with path.open(encoding="utf-8") as fh:
            node: yaml.Node | None = yaml.compose(fh, Loader=yaml.SafeLoader)
            return node
    except (OSError, yaml.YAMLError):
        return None  # load_yaml reports syntax errors with their line


def _section_node(path: Path, key: str) -> yaml.Node | None:
    root = _compose(path) if path.exists() else None
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
                return v
    return None
