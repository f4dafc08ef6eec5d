"""The Rasa client over several replicas (gateway/infra/bot_client.py), against two local fake
Rasa servers: turns alternate, a dead replica is skipped, readiness needs one."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.errors import BotUnavailable
from gateway.infra.bot_client import BotClient, split_urls
from tests.fakes.rasa import FakeRasa


def test_rasa_url_may_list_replicas() -> None:
    assert split_urls("http://a:5005/, http://b:5005") == ["http://a:5005", "http://b:5005"]
    assert split_urls("http://a:5005") == ["http://a:5005"]


async def test_turns_alternate_and_a_dead_replica_is_skipped() -> None:
    a, b = await FakeRasa().start(), await FakeRasa().start()
    async with aiohttp.ClientSession() as http:
        bot = BotClient(f"{a.url},{b.url}", http)
        for i in range(4):
            await bot.send(f"s{i}", "hi", {"language": "en"}, 5.0)
        assert len(a.requests) == 2 and len(b.requests) == 2
        await a.stop()
        for _ in range(3):
            reply = await bot.send("s", "hi", {"language": "en"}, 5.0)
            assert reply.texts
        assert len(b.requests) == 5  # every turn went to the live one
        assert await bot.ready()
        await b.stop()
        assert not await bot.ready()
        with pytest.raises(BotUnavailable):
            await bot.send("s", "hi", {}, 2.0)
