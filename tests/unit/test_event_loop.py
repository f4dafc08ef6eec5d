"""`gateway.event_loop`: which loop `pronto serve` and `pronto worker` run on."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
import uvloop

from gateway.config.settings import Settings
from gateway.event_loop import loop_factory, new_loop, run


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_auto_is_uvloop_when_installed() -> None:
    assert loop_factory("auto") is uvloop.new_event_loop
    assert run(_loop_module(), "auto") == "uvloop"


def test_asyncio_keeps_the_standard_loop() -> None:
    assert loop_factory("asyncio") is None
    assert run(_loop_module(), "asyncio") == "asyncio"


def test_new_loop_for_run_app_is_of_the_choice() -> None:
    for choice, kind in (("uvloop", uvloop.Loop), ("asyncio", asyncio.BaseEventLoop)):
        loop = new_loop(choice)
        try:
            assert isinstance(loop, kind)
        finally:
            loop.close()


def test_uvloop_asked_for_and_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvloop" else real(name, *a))
    assert loop_factory("auto") is None  # auto falls back to asyncio's loop
    with pytest.raises(RuntimeError, match="PRONTO_EVENT_LOOP=asyncio"):
        loop_factory("uvloop")


def test_setting_defaults_to_auto_and_rejects_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRONTO_EVENT_LOOP", raising=False)
    assert Settings().event_loop == "auto"
    monkeypatch.setenv("PRONTO_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match=r"event_loop|PRONTO_EVENT_LOOP"):
        Settings()
