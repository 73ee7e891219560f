"""Offsets are committed only after the batch's transaction commits (architecture.md, delivery guarantees).

FastStream's default AckPolicy.ACK_FIRST (and aiokafka auto-commit) commit before or while a handler runs;
this test holds a handler mid-batch for longer than the auto-commit interval and checks the group's
committed offset has not moved past the unprocessed records.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient
from devstack.testing import StackConfig, produce, wait_for
from loyalty.bootstrap import MIGRATIONS
from loyalty.config import LoyaltySettings
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.pos import SaleRecorded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import POS_SALES

from tests.reliability.test_delivery_guarantees import record, sale_event


async def committed(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(max(o.offset, 0) for o in offsets.values())
    finally:
        await admin.close()


async def test_offsets_stay_behind_a_batch_until_its_transaction_commits(stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.prepare()
    settings: LoyaltySettings = cfg.settings("loyalty")
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS)
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def slow_handler(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
        entered.set()
        await release.wait()
        seen.extend(str(d.env.id) for d in batch)

    consumer = rt.consume(POS_SALES, {SaleRecorded: slow_handler})
    await produce(cfg.kafka_bootstrap, cfg.topic_prefix + "pos.sales",
                  [record(sale_event(f"M-{i}", 100, i)) for i in range(10)])
    await rt.start()
    try:
        await asyncio.wait_for(entered.wait(), 30)
        await asyncio.sleep(6.5)  # longer than aiokafka's 5 s auto-commit interval
        assert await committed(cfg.kafka_bootstrap, consumer.group_id) == 0
        release.set()
        await wait_for(lambda: committed(cfg.kafka_bootstrap, consumer.group_id), 20, "the commit after the batch")
        assert await committed(cfg.kafka_bootstrap, consumer.group_id) == 10 == len(seen)
    finally:
        release.set()
        await rt.stop()
