"""Every Kafka topic, declared once: name, partitions, retention. Setup creates them (auto-create is off)."""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int = 7 * DAY_MS

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


POS_SALES = Topic("pos.sales", partitions=6)
MEMBERS_EVENTS = Topic("members.events", partitions=3)
LOYALTY_EVENTS = Topic("loyalty.events", partitions=3)
CREDIT_EVENTS = Topic("credit.events", partitions=3)
NOTIFY_EVENTS = Topic("notify.events", partitions=3)

CONSUMED = (POS_SALES, MEMBERS_EVENTS, LOYALTY_EVENTS, CREDIT_EVENTS, NOTIFY_EVENTS)


def all_topics(prefix: str = "") -> list[tuple[str, int, int]]:
    """(name, partitions, retention_ms) for every topic and its dead-letter topic."""
    out: list[tuple[str, int, int]] = []
    for t in CONSUMED:
        out.append((prefix + t.name, t.partitions, t.retention_ms))
        out.append((prefix + t.dlq, 1, 30 * DAY_MS))
    return out


async def create_topics(bootstrap: str, prefix: str = "") -> list[str]:
    """Create missing topics; returns the names created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name, num_partitions=p, replication_factor=1,
                     topic_configs={"retention.ms": str(r)})
            for name, p, r in all_topics(prefix) if name not in existing
        ]
        if new:
            await admin.create_topics(new)
        return [t.name for t in new]
    finally:
        await admin.close()
