"""Group commit for stream appends: the XADDs that arrive together go in one round trip.

Under load a webhook's answer waited mostly on its own XADD: at 200 webhooks/s on 2 cores,
`pronto serve`'s appends took up to 300 ms (11 % of them over 10 ms), while the loop was
never stalled past 50 ms. Each append was a round trip of its own (the server and then this
process must each get a core), and a slow moment held more connections at once, so the pool
opened new ones (a connect and its handshake are four more round trips) in the middle of the
burst. Here every append made while a round trip is out waits for the next one and goes with
the others in one pipeline (not a transaction: each XADD stands alone) on one connection: one
append alone still goes at once (the next turn of the loop), a burst costs one round trip per
batch. Each caller still returns only once Redis has its entry (durable as before), with its
own entry id or its own error. Appends awaited one after another keep their order (the next
is made once the first has its id); appends made at the same moment go in the order made when
they share a batch, and two batches out at once may land in either order, as two lone XADDs
racing for connections did before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

MAX_ROUND_TRIPS = 2
"""Batches out at once: one more can fill while one is on the wire."""
MAX_BATCH = 500
"""Appends in one pipeline, at most (a bound on one reply's size)."""


class AppendBatcher:
    """Batches `XADD`s on one Redis client (see the module docstring)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._pending: list[tuple[str, dict[str, str], asyncio.Future[Any]]] = []
        self._out = 0
        """Flushes scheduled or running."""
        self._tasks: set[asyncio.Task[None]] = set()

    async def xadd(self, stream: str, fields: dict[str, str]) -> str:
        """Append `fields` to `stream` with the appends made meanwhile; returns the entry id.

        Raises:
            RedisError: the append failed (the same error the XADD alone would raise).
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((stream, fields, future))
        if self._out < MAX_ROUND_TRIPS:
            self._out += 1
            # A task, not a call: it runs on the loop's next turn, and what was appended in
            # this turn goes with it.
            task = asyncio.ensure_future(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return str(await future)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._send(batch)
        finally:
            self._out -= 1

    async def _send(self, batch: list[tuple[str, dict[str, str], asyncio.Future[Any]]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream, fields, _ in batch:
                    pipe.xadd(stream, fields)  # type: ignore[arg-type]
                results = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:  # shutting down: its callers must not wait forever
            for *_, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # the connection failed: every append in the batch did
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled (the entry is in Redis anyway)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
