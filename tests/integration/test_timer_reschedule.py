"""`Timers.reschedule` on real Redis + real SQL: a lead's pending follow-up is moved in place
(one row, one index entry), never fires early, and stays one timer per lead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.infra.timers import Timers
from gateway.store.models import Lead, Timer
from tests.integration.test_timers import NOW, Env, env  # noqa: F401  (the fixture)

KINDS = ("test", "other")


async def _lead(e: Env) -> int:
    async with e.store.transaction() as s:
        lead = Lead(language="en", qualification={})
        s.add(lead)
        await s.flush()
        return lead.id


async def _reschedule(e: Env, t: Timers, lead_id: int, due_in: timedelta, step: int) -> None:
    async with e.store.transaction() as s:
        await t.reschedule(s, "test", NOW + due_in, lead_id=lead_id, replaces=KINDS,
                           data={"step": step})


async def _timers(e: Env, lead_id: int) -> list[tuple[int, str, str]]:
    async with e.store.maker() as s:
        rows = await s.execute(select(Timer.id, Timer.status, Timer.kind)
                               .where(Timer.lead_id == lead_id).order_by(Timer.id))
        return [(i, st, k) for i, st, k in rows]


async def test_the_pending_timer_moves_in_place(env: Env) -> None:  # noqa: F811
    lead_id, t = await _lead(env), env.worker()
    await _reschedule(env, t, lead_id, timedelta(hours=1), 0)  # none yet: scheduled
    [(tid, status, _)] = await _timers(env, lead_id)
    assert status == "pending"
    await _reschedule(env, t, lead_id, timedelta(hours=2), 1)
    assert await _timers(env, lead_id) == [(tid, "pending", "test")]  # the same row, moved
    async with env.store.maker() as s:
        timer = await s.get(Timer, tid)
        assert timer is not None and timer.data == {"step": 1}
    score = await env.redis.zscore(t.zset, str(tid))  # type: ignore[attr-defined]
    assert score == (NOW + timedelta(hours=2)).timestamp()  # the index follows the row


async def test_a_moved_timer_claimed_at_its_old_due_time_does_not_fire_early(
    env: Env,  # noqa: F811
) -> None:
    lead_id, t = await _lead(env), env.worker()
    await _reschedule(env, t, lead_id, -timedelta(seconds=1), 0)  # due already
    claimed = await t.claim()  # a worker took it at its old due time...
    await _reschedule(env, t, lead_id, timedelta(hours=1), 1)  # ...then the lead wrote
    assert await t.fire_batch(claimed) == {claimed[0]: "early"}
    assert env.calls == []
    env.clock.now = NOW + timedelta(hours=1, seconds=1)
    assert await t.run_due("w") == 1
    assert env.calls == claimed


async def test_extra_pending_timers_of_the_kinds_are_cancelled(env: Env) -> None:  # noqa: F811
    lead_id, t = await _lead(env), env.worker()
    async with env.store.transaction() as s:
        first = await t.schedule(s, "other", NOW + timedelta(days=3), lead_id=lead_id)
        second = await t.schedule(s, "test", NOW + timedelta(hours=1), lead_id=lead_id)
    await _reschedule(env, t, lead_id, timedelta(hours=4), 0)
    assert await _timers(env, lead_id) == [
        (first.id, "pending", "test"), (second.id, "cancelled", "test")]
    assert await env.redis.zscore(t.zset, str(second.id)) is None  # type: ignore[attr-defined]
