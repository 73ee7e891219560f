"""The floor under everything: N ~1 KB messages through Kafka with aiokafka alone, no processing.

Same producer safety and batching as the services (acks=all, idempotent, linger 5 ms, 256 KB batches), one
consumer reading every partition, on a throwaway topic with as many partitions as pos.sales.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from vipcore.kafka import PRODUCER_BATCHING, PRODUCER_SAFETY
from vipcore.topics import POS_SALES

from .ui import progress


@dataclass
class RawResult:
    messages: int
    consumed: int
    seconds: float  # first send -> last message consumed
    produce_seconds: float  # first send -> every send acknowledged

    @property
    def rate(self) -> float:
        return self.consumed / self.seconds if self.seconds > 0 and self.consumed == self.messages else 0.0


async def raw_kafka(bootstrap: str, n: int, run_id: str, *, size: int = 1024, timeout: float = 120) -> RawResult:
    topic = f"bench.raw.{run_id}"
    parts = POS_SALES.partitions
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-raw")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=parts, replication_factor=1)])
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", client_id="bench-raw")
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-raw",
                                    **PRODUCER_SAFETY, **PRODUCER_BATCHING)
        try:
            await consumer.start()
            await producer.start()
            tps = [TopicPartition(topic, p) for p in range(parts)]
            cluster = consumer._client.cluster  # noqa: SLF001 - a new topic's partitions need leaders first
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                    (cluster.leader_for_partition(tp) or -1) >= 0 for tp in tps):
                await consumer._client.force_metadata_update()  # noqa: SLF001
                await asyncio.sleep(0.1)
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            payload = os.urandom(size // 2).hex().encode()[:size]
            keys = [f"M{i:015x}".encode() for i in range(1000)]  # member-like keys spread the partitions
            consumed = 0
            with progress() as bar:
                prod = bar.add_task("raw Kafka produce (acks=all, idempotent)", total=n, info="")
                cons = bar.add_task("raw Kafka consume", total=n, info="")

                async def produce() -> float:
                    futures = []
                    for i in range(n):
                        futures.append(await producer.send(topic, value=payload, key=keys[i % len(keys)]))
                        if i % 1000 == 999:
                            bar.update(prod, completed=i + 1)
                    await asyncio.gather(*futures)
                    bar.update(prod, completed=n)
                    return time.perf_counter() - t0

                async def consume() -> float:
                    nonlocal consumed
                    end = time.monotonic() + timeout
                    while consumed < n and time.monotonic() < end:
                        batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                        consumed += sum(len(v) for v in batch.values())
                        bar.update(cons, completed=consumed)
                    return time.perf_counter() - t0

                t0 = time.perf_counter()
                produce_s, total_s = await asyncio.gather(produce(), consume())
                bar.update(cons, info=f"{consumed / total_s:,.0f} msgs/s through Kafka")
        finally:
            await producer.stop()
            await consumer.stop()
            await admin.delete_topics([topic])
    finally:
        await admin.close()
    return RawResult(n, consumed, total_s, produce_s)
