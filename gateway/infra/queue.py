"""The durable inbound queue: Redis Streams split into partitions, one consumer group.

Every event carries a key (one person, or one lead); a key always maps to the same partition,
and a partition is consumed by exactly one worker at a time (a lease in `worker.py`), so one
person's messages are processed in order and never concurrently, whatever the number of
worker processes. Entries stay pending until acknowledged; a worker that takes over a
partition first claims what the previous owner left unacknowledged (at-least-once; the
pipeline dedupes).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from gateway.infra.append_batch import AppendBatcher

GROUP = "workers"


@dataclass(frozen=True, slots=True)
class Event:
    """One queued unit of work.

    Attributes:
        entry_id: the stream entry id (for ack).
        partition: partition number.
        key: the serialisation key ("phone:+1…", "lead:42").
        type: "inbound", "bot_retry", …
        body: JSON-decoded payload.
    """

    entry_id: str
    partition: int
    key: str
    type: str
    body: dict[str, Any]


class InboundQueue:
    """Partitioned Redis Stream queue."""

    def __init__(self, redis: aioredis.Redis, partitions: int = 8, prefix: str = "pronto") -> None:
        self.redis = redis
        self.partitions = partitions
        self.prefix = prefix
        self._appends = AppendBatcher(redis)

    def stream(self, partition: int) -> str:
        """Stream name of a partition."""
        return f"{self.prefix}:in:{partition}"

    def partition_of(self, key: str) -> int:
        """Stable partition for a key (crc32, identical across processes and restarts)."""
        return zlib.crc32(key.encode()) % self.partitions

    async def ensure_groups(self) -> None:
        """Create the consumer group on every partition (idempotent)."""
        for p in range(self.partitions):
            try:
                await self.redis.xgroup_create(self.stream(p), GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def enqueue(self, key: str, type_: str, body: dict[str, Any]) -> str:
        """Append an event; returns its entry id. Durable once Redis has it (appends made at
        the same moment share one round trip: `gateway.infra.append_batch`)."""
        fields = {"key": key, "type": type_, "body": json.dumps(body)}
        return await self._appends.xadd(self.stream(self.partition_of(key)), fields)

    def _events(self, partition: int, entries: list[Any]) -> list[Event]:
        out = []
        for entry_id, fields in entries:
            if not fields:  # deleted entry still pending
                continue
            out.append(
                Event(
                    entry_id=entry_id,
                    partition=partition,
                    key=fields["key"],
                    type=fields["type"],
                    body=json.loads(fields["body"]),
                )
            )
        return out

    async def claim_abandoned(self, partition: int, consumer: str) -> list[Event]:
        """Take over every pending entry of the partition (the caller holds its lease)."""
        events: list[Event] = []
        start = "0-0"
        while True:
            res = await self.redis.xautoclaim(
                self.stream(partition), GROUP, consumer, min_idle_time=0, start_id=start, count=100
            )
            start, entries = res[0], res[1]
            events.extend(self._events(partition, entries))
            if start in ("0-0", b"0-0"):
                break
        events.sort(key=lambda e: tuple(int(x) for x in e.entry_id.split("-")))
        return events

    async def read(
        self, partition: int, consumer: str, count: int = 50, block_ms: int = 500
    ) -> list[Event]:
        """Read new entries for this consumer (blocks up to `block_ms`)."""
        res = await self.redis.xreadgroup(
            GROUP, consumer, {self.stream(partition): ">"}, count=count, block=block_ms
        )
        if not res:
            return []
        entries: Any = res[0][1]  # type: ignore[index]
        return self._events(partition, entries)

    async def ack(self, event: Event) -> None:
        """Acknowledge and delete a processed entry."""
        stream = self.stream(event.partition)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, event.entry_id)
            pipe.xdel(stream, event.entry_id)
            await pipe.execute()

    async def depth(self) -> int:
        """Entries not yet acknowledged, over all partitions (for /metrics and readiness): one
        round trip for all of them (every worker asks every second)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for p in range(self.partitions):
                pipe.xlen(self.stream(p))
            lengths = await pipe.execute()
        return sum(int(n) for n in lengths)
