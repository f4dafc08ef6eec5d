"""Routing by where a lead came from: the listing's agent first, and source rules (per source,
lead type, price band, zip) that narrow the pool (gateway/domain/lead_routing.py)."""

from __future__ import annotations

from gateway.domain.lead_routing import SourceRule, lead_facts, listing_agent
from gateway.domain.routing import LeadFacts, route
from tests.unit.test_routing import ANA, EMILY, JAMES, LUIS, loads
from tests.unit.test_routing import MON_10AM as NOW

PROFILES = (ANA, LUIS, JAMES, EMILY)
RULES = [
    SourceRule("zillow-luxury", ("james",), sources=frozenset({"zillow"}), price_min=1_000_000),
    SourceRule("rentals", ("emily",), lead_types=frozenset({"rent"})),
    SourceRule("beach-zips", ("luis",), zips=frozenset({"33139", "33140"})),
]
TABLE = {"A111": "luis", "123 Palm Ave": "emily"}


def facts(source: str | None = None, listing: dict[str, object] | None = None,
          q: dict[str, object] | None = None, language: str = "en") -> LeadFacts:
    return lead_facts(language, q, source=source, listing=listing, listing_agents=TABLE,
                      rules=RULES)


def test_the_listing_agent_is_offered_first_by_mls_id_or_address() -> None:
    assert listing_agent({"mls_id": "a111"}, TABLE) == "luis"
    assert listing_agent({"address": "123 palm ave."}, TABLE) == "emily"
    assert listing_agent({"address": "9 Other St"}, TABLE) is None
    decision = route(PROFILES, loads(), facts(listing={"mls_id": "A111"}), NOW)
    assert decision.agents == ("luis",) and decision.rule == "listing_agent"


def test_a_listing_agent_at_the_cap_is_skipped_for_the_normal_order() -> None:
    from gateway.domain.routing import AgentLoad

    full = loads(luis=AgentLoad(open_leads=10))
    decision = route(PROFILES, full, facts(listing={"mls_id": "A111"}), NOW)
    assert decision.agents != ("luis",) and decision.rule != "listing_agent"


def test_source_rules_match_on_source_price_type_and_zip() -> None:
    lux = facts(source="zillow", listing={"address": "1 Fisher Island", "price": 2_500_000})
    assert route(PROFILES, loads(), lux, NOW).rule.startswith("source_rule:zillow-luxury")
    assert route(PROFILES, loads(), lux, NOW).agents == ("james",)
    cheap = facts(source="zillow", listing={"address": "1 Fisher Island", "price": 400_000})
    assert "source_rule" not in route(PROFILES, loads(), cheap, NOW).rule
    rent = facts(q={"intent": "rent", "location": "Doral"})
    assert route(PROFILES, loads(), rent, NOW).agents == ("emily",)
    beach = facts(listing={"address": "700 Ocean Dr, Miami Beach, FL 33139"})
    assert route(PROFILES, loads(), beach, NOW).agents == ("luis",)


def test_a_rule_whose_agents_are_all_unavailable_falls_back_to_normal_routing() -> None:
    from gateway.domain.routing import AgentLoad

    rent = facts(q={"intent": "rent"})
    full = loads(emily=AgentLoad(open_leads=10))
    decision = route(PROFILES, full, rent, NOW)
    assert decision.agents and decision.agents != ("emily",)
    assert "source_rule" not in decision.rule
