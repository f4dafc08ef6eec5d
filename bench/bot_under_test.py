"""The Rasa a benchmark talks to: a running one (`--rasa URL`), the real model started from
.venv-rasa (`--start-rasa`), or a fake that answers at once (Pronto's own overhead)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from tests.fakes.rasa import FakeRasa


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The `--rasa` and `--start-rasa` options."""
    ap.add_argument("--rasa", help="URL of a running Rasa with the model")
    ap.add_argument("--start-rasa", action="store_true",
                    help="start Rasa + actions from .venv-rasa")


@dataclass
class Bot:
    """The Rasa in use and what to stop afterwards."""

    url: str
    kind: str
    real: Any = None
    fake: FakeRasa | None = None

    async def stop(self) -> None:
        """Stop what this benchmark started."""
        if self.fake is not None:
            await self.fake.stop()
        if self.real is not None:
            self.real.close()


async def start_bot(args: argparse.Namespace) -> Bot:
    """Start (or point at) the Rasa the options ask for."""
    if args.start_rasa:
        from tests.rasa_server import RealRasa

        print("starting the action server and Rasa (model load takes 30-60 s)...", flush=True)
        real = await asyncio.to_thread(RealRasa, Path(tempfile.mkdtemp()))
        port = free_port()
        await asyncio.to_thread(real.start_rasa, port)
        return Bot(f"http://127.0.0.1:{port}", "real", real=real)
    if args.rasa:
        return Bot(args.rasa, "real")
    fake = await FakeRasa().start()
    return Bot(fake.url, "fake", fake=fake)
