"""The outbound gate (pure): opt-out, rate cap, quiet hours; replies never held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config.compliance import load_compliance_config
from gateway.domain.outbound_gate import (
    DEFAULT_MAX_PER_HOUR,
    GateInput,
    GateLead,
    GateRules,
    Hold,
    Kind,
    Refuse,
    Send,
    decide,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = load_compliance_config(ROOT / "config" / "compliance.yml").gate
NY = "America/New_York"
REPLY, INITIATED, CONFIRM = GateInput(Kind.REPLY), GateInput(Kind.INITIATED), GateInput(
    Kind.CONFIRMATION
)


def at(h: int, mi: int = 0, day: int = 10) -> datetime:
    """A wall-clock time in New York on June `day` 2026 (the 10th is a Wednesday), in UTC."""
    return datetime(2026, 6, day, h, mi, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def lead(**over: object) -> GateLead:
    base: dict[str, object] = {"opted_out": False, "zone": NY, "state": "FL"}
    base.update(over)
    return GateLead(**base)  # type: ignore[arg-type]


NOON, NIGHT = at(12), at(22)


def test_initiated_inside_the_window_is_sent() -> None:
    assert decide(INITIATED, lead(), NOON, RULES) == Send()


def test_initiated_outside_the_window_is_held_until_the_window() -> None:
    out = decide(INITIATED, lead(), NIGHT, RULES)
    assert out == Hold(at(8, day=11), "quiet_hours")


def test_initiated_at_20_30_in_florida_is_held() -> None:
    assert isinstance(decide(INITIATED, lead(), at(20, 30), RULES), Hold)
    assert decide(INITIATED, lead(state="NY"), at(20, 30), RULES) == Send()


@pytest.mark.parametrize("kind", [REPLY, CONFIRM])
def test_replies_and_confirmations_bypass_quiet_hours(kind: GateInput) -> None:
    assert decide(kind, lead(), NIGHT, RULES) == Send()


def test_the_florida_start_cap_holds_the_fourth_initiated_message() -> None:
    starts = (at(9), at(10), at(11))
    out = decide(INITIATED, lead(recent_initiated_utc=starts), NOON, RULES)
    assert out == Hold(at(9, day=11), "start_cap")
    assert decide(REPLY, lead(recent_initiated_utc=starts), NOON, RULES) == Send()


@pytest.mark.parametrize("kind", [REPLY, INITIATED])
def test_opted_out_is_refused(kind: GateInput) -> None:
    assert decide(kind, lead(opted_out=True), NOON, RULES) == Refuse("opted_out")


def test_opted_out_at_night_is_refused_not_held() -> None:
    assert decide(INITIATED, lead(opted_out=True), NIGHT, RULES) == Refuse("opted_out")


def test_the_opt_out_confirmation_goes_to_an_opted_out_lead() -> None:
    assert decide(CONFIRM, lead(opted_out=True), NIGHT, RULES) == Send()


@pytest.mark.parametrize("kind", [REPLY, INITIATED, CONFIRM])
def test_rate_cap_refuses_every_kind(kind: GateInput) -> None:
    assert RULES.max_per_lead_per_hour == 30
    assert decide(kind, lead(sent_last_hour=29), NOON, RULES) == Send()
    assert decide(kind, lead(sent_last_hour=30), NOON, RULES) == Refuse("rate_cap")


def test_rate_cap_is_configurable_and_defaults_to_30() -> None:
    assert GateRules().max_per_lead_per_hour == DEFAULT_MAX_PER_HOUR == 30
    tight = GateRules(quiet=RULES.quiet, max_per_lead_per_hour=2)
    assert decide(REPLY, lead(sent_last_hour=2), NOON, tight) == Refuse("rate_cap")


def test_opt_out_wins_over_the_rate_cap() -> None:
    assert decide(REPLY, lead(opted_out=True, sent_last_hour=99), NOON, RULES) == Refuse(
        "opted_out"
    )


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(INITIATED, lead(), datetime(2026, 6, 10, 12), RULES)


@settings(max_examples=200, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                     timezones=st.just(UTC)),
    kind=st.sampled_from(list(Kind)),
    opted_out=st.booleans(),
    sent=st.integers(0, 60),
    state=st.sampled_from([None, "FL", "CT", "TX", "NY"]),
)
def test_gate_properties(
    now: datetime, kind: Kind, opted_out: bool, sent: int, state: str | None
) -> None:
    out = decide(GateInput(kind), lead(opted_out=opted_out, sent_last_hour=sent, state=state),
                 now, RULES)
    if kind is not Kind.INITIATED:
        assert not isinstance(out, Hold)  # a reply is never held
    if opted_out and kind is not Kind.CONFIRMATION:
        assert out == Refuse("opted_out")
    elif sent >= 30:
        assert out == Refuse("rate_cap")
    if isinstance(out, Hold):
        assert out.until > now
        assert out.until - now < timedelta(days=2)
