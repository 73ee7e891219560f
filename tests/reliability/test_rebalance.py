"""Rebalancing is safe (issue 14 item 3): two instances of a service in one consumer group; one joins under load,
which rebalances the group, and the other is SIGKILLed mid-batch while that rebalance is under way; later it
comes back (another rebalance). Every sale is applied exactly once: nothing lost, nothing repeated.

aiokafka (0.14) has no cooperative (incremental) rebalancing: its assignors (range, round robin, sticky) all use
the eager protocol, where every member gives up its partitions at each rebalance (aio-libs/aiokafka#1126). What
makes that safe here is the delivery design, not the assignor: offsets are committed only after the batch's
transaction (effects + inbox) committed, and the inbox makes a redelivered event a no-op, so a batch that a dead
or revoked member had half done is redone by the new owner and applied once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from devstack.testing import ServiceProcess, StackConfig, sql_value, wait_for

from tests.reliability.test_delivery_guarantees import _done, _load, _totals

RUN = Path(__file__).resolve().parents[2] / ".run" / "test"


async def _group_state(bootstrap: str, group: str) -> str:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (resp,) = await admin.describe_consumer_groups([group])
        return str(resp.groups[0][2])
    finally:
        await admin.close()


@pytest.mark.timeout(600)  # two service processes and two rebalances on a 2-core machine
async def test_instance_killed_mid_batch_during_a_rebalance_loses_and_repeats_nothing(
        stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.prepare()
    n = 20000
    expected_points = await _load(cfg, n, members=300)
    group = f"loyalty.{cfg.topic_prefix}pos.sales"
    a = ServiceProcess(cfg, "loyalty", RUN, instance=1)
    b = ServiceProcess(cfg, "loyalty", RUN, instance=2)

    async def applied(at_least: float) -> bool:
        try:
            return bool(await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger") >= at_least)
        except Exception:  # noqa: BLE001 - tables not migrated yet
            return False

    try:
        a.start()
        await wait_for(lambda: applied(n * 0.15), 240, "instance a under way", interval=0.05)
        b.start()  # b joins the group: a must give up its partitions (eager) and both rejoin
        seen: set[str] = set()

        async def rebalancing() -> bool:
            seen.add(await _group_state(cfg.kafka_bootstrap, group))
            return bool(seen & {"PreparingRebalance", "CompletingRebalance"})

        await wait_for(rebalancing, 60, "the group to rebalance as b joins", interval=0.02)
        a.kill()  # mid-batch (a is busy with a backlog) while the group rebalances
        assert (await _totals(cfg))[0] < n, "the backlog was done before the kill; raise n"

        await wait_for(lambda: applied(n * 0.6), 180, "instance b carrying on alone", interval=0.1)
        a.start()  # a comes back: one more rebalance under load
        await wait_for(lambda: _done(cfg, n), 240, f"all {n} sales")
        await asyncio.sleep(1.0)  # time for any duplicate to (wrongly) land
        assert await _totals(cfg) == (n, n, expected_points)  # each sale applied once, points exactly once
    finally:
        a.stop()
        b.stop()
