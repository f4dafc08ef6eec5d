"""Routing rules (pure): language, area, availability, round robin, cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.domain.routing import AgentLoad, AgentProfile, LeadFacts, area_matches, route
from gateway.domain.schedule import WeeklySchedule

TZ = "America/New_York"
HOURS = WeeklySchedule.parse(TZ, {"mon-fri": "09:00-18:00"})
EVENINGS = WeeklySchedule.parse(TZ, {"mon-fri": "18:00-23:00"})
MON_10AM = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MON_8PM = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
SUN_3AM = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

ANA = AgentProfile("ana", ("es", "en"), ("coral gables", "33134"), HOURS, None, 2, "miami")
LUIS = AgentProfile("luis", ("es", "en"), ("miami beach",), HOURS, None, 10, "miami")
JAMES = AgentProfile("james", ("en",), ("brickell",), HOURS, EVENINGS, 10, "miami")
EMILY = AgentProfile("emily", ("en",), ("coral gables",), HOURS, None, 10, "miami")
LEAD_ONLY = AgentProfile("carmen", ("es", "en"), (), HOURS, None, 10, "miami",
                         receives_leads=False)
ALL = (ANA, LUIS, JAMES, EMILY, LEAD_ONLY)


def loads(**over: AgentLoad) -> dict[str, AgentLoad]:
    base = {p.key: AgentLoad() for p in ALL}
    base.update(over)
    return base


def test_spanish_lead_goes_to_spanish_speaker_even_outside_their_area() -> None:
    r = route(ALL, loads(), LeadFacts("es", "Brickell, Miami"), MON_10AM)
    assert r.agents[0] in ("ana", "luis") and r.rule == "language+hours+round_robin"


def test_language_then_area() -> None:
    r = route(ALL, loads(), LeadFacts("es", "Coral Gables FL 33134"), MON_10AM)
    assert r == route(ALL, loads(), LeadFacts("es", "coral gables"), MON_10AM)
    assert r.agents == ("ana",) and r.rule == "language+area+hours"


def test_english_lead_area_match() -> None:
    r = route(ALL, loads(), LeadFacts("en", "Brickell"), MON_10AM)
    assert r.agents == ("james",) and r.rule == "language+area+hours"


def test_unknown_language_skips_language_rule() -> None:
    r = route(ALL, loads(), LeadFacts("pt", None), MON_10AM)
    assert r.rule == "hours+round_robin" and "carmen" not in r.agents


def test_after_hours_on_call_beats_off_duty_area_match() -> None:
    r = route(ALL, loads(), LeadFacts("en", "Coral Gables"), MON_8PM)
    assert r.agents == ("james",) and r.rule == "language+on_call"


def test_nobody_available_still_routes() -> None:
    r = route(ALL, loads(), LeadFacts("en", "Coral Gables"), SUN_3AM)
    assert r.agents and r.rule == "language+area+unavailable+round_robin"


def test_round_robin_least_recently_offered_first() -> None:
    t = MON_10AM
    state = loads(ana=AgentLoad(0, t - timedelta(minutes=1)),
                  luis=AgentLoad(0, t - timedelta(minutes=30)))
    assert route(ALL, state, LeadFacts("es"), t).agents == ("luis",)
    state["luis"] = AgentLoad(0, t)
    assert route(ALL, state, LeadFacts("es"), t).agents == ("ana",)


def test_cap_skips_agent() -> None:
    r = route(ALL, loads(ana=AgentLoad(open_leads=2)), LeadFacts("es", "33134"), MON_10AM)
    assert r.agents == ("luis",)


def test_excluded_inactive_and_fanout() -> None:
    state = loads()
    del state["luis"]  # inactive
    r = route(ALL, state, LeadFacts("es"), MON_10AM, exclude=frozenset({"ana"}))
    # No Spanish speaker left: the language rule cannot apply, English agents share it.
    assert r.agents == ("emily",) and r.rule == "hours+round_robin"
    r = route(ALL, loads(), LeadFacts("en"), MON_10AM, fanout=3)
    assert len(r.agents) == 3 and "carmen" not in r.agents
    assert route(ALL, {}, LeadFacts("en"), MON_10AM).agents == ()


def test_area_matching_is_whole_words_and_accent_free() -> None:
    assert area_matches(("coral gables",), "Coral Gables, FL")
    assert area_matches(("33134",), "zip 33134")
    assert not area_matches(("33134",), "331345")
    assert area_matches(("bogota",), "Bogotá")
    assert not area_matches(("miami",), None)
