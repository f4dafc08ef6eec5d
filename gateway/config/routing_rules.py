"""`handoff.listing_agents` and `handoff.source_rules` in config/pronto.yml: routing by where a
lead came from. Validated with the rest of `handoff:`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.domain.lead_routing import SourceRule


class SourceRuleConfig(BaseModel):
    """One source rule (see `gateway.domain.lead_routing.SourceRule`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    agents: list[str] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    lead_types: list[str] = Field(default_factory=list)
    price_min: int | None = Field(default=None, ge=0)
    price_max: int | None = Field(default=None, ge=0)
    zips: list[str] = Field(default_factory=list)

    def compile(self) -> SourceRule:
        """The domain rule."""
        return SourceRule(self.name, tuple(self.agents), frozenset(self.sources),
                          frozenset(self.lead_types), self.price_min, self.price_max,
                          frozenset(self.zips))
