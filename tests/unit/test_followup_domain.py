"""Follow-up sequences as data (gateway/domain/followup.py, gateway/config/followup.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config.followup import load_followup_config
from gateway.domain.followup import Step, due_at, fill, first_name, parse_offset
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "delta"), [
    ("10m", timedelta(minutes=10)), ("1h", timedelta(hours=1)), ("3d", timedelta(days=3)),
    ("2w", timedelta(weeks=2)), (" 90d ", timedelta(days=90)), ("15min", timedelta(minutes=15)),
])
def test_offsets(text: str, delta: timedelta) -> None:
    assert parse_offset(text) == delta


@pytest.mark.parametrize("bad", ["", "10", "ten minutes", "1y", "-1h"])
def test_bad_offsets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(bad)


def test_next_morning_is_9_30_the_next_day_in_the_lead_zone() -> None:
    start = datetime(2026, 12, 2, 2, 55, tzinfo=UTC)  # Tuesday 21:55 in Miami
    due = due_at(start, Step("x", at="next_morning"), "America/New_York")
    assert due == datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # Wednesday 9:30 EST
    # Madrid's next morning is another instant.
    assert due_at(start, Step("x", at="next_morning"), "Europe/Madrid") == \
        datetime(2026, 12, 3, 8, 30, tzinfo=UTC)


def test_offsets_count_from_the_start() -> None:
    start = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert due_at(start, Step("x", after=timedelta(days=3)), "America/New_York") == \
        start + timedelta(days=3)


def test_the_first_variant_whose_details_are_known_is_used() -> None:
    variants = ["Still looking in {location}, {first_name}?", "Still looking, {first_name}?",
                "Still looking?"]
    assert fill(variants, {"location": "Doral", "first_name": "Maria"}) == \
        "Still looking in Doral, Maria?"
    assert fill(variants, {"location": None, "first_name": "Maria"}) == "Still looking, Maria?"
    assert fill(variants, {}) == "Still looking?"
    assert fill(["{first_name} only"], {}) is None
    assert first_name("  Maria José Lopez ") == "Maria" and first_name(None) is None


def test_the_shipped_file_loads_with_every_template_in_both_languages() -> None:
    config = load_followup_config(ROOT / "config" / "followup.yml", ["en", "es"])
    assert [s.template for s in config.silent] == [
        "silent_10m", "silent_1h", "silent_morning", "silent_day3", "silent_day7"]
    assert config.reengage_after == timedelta(days=90)
    assert config.variants("silent_1h", "es")[0].startswith("¿Sigues buscando en {location}")


def test_a_step_naming_a_missing_template_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "followup.yml"
    path.write_text("silent:\n  steps:\n    - {after: 10m, template: nope}\n"
                    "reengage: {enabled: false}\ntemplates: {}\n")
    with pytest.raises(ConfigError, match=r"templates\.nope\.en"):
        load_followup_config(path, ["en", "es"])
    path.write_text("silent:\n  steps:\n    - {after: soon, template: t}\n")
    with pytest.raises(ConfigError, match="after"):
        load_followup_config(path, ["en"])
