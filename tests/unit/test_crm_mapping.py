"""CRM push, pure parts: which audit types and messages are events, the `crm:` config, the
backoff, and what FUB and a lead email are sent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from gateway.config.crm import build_crm_config
from gateway.crm.base import Outgoing, http_failure
from gateway.crm.delivery import Dispatcher
from gateway.crm.email_crm import lead_email
from gateway.crm.events import event_for_audit, event_for_message
from gateway.crm.fub import event_type, person, property_
from gateway.crm.notes import note_body, split_name
from gateway.errors import ConfigError


@pytest.mark.parametrize(("audit_type", "event"), [
    ("lead.created", "lead.created"), ("handoff.requested", "lead.qualified"),
    ("assignment.offered", "handoff.offered"), ("assignment.accepted", "handoff.accepted"),
    ("escalation.realert", "escalation.step"), ("escalation.team_lead", "escalation.step"),
    ("reply_lapse.nudge", "escalation.step"), ("conversation.closed", "lead.closed"),
    ("lead.opted_out", "opt_out"), ("appointment.set", "appointment.set"),
    ("feedback.received", "feedback"), ("relay.lead_to_agent", None),
    ("conversation.opened", None), ("assignment.passed", None), ("nlu.low_confidence", None),
])
def test_audit_types_map_to_events(audit_type: str, event: str | None) -> None:
    assert event_for_audit(audit_type) == event


def test_only_the_conversation_with_the_lead_is_a_message_event() -> None:
    assert event_for_message("in", "lead", lead_id=1, agent_id=None) == "message.in"
    assert event_for_message("out", "bot", lead_id=1, agent_id=None) == "message.out"
    assert event_for_message("out", "agent", lead_id=1, agent_id=7) == "message.out"  # relay
    assert event_for_message("out", "system", lead_id=1, agent_id=None) == "message.out"
    assert event_for_message("out", "system", lead_id=1, agent_id=7) is None  # agent alert
    assert event_for_message("in", "agent", lead_id=None, agent_id=7) is None
    assert event_for_message("out", "system", lead_id=None, agent_id=None) is None


def hook(**over: Any) -> dict[str, Any]:
    return {"name": "hook", "kind": "webhook", "url": "https://crm.example/h",
            "secret": "s", "events": ["*"], **over}


def test_config_validates_endpoints_and_resolves_secrets_from_the_environment() -> None:
    cfg = build_crm_config({"endpoints": [
        hook(),
        {"name": "fub", "kind": "fub", "secret_env": "FUB_KEY", "system_key_env": "FUB_SYS",
         "events": ["lead.created", "lead.qualified"]},
    ]}, environ={"FUB_KEY": "k", "FUB_SYS": "sk"})
    assert cfg.subscribers("lead.created") == ["hook", "fub"]
    assert cfg.subscribers("message.in") == ["hook"]
    fub = cfg.endpoints["fub"]
    assert fub.url == "https://api.followupboss.com"
    assert (fub.secret.get_secret_value(), fub.system_key.get_secret_value()) == ("k", "sk")
    assert build_crm_config(None, environ={}).endpoints == {}


@pytest.mark.parametrize(("endpoint", "message"), [
    (hook(events=["lead.create"]), "unknown event(s) lead.create"),
    (hook(secret=None), "needs a signing secret"),
    (hook(url="ftp://x"), "needs an http(s) url"),
    ({"name": "m", "kind": "email", "url": "smtp://h:25", "events": ["*"]}, "needs url smtp"),
    (hook(kind="salesforce"), "kind"),
    (hook(colour="red"), "colour"),
])
def test_config_errors_name_the_field(endpoint: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as exc:
        build_crm_config({"endpoints": [endpoint]}, environ={})
    assert "crm.endpoints[0]" in str(exc.value)


def test_config_refuses_a_missing_secret_variable_and_duplicate_names() -> None:
    with pytest.raises(ConfigError, match="HOOK_SECRET is not set"):
        build_crm_config({"endpoints": [hook(secret=None, secret_env="HOOK_SECRET")]},
                         environ={})
    with pytest.raises(ConfigError, match="duplicate endpoint name"):
        build_crm_config({"endpoints": [hook(), hook()]}, environ={})


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    cfg = build_crm_config({"endpoints": [hook()], "retry": {
        "base_seconds": 2, "max_backoff_seconds": 60}}, environ={})
    low = Dispatcher(None, cfg, {}, transcript_url=str, clock=datetime.now,  # type: ignore[arg-type]
                     rng=lambda: 0.0)
    high = Dispatcher(None, cfg, {}, transcript_url=str, clock=datetime.now,  # type: ignore[arg-type]
                      rng=lambda: 0.999999)
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert [round(high.backoff(n)) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert low.backoff(30) == 30 and round(high.backoff(30)) == 60


def test_http_answers_are_classified_by_meaning() -> None:
    assert http_failure(503).retryable and http_failure(429, "7").retry_after == 7
    assert http_failure(408).retryable
    assert not http_failure(400).retryable and not http_failure(401).retryable


LEAD: dict[str, Any] = {
    "id": 5, "name": "María José López", "phone": "+13055550123", "email": "mj@example.com",
    "language": "es", "source": "zillow", "channel": "sms", "score": 82,
    "qualification": {"intent": "buy", "location": "Coral Gables", "budget_max": 550000},
    "listing": {"address": "12 Palm Ave", "city": "Miami", "state": "FL", "zip": "33134",
                "mls_id": "A123", "price": 525000, "url": "https://listing.example/12"},
    "transcript_url": "https://dash.example/admin/leads/5",
}


def test_fub_person_property_and_type() -> None:
    assert split_name("María José López") == ("María", "José López")
    assert split_name(None) == ("", "")
    p = person(LEAD, "77")
    assert p == {"id": 77, "firstName": "María", "lastName": "José López",
                 "emails": [{"value": "mj@example.com"}], "phones": [{"value": "+13055550123"}],
                 "tags": ["Pronto", "Language ES"]}
    assert property_(LEAD["listing"]) == {
        "street": "12 Palm Ave", "city": "Miami", "state": "FL", "code": "33134",
        "mlsNumber": "A123", "price": 525000, "url": "https://listing.example/12"}
    assert event_type(LEAD) == "Property Inquiry"
    assert event_type({**LEAD, "qualification": {"intent": "sell"}}) == "Seller Inquiry"
    assert event_type({"source": "website"}) == "Registration"
    assert event_type({"source": "sms"}) == "General Inquiry"


def envelope(event: str, **data: Any) -> dict[str, Any]:
    return {"id": "audit-1", "type": event, "occurred_at": "2026-11-23T15:00:00Z",
            "lead": LEAD, "agent": {"id": 1, "key": "ana", "name": "Ana García"}, "data": data}


def test_notes_say_what_happened_and_link_the_transcript() -> None:
    body = note_body(envelope("lead.qualified"))
    assert body is not None
    assert "María José López · ES · buy · Coral Gables · up to $550k" in body
    assert body.endswith("Transcript: https://dash.example/admin/leads/5")
    assert (note_body(envelope("handoff.accepted")) or "").startswith("Accepted by Ana García")
    assert "won" in (note_body(envelope("lead.closed", outcome="won")) or "")
    assert note_body(envelope("message.in", channel="sms")) is None  # no text: no note
    assert "Lead (sms): hola" in (note_body(envelope("message.in", channel="sms", text="hola"))
                                  or "")


def test_a_lead_email_uses_the_lead_metadata_lines() -> None:
    item = Outgoing(42, "lead.qualified", envelope("lead.qualified"), 1)
    msg = lead_email(item, sender="pronto@realty.example", to=["leads@crm.example"])
    lines = msg.get_content().splitlines()
    assert lines[:5] == [
        "Name: María José López", "Phone: +13055550123", "Email: mj@example.com",
        "Message: María José López · ES · buy · Coral Gables · up to $550k · score 82 · SMS",
        "Source: zillow",
    ]
    assert "Listing: 12 Palm Ave A123" in lines
    assert msg["Message-ID"] == "<pronto-crm-42@realty.example>"
