"""Watching the system from outside: loyalty's ledger, outbox backlogs and consumer-group lag.

Read-only: the bench looks at the databases and Kafka offsets, it never writes to them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from devstack.testing import SERVICES, StackConfig

from .system import dsn

LOOKBACK = 5000


@dataclass
class Seen:
    visible_at: float  # epoch s: start of the first ledger query that returned the row (upper bound)
    created_at: float  # epoch s: ledger.created_at = now() of loyalty's transaction start (lower bound)


class Ledger:
    """Loyalty's ledger: counts per receipt prefix, and when each receipt's points became visible."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool  # follow() holds one connection while counts use another

    @classmethod
    async def open(cls, cfg: StackConfig) -> Ledger:
        return cls(await asyncpg.create_pool(dsn(cfg, "loyalty"), min_size=1, max_size=3))

    async def close(self) -> None:
        await self.pool.close()

    async def mark(self) -> int:
        return int(await self.pool.fetchval("SELECT coalesce(max(id), 0) FROM ledger"))

    async def count(self, since_id: int, prefix: str) -> int:
        return int(await self.pool.fetchval(
            "SELECT count(*) FROM ledger WHERE id > $1 AND receipt_no LIKE $2", since_id, prefix + "%"))

    async def follow(self, since_id: int, wanted: set[str], deadline: float, interval: float = 0.02,
                     stop: asyncio.Event | None = None) -> dict[str, Seen]:
        """Poll new ledger rows until every wanted receipt was seen, `stop` is set or `deadline` (monotonic).

        With one loyalty instance, ids become visible in order (one transaction per batch). With several, a
        transaction that took its ids earlier may commit after a later one, so each poll looks back
        `LOOKBACK` ids below the highest seen (more than the rows several in-flight batches hold).
        """
        seen: dict[str, Seen] = {}
        last = since_id
        async with self.pool.acquire() as conn:
            while len(seen) < len(wanted) and time.monotonic() < deadline and not (stop and stop.is_set()):
                asked = time.time()
                rows = await conn.fetch(
                    "SELECT id, receipt_no, extract(epoch FROM created_at)::float8 AS created "
                    "FROM ledger WHERE id > $1 ORDER BY id LIMIT 20000", max(since_id, last - LOOKBACK))
                for r in rows:
                    last = max(last, r["id"])
                    rn = r["receipt_no"]
                    if rn in wanted and rn not in seen:
                        seen[rn] = Seen(asked, r["created"])
                if len(rows) < 20000:
                    await asyncio.sleep(interval)
        return seen


class Backlog:
    """Unpublished outbox rows per service database (events accepted but not yet in Kafka)."""

    def __init__(self, conns: dict[str, asyncpg.Connection]) -> None:
        self.conns = conns

    @classmethod
    async def open(cls, cfg: StackConfig, services: tuple[str, ...] = ("gateway", "loyalty")) -> Backlog:
        return cls({s: await asyncpg.connect(dsn(cfg, s)) for s in services})

    async def close(self) -> None:
        for c in self.conns.values():
            await c.close()

    async def unpublished(self) -> dict[str, int]:
        return {s: int(await c.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
                for s, c in self.conns.items()}


class Lag:
    """Consumer-group lag (end offset - committed offset) of the services' groups on a topic."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="bench-lag",
                                         enable_auto_commit=False)
        self._parts: dict[str, list[TopicPartition]] = {}

    async def start(self) -> None:
        await self.admin.start()
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def groups(self, topic: str) -> list[str]:
        names = {g[0] if isinstance(g, tuple) else g for g in await self.admin.list_consumer_groups()}
        return sorted(f"{s}.{topic}" for s in SERVICES if f"{s}.{topic}" in names)

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        if topic not in self._parts:
            ps = self.consumer.partitions_for_topic(topic)
            if not ps:
                await self.consumer._client.force_metadata_update()  # noqa: SLF001 - first look at a topic
                ps = self.consumer.partitions_for_topic(topic) or set()
            self._parts[topic] = [TopicPartition(topic, p) for p in sorted(ps)]
        return self._parts[topic]

    async def lag(self, topic: str, groups: list[str]) -> dict[str, int]:
        parts = await self._partitions(topic)
        ends = await self.consumer.end_offsets(parts)
        out = {}
        for g in groups:
            committed = await self.admin.list_consumer_group_offsets(g, partitions=parts)
            out[g] = sum(max(ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0
                                         else 0), 0) for tp in parts)
        return out


async def wait_quiet(lag: Lag, backlog: Backlog, timeout: float = 180) -> float:
    """Until no outbox holds unpublished rows and every service group is caught up; returns seconds waited."""
    t0 = time.monotonic()
    topics = {t: await lag.groups(t) for t in ("pos.sales", "members.events", "loyalty.events")}
    while time.monotonic() - t0 < timeout:
        busy = sum((await backlog.unpublished()).values())
        for t, gs in topics.items():
            busy += sum((await lag.lag(t, gs)).values())
        if busy == 0:
            return time.monotonic() - t0
        await asyncio.sleep(0.25)
    raise SystemExit(f"bench: the system did not settle within {timeout:.0f}s")
