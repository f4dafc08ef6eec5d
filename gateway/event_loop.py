"""The event loop the `pronto` processes run on: uvloop where it is installed, else asyncio's.

uvloop (libuv under asyncio's interface, the loop Rasa's sanic already runs on) costs less CPU
a socket operation than asyncio's selector loop. A worker does a few dozen of them a message
(SQL statements, Redis commands, the Rasa and provider calls), on the same cores as Rasa: the
CPU it saves is Rasa's. `PRONTO_EVENT_LOOP=asyncio` keeps the standard loop (a debugger, or a
platform uvloop does not build on: Windows).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Choice = Literal["auto", "uvloop", "asyncio"]
log = logging.getLogger(__name__)


def loop_factory(choice: Choice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the loop `choice` names; None is asyncio's default.

    Args:
        choice: "auto" (uvloop when importable), "uvloop" (required), "asyncio".

    Raises:
        RuntimeError: "uvloop" was asked for and is not installed.
    """
    if choice == "asyncio":
        return None
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise RuntimeError("PRONTO_EVENT_LOOP=uvloop but uvloop is not installed"
                               " (pip install uvloop, or PRONTO_EVENT_LOOP=asyncio)")
        return None
    import uvloop

    return uvloop.new_event_loop


def new_loop(choice: Choice) -> asyncio.AbstractEventLoop:
    """A new event loop of `choice` (for aiohttp's `web.run_app(loop=...)`)."""
    factory = loop_factory(choice) or asyncio.new_event_loop
    loop = factory()
    log.info("event loop: %s", type(loop).__module__.split(".")[0])
    return loop


def run(main: Coroutine[Any, Any, T], choice: Choice) -> T:
    """`asyncio.run(main)` on the loop `choice` names."""
    with asyncio.Runner(loop_factory=lambda: new_loop(choice)) as runner:
        return runner.run(main)
