"""Hypothesis against a live stack: how the fuzz tests run many cases on one running gateway.

The stack is async and lives on the test's event loop (pytest-asyncio); Hypothesis drives a
sync test function. `fuzz()` runs Hypothesis in a worker thread (`asyncio.to_thread`) and each
example's async body on the test's own loop with `asyncio.run_coroutine_threadsafe`: the loop
stays free to serve the gateway, the worker and the fake providers while Hypothesis waits, and
one stack serves all of a test's examples (starting one per example costs a second each).
Failures propagate as usual, so Hypothesis shrinks and reports the smallest failing input.

`assert_alive()` is the after-the-fuzz property: the worker task still runs, nothing was
logged at ERROR (an unhandled exception in a handler is logged so by aiohttp), and a valid SMS
still gets its bot reply end to end.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aiohttp.http_exceptions import HttpProcessingError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.keys import WORKER

T = TypeVar("T")
EXAMPLES = 200
"""Cases per target: enough to hit each input's edges, few enough for CI (about a second)."""
CASES: dict[str, int] = {}
"""Cases run per target in this session, for the issue's note."""

# Text that stresses parsers: control characters, NUL, non-BMP, RTL, combining marks.
nasty_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
small_text = st.text(max_size=40)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(small_text, inner, max_size=4),
    max_leaves=12,
)
# The value of a field that should be a string: a string, or anything else.
any_field = nasty_text | st.integers().map(str) | st.sampled_from(
    ["", " ", "0", "-1", "99999999999999999999999", "1e400", "NaN", "null", "[]", "{}",
     "\x00", "%FF", "whatsapp:", "whatsapp:+1", "+1", "+13055550123", "ñ" * 2000])


async def fuzz(name: str, strategy: st.SearchStrategy[T],
               body: Callable[[T], Awaitable[Any]], *, examples: int = EXAMPLES,
               per_case_timeout: float = 20.0) -> Counter[Any]:
    """Run `body` on `examples` values drawn from `strategy`; returns the tally of what each
    body returned (status codes, usually) and records the number of cases in `CASES`."""
    loop = asyncio.get_running_loop()
    tally: Counter[Any] = Counter()

    @settings(max_examples=examples, deadline=None, database=None, print_blob=True,
              phases=(Phase.explicit, Phase.generate, Phase.shrink),
              suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example))
    @given(strategy)
    def case(value: T) -> None:
        result = asyncio.run_coroutine_threadsafe(body(value), loop).result(per_case_timeout)
        tally[result] += 1

    await asyncio.to_thread(case)
    CASES[name] = sum(tally.values())
    print(f"\nfuzz {name}: {CASES[name]} cases, results {dict(sorted(tally.items(), key=str))}")
    assert CASES[name] >= min(examples, 100), f"{name}: only {CASES[name]} cases ran"
    return tally


def no_5xx(status: int) -> int:
    """The property of every answer: 2xx, 3xx or 4xx."""
    assert 200 <= status < 500, f"got {status}"
    return status


async def assert_alive(stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The worker runs, no ERROR was logged, and a valid SMS still gets its reply."""
    worker_tasks = [t for t in asyncio.all_tasks() if t.get_name() == "worker"]
    assert stack.app[WORKER] is not None
    assert worker_tasks and not any(t.done() for t in worker_tasks), "worker task died"
    # aiohttp logs a request line over its 8 KiB limit at ERROR though it answers 400 itself.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not (
        r.exc_info and isinstance(r.exc_info[1], HttpProcessingError))]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors][:5]
    phone = f"+1305555{secrets.randbelow(10000):04d}"
    resp = await stack.sms("Hi, is the house still available?", phone=phone)
    assert resp.status == 200
    await stack.twilio.wait_for(phone, timeout=15)
