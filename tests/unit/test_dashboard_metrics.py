"""The broker's numbers from a known event history with fixed clock times: bot and human replies
never mixed, accept times, nearest-rank p50/p90, business vs after hours (the office's hours in
America/New_York: Mon-Fri 09-18, Sat 10-14), the accept and reply SLAs per agent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gateway.domain import dashboard_metrics as dm
from gateway.domain.dashboard_metrics import MessageRow, OfferRow, Sla
from gateway.domain.lead_links import sign_lead_link, verify_lead_link
from gateway.domain.schedule import WeeklySchedule

HOURS = WeeklySchedule.parse("America/New_York", {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"})
ANA, JAMES = 1, 2


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=UTC)


def msg(lead: int, direction: str, author: str, when: datetime) -> MessageRow:
    return MessageRow(lead, direction, author, when)


# Lead 1: Tue 09:00 in Miami (business). Bot after 2 s, Ana accepts after 3 min, replies 6 min
# after the lead wrote; the prospect writes again at 14:10 and Ana stays silent.
# Lead 2: Tue 10:00 (business). Only the instant ack (system) for the bot; Ana accepts late
# (10 min > 5); her first reply 20 min after the lead wrote.
# Lead 3: Tue 22:00 in Miami = Wed 03:00 UTC (after hours). James accepts in 8 min (< 10).
# Lead 4: Sat 15:00 (after hours: Saturday closes at 14:00). James lets the offer expire.
# Lead 5: Wed 11:00 (business). Only the bot answers: no human reply, never counted as one.
MESSAGES = [
    msg(1, "in", "lead", at(24, 14)), msg(1, "out", "bot", at(24, 14, 0, 2)),
    msg(1, "out", "agent", at(24, 14, 6)), msg(1, "in", "lead", at(24, 14, 10)),
    msg(2, "in", "lead", at(24, 15)), msg(2, "out", "system", at(24, 15, 0, 3)),
    msg(2, "out", "bot", at(24, 15, 0, 9)), msg(2, "out", "agent", at(24, 15, 20)),
    msg(3, "in", "lead", at(25, 3)), msg(3, "out", "bot", at(25, 3, 0, 1)),
    msg(3, "out", "agent", at(25, 3, 30)),
    msg(4, "in", "lead", at(28, 20)), msg(4, "out", "bot", at(28, 20, 0, 5)),
    msg(5, "in", "lead", at(25, 16)), msg(5, "out", "bot", at(25, 16, 0, 1)),
    msg(5, "out", "bot", at(25, 16, 1)),
]
OFFERS = [
    OfferRow(1, ANA, "accepted", at(24, 14, 1), accepted_at=at(24, 14, 4)),
    OfferRow(2, ANA, "accepted", at(24, 15, 2), accepted_at=at(24, 15, 12)),
    OfferRow(3, JAMES, "accepted", at(25, 3, 1), accepted_at=at(25, 3, 9)),
    OfferRow(4, JAMES, "expired", at(28, 20, 1)),
]
CREATED = {1: at(24, 14), 2: at(24, 15), 3: at(25, 3), 4: at(28, 20), 5: at(25, 16)}


def timings() -> list[dm.LeadTiming]:
    return [dm.lead_timing(i, CREATED[i], [m for m in MESSAGES if m.lead_id == i],
                           [o for o in OFFERS if o.lead_id == i]) for i in CREATED]


def test_each_lead_has_separate_bot_and_human_clocks() -> None:
    got = {t.lead_id: (t.bot_reply, t.human_reply, t.accept) for t in timings()}
    assert got == {
        1: (2.0, 360.0, 180.0),
        2: (3.0, 1200.0, 600.0),   # the instant ack is the bot's reply, not the agent's
        3: (1.0, 1800.0, 480.0),
        4: (5.0, None, None),
        5: (1.0, None, None),      # bot-only: no human reply at all
    }


def test_p50_p90_split_business_and_after_hours() -> None:
    s = dm.response_stats(timings(), HOURS)
    assert s["bot_reply"]["business"] == dm.Stat(3, 2.0, 3.0)      # 1, 2, 3
    assert s["bot_reply"]["after_hours"] == dm.Stat(2, 1.0, 5.0)   # 1 (Tue 22:00), 5 (Sat)
    assert s["bot_reply"]["all"] == dm.Stat(5, 2.0, 5.0)
    assert s["human_reply"]["business"] == dm.Stat(2, 360.0, 1200.0)
    assert s["human_reply"]["after_hours"] == dm.Stat(1, 1800.0, 1800.0)
    assert s["human_reply"]["all"] == dm.Stat(3, 1200.0, 1800.0)
    assert s["accept"]["business"] == dm.Stat(2, 180.0, 600.0)
    assert s["accept"]["after_hours"] == dm.Stat(1, 480.0, 480.0)


def test_per_day_uses_the_office_calendar() -> None:
    days = [date(2026, 11, 24), date(2026, 11, 25)]
    rows = dm.daily_stats(timings(), HOURS, "human_reply", days)
    # Lead 3 wrote Wed 03:00 UTC, which is Tuesday 22:00 in Miami: Tuesday, after hours.
    assert rows[0] == (days[0], dm.Stat(2, 360.0, 1200.0), dm.Stat(1, 1800.0, 1800.0))
    assert rows[1] == (days[1], dm.Stat(0, None, None), dm.Stat(0, None, None))


def test_nearest_rank_percentiles() -> None:
    assert dm.percentile([float(x) for x in range(1, 11)], 90) == 9.0
    assert dm.percentile([float(x) for x in range(1, 11)], 50) == 5.0
    assert dm.percentile([7.0], 90) == 7.0
    assert dm.percentile([], 50) is None


def test_response_standard_per_agent() -> None:
    now = at(24, 14, 40)  # 30 min after lead 1's second message, still unanswered
    lead1 = [m for m in MESSAGES if m.lead_id == 1]
    ana = dm.standards(OFFERS[:1], lead1, HOURS, Sla(5, 10), Sla(15, 60), now)[ANA]
    assert (ana.offers, ana.accepted, ana.accepted_in_sla, ana.accept_breaches) == (1, 1, 1, [])
    # waits: from the accept (answered in 2 min: in), the 14:10 message (30 min open: breach)
    assert (ana.replies_due, ana.replied_in_sla, ana.reply_breaches) == (2, 1, [1])
    later = dm.standards(OFFERS, MESSAGES, HOURS, Sla(5, 10), Sla(15, 60), at(29, 0))
    assert (later[ANA].replies_due, later[ANA].replied_in_sla) == (3, 2)
    assert later[ANA].accept_share == 0.5 and later[ANA].reply_share == 2 / 3
    james = later[JAMES]
    assert (james.accepted_in_sla, james.accept_breaches, james.expired) == (1, [4], 1)
    assert (james.replies_due, james.replied_in_sla) == (1, 1)  # 21 min after hours: in SLA


def test_an_open_offer_breaches_only_after_its_deadline() -> None:
    offer = [OfferRow(9, ANA, "offered", at(24, 14))]
    assert dm.standards(offer, [], HOURS, Sla(5, 10), Sla(15, 60),
                        at(24, 14, 4))[ANA].accept_breaches == []
    assert dm.standards(offer, [], HOURS, Sla(5, 10), Sla(15, 60),
                        at(24, 14, 6))[ANA].accept_breaches == [9]


def test_inbox_status_and_funnel() -> None:
    assert dm.lead_status("bot", False, False, False) == "new"
    assert dm.lead_status("bot", False, False, True) == "qualifying"
    assert dm.lead_status("pending", False, False, True) == "waiting"
    assert dm.lead_status("pending", False, True, True) == "escalated"
    assert dm.lead_status("pool", False, False, True) == "escalated"
    assert dm.lead_status("agent", False, True, True) == "with_agent"
    assert dm.lead_status("closed", False, False, True) == "closed"
    assert dm.lead_status("agent", True, False, True) == "opted_out"
    f = dm.funnel({"inbound": {1, 2, 3}, "qualified": {1, 2}, "won": {1}},
                  {1: "es", 2: "en", 3: "es"})
    assert f["es"]["inbound"] == 2 and f["es"]["won"] == 1 and f["all"]["qualified"] == 2


def test_signed_lead_link_opens_only_its_lead_until_expiry() -> None:
    exp = at(24, 14) + timedelta(days=7)
    link = sign_lead_link("s3cret", 42, exp)
    path, query = link.split("?")
    assert path == "/admin/leads/42"
    e, s = (part.split("=", 1)[1] for part in query.split("&"))
    assert verify_lead_link("s3cret", 42, e, s, at(24, 14))
    assert not verify_lead_link("s3cret", 43, e, s, at(24, 14))
    assert not verify_lead_link("other", 42, e, s, at(24, 14))
    assert not verify_lead_link("s3cret", 42, e, s, exp)
    assert not verify_lead_link("s3cret", 42, str(int(e) + 86400), s, at(24, 14))
