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


def all_topics(prefix: str = "", min_partitions: int = 1) -> list[tuple[str, int, int]]:
    """(name, partitions, retention_ms) for every topic and its dead-letter topic.

    `min_partitions`: at least this many partitions per consumed topic, so that many instances of a consumer
    group each get work (a partition goes to one member of a group). Keys (member, receipt) still map to one
    partition each, so per-member and per-receipt order holds. Set it when a topic is created: adding partitions
    later moves keys to other partitions and breaks that order for events already on the topic."""
    out: list[tuple[str, int, int]] = []
    for t in CONSUMED:
        out.append((prefix + t.name, max(t.partitions, min_partitions), t.retention_ms))
        out.append((prefix + t.dlq, 1, 30 * DAY_MS))
    return out


async def create_topics(bootstrap: str, prefix: str = "", *, replication_factor: int = 1,
                        min_partitions: int = 1) -> list[str]:
    """Create missing topics; returns the names created.

    On a cluster pass `replication_factor=3`: the topics then also get `min.insync.replicas=2`, so an event the
    producers (acks=all) were told is written is on two brokers at least."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    configs = {"min.insync.replicas": "2"} if replication_factor >= 3 else {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name, num_partitions=p, replication_factor=replication_factor,
                     topic_configs={"retention.ms": str(r), **configs})
            for name, p, r in all_topics(prefix, min_partitions) if name not in existing
        ]
        if new:
            await admin.create_topics(new)
        return [t.name for t in new]
    finally:
        await admin.close()
