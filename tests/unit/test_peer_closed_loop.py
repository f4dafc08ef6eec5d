"""`bench/peer_drive.py`'s closed loop: the same fixed workload on every path, each lead's next
message after the bot's answer, the acknowledgement never taken for the answer."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bench.peer_drive import Driver, Msg, ack_marks, conversation, figures
from bench.peer_report import closed_medians, targets
from tests.fakes.twilio_api import FakeTwilio, Sent

ACK = "Thanks, we got your message" + ack_marks()[0]


def _sent(to: str, body: str) -> Sent:
    return Sent(account="AC", to=to, from_="+1", body=body, sid="SM", form={}, auth=None)


def _driver(senders: int, conversations: int, patience: float = 5.0) -> Driver:
    return Driver(0.0, 0.0, itertools.count(1000), lambda n: f"+1305555{n:04d}", turns=4,
                  think=0.01, senders=senders, conversations=range(conversations),
                  patience=patience)


async def test_every_conversation_runs_to_its_end_through_the_phone_path() -> None:
    twilio = FakeTwilio()
    in_flight, most = 0, 0

    async def post(m: Msg, text: str) -> None:
        async def bot() -> None:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            if m.new:
                twilio.sent.append(_sent(m.lead.key, ACK))  # comes first, is not the answer
            await asyncio.sleep(0.03)
            twilio.sent.append(_sent(m.lead.key, f"answer to {text}"))
            in_flight -= 1

        asyncio.get_running_loop().create_task(bot())

    d = _driver(senders=3, conversations=7)
    await d.run(post, twilio, drain=0)
    f = figures(d)
    turns = sum(len(conversation(c, 4)[1]) for c in range(7))
    assert f["offered"] == f["answered"] == turns == 28
    assert f["leads"] == 7 and most == 3  # never more leads writing at once than senders
    assert all(m.bot_s is not None and m.bot_s >= 0.03 for m in d.msgs)  # not the ack's time
    assert f["bot_answers_per_s"] == round(turns / d.seconds, 2)
    assert 0.03 * 28 / 3 <= d.seconds < 5  # three at a time, a turn 30 ms and 10 ms thought


async def test_the_workload_is_the_same_whatever_the_path_or_the_addresses() -> None:
    async def post(m: Msg, text: str) -> None:
        d.answered(m, m.posted + 0.001)

    runs = []
    for start in (1, 500):
        d = Driver(0.0, 0.0, itertools.count(start), str, turns=4, think=0.0, senders=2,
                   conversations=range(5))
        await d.run(post, None, drain=0)
        runs.append(sorted((lead.lang, tuple(lead.texts)) for lead in d.leads.values()))
    assert runs[0] == runs[1] and len(runs[0]) == 5


async def test_an_unanswered_lead_gives_up_its_conversation() -> None:
    twilio = FakeTwilio()

    async def post(m: Msg, text: str) -> None:
        if m.lead.sent == 1:  # first messages get an acknowledgement only, never an answer
            twilio.sent.append(_sent(m.lead.key, ACK))

    d = _driver(senders=2, conversations=2, patience=0.2)
    await d.run(post, twilio, drain=0)
    f = figures(d)
    assert f["offered"] == 2 and f["answered"] == 0  # one message each, then they gave up
    assert all(m.first_s is not None and m.bot_s is None for m in d.msgs)


def test_the_throughput_target_reads_each_paths_median_round() -> None:
    closed = [{"path": "rest", "bot_answers_per_s": v} for v in (14.0, 17.0, 16.0)] + [
        {"path": "pronto", "bot_answers_per_s": v} for v in (15.0, 9.0, 14.5)]
    assert closed_medians(closed) == {"rest": 16.0, "pronto": 14.5}
    [line] = targets([], closed)
    assert "closed loop" in line and "14.5 vs 16.0" in line and line.endswith("→ met")
    closed[3]["bot_answers_per_s"] = 14.0  # pronto's median 14.0: 88 %
    assert targets([], closed)[0].endswith("= 88% → missed")


def test_the_bench_refuses_a_pronto_run_without_workers(capsys: pytest.CaptureFixture[str]) -> None:
    """`--workers 0` once waited a minute for workers that never start and failed with an empty
    message; it is refused at once, saying why."""
    from bench.peer import parse

    with pytest.raises(SystemExit):
        parse(["--workers", "0"])
    assert "--workers must be at least 1" in capsys.readouterr().err
