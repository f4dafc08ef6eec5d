"""Which delivery status a callback may set (`gateway.domain.delivery_status`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.delivery_status import _STAGE, supersedes


def test_a_later_stage_replaces_an_earlier_one_and_not_the_other_way() -> None:
    assert supersedes("delivered", "sent") and supersedes("sent", "queued")
    assert not supersedes("sent", "delivered")  # Twilio's late `sent`
    assert not supersedes("queued", "failed")
    assert supersedes("read", "delivered") and not supersedes("delivered", "read")


def test_the_same_stage_takes_the_later_word() -> None:
    assert supersedes("undelivered", "delivered") and supersedes("failed", "undelivered")


def test_a_status_without_a_stage_neither_blocks_nor_is_blocked() -> None:
    assert supersedes("delivered", None) and supersedes("delivered", "dry_run")
    assert supersedes("something_new", "delivered")


@given(st.permutations(["queued", "sending", "sent", "delivered", "read"]))
def test_any_arrival_order_ends_at_the_last_stage(order: list[str]) -> None:
    status: str | None = None
    for new in order:
        if supersedes(new, status):
            status = new
    assert status == "read"
    assert all(_STAGE[s] <= _STAGE["read"] for s in order)
