"""Whole conversations against the real model, through the real pipeline (README.md here).

Every conversation in ``data/`` must reach a person with the expected reason, and every bot
message must be in the prospect's language. Field accuracy over the set must be at least 0.95
in each language (a wrong field is a wrong card in front of the agent, but one miss must not
hide the rest of the figures, so it is checked over the set).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conversations.runner import Summary, load, play_all
from tests.conversations.stack import ACCOUNT_SID, AUTH_TOKEN, conversation_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

DATA = Path(__file__).parent / "data"
CONVERSATIONS = load([DATA])
FIELD_ACCURACY_TARGET = 0.95


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def summary(
    rasa_url: str, tmp_path_factory: pytest.TempPathFactory, session_redis_url: str
) -> AsyncIterator[Summary]:
    """Play the whole set once (SQLite; the SQL paths run on PostgreSQL elsewhere)."""
    import redis.asyncio as aioredis

    from tests.conftest import _detector

    client = aioredis.from_url(session_redis_url)
    await client.flushdb()
    await client.aclose()
    var = tmp_path_factory.mktemp("conversations")
    async with conversation_stack(var, rasa_url, redis_url=session_redis_url,
                                  language=_detector()) as stack:
        result = await play_all(stack, CONVERSATIONS, _detector(), token=AUTH_TOKEN,
                                account_sid=ACCOUNT_SID)
    print("\n" + result.report("tests/conversations/data", worst=10))
    yield result


def test_the_set_is_big_enough() -> None:
    langs = [c.language for c in CONVERSATIONS]
    assert len(CONVERSATIONS) >= 60
    assert langs.count("en") >= 20 and langs.count("es") >= 20


@pytest.mark.parametrize("cid", [c.id for c in CONVERSATIONS])
def test_conversation_ends_with_a_person(summary: Summary, cid: str) -> None:
    result = next(r for r in summary.results if r.conversation.id == cid)
    assert result.error is None, result.render()
    assert result.ended_right, result.render()
    assert result.reason_ok, result.render()
    assert not result.wrong_language, result.render()


@pytest.mark.parametrize("language", ["en", "es"])
def test_field_accuracy(summary: Summary, language: str) -> None:
    accuracy = summary.field_accuracy(language)
    assert accuracy >= FIELD_ACCURACY_TARGET, summary.report(f"{language} misses", worst=15)
