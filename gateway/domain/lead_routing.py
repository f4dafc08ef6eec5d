"""Routing facts from where a lead came from: the listing's agent, and source rules (per
source, lead type, price band, zip) that narrow who may get the lead. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.domain.routing import LeadFacts, normalise_place

_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


@dataclass(frozen=True, slots=True)
class SourceRule:
    """A routing rule: leads matching every given condition go to `agents` first.

    Attributes:
        name: shown in the recorded routing rule ("source_rule:<name>").
        agents: the agent keys the lead is limited to (when any of them is eligible).
        sources: lead sources ("zillow", "website"); empty matches any.
        lead_types: "buy", "sell", "rent", "listing"; empty matches any.
        price_min, price_max: the listing price or budget band, inclusive; None is open.
        zips: zip codes of the listing or area; empty matches any.
    """

    name: str
    agents: tuple[str, ...]
    sources: frozenset[str] = frozenset()
    lead_types: frozenset[str] = frozenset()
    price_min: int | None = None
    price_max: int | None = None
    zips: frozenset[str] = frozenset()

    def matches(self, source: str | None, lead_type: str | None, price: int | None,
                zip_code: str | None) -> bool:
        """Whether a lead with these facts falls under the rule."""
        if self.sources and source not in self.sources:
            return False
        if self.lead_types and lead_type not in self.lead_types:
            return False
        if self.price_min is not None or self.price_max is not None:
            if price is None:
                return False
            if self.price_min is not None and price < self.price_min:
                return False
            if self.price_max is not None and price > self.price_max:
                return False
        return not self.zips or zip_code in self.zips


def listing_agent(listing: Mapping[str, Any] | None, table: Mapping[str, str]) -> str | None:
    """The agent configured for a listing, by MLS id first, then by (normalised) address."""
    if not listing or not table:
        return None
    keys = {normalise_place(str(k)): v for k, v in table.items()}
    for field in ("mls_id", "address"):
        value = listing.get(field)
        if value and normalise_place(str(value)) in keys:
            return keys[normalise_place(str(value))]
    return None


def lead_facts(
    language: str,
    qualification: Mapping[str, Any] | None,
    *,
    source: str | None,
    listing: Mapping[str, Any] | None,
    listing_agents: Mapping[str, str],
    rules: Sequence[SourceRule],
) -> LeadFacts:
    """What routing needs to know of one lead, the intake's facts included."""
    q = qualification or {}
    location = q.get("location")
    price = _price(listing, q)
    zip_code = _zip(listing, location)
    lead_type = q.get("intent") or ("listing" if listing else None)
    agent = listing_agent(listing, listing_agents)
    rule = next((r for r in rules if r.matches(source, lead_type, price, zip_code)), None)
    return LeadFacts(
        language, location, preferred=(agent,) if agent else (),
        restrict=frozenset(rule.agents) if rule else None, rule=rule.name if rule else None,
    )


def _price(listing: Mapping[str, Any] | None, q: Mapping[str, Any]) -> int | None:
    for value in ((listing or {}).get("price"), q.get("budget_max"), q.get("budget_min")):
        if isinstance(value, int | float) and value > 0:
            return int(value)
    return None


def _zip(listing: Mapping[str, Any] | None, location: Any) -> str | None:
    for text in ((listing or {}).get("address"), location):
        m = _ZIP.search(str(text or ""))
        if m:
            return m.group(1)
    return None
