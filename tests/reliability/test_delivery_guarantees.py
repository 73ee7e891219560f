"""architecture.md delivery guarantees, each proven against the real broker and database.

- poison messages go to <topic>.dlq with the error and consumption carries on;
- a redelivered event is a no-op (inbox in the same transaction as the effect);
- a consumer SIGKILLed mid-batch loses nothing and counts nothing twice (offsets after commit);
- a database outage under a consumer skips nothing (transient failures are retried, not dead-lettered).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from devstack import postgres
from devstack.testing import ServiceProcess, Stack, StackConfig, consume_all, produce, sql_value, wait_for
from vipcore.contracts.pos import SaleRecorded
from vipcore.events import Envelope

from tests.e2e.test_sale_fanout import sale

RUN = Path(__file__).resolve().parents[2] / ".run" / "test"


def sale_event(member_id: str, paid: int, n: int) -> Envelope:
    data = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="XA-900", terminal_id="T1", receipt_no=f"R-{n}",
                        occurred_at=datetime(2026, 11, 22, 4, 30, tzinfo=UTC), member_id=member_id,
                        lines=[{"line_no": 1, "sku": "S", "qty": 1, "unit_price": paid, "paid": paid}],
                        payments=[{"method": "cash", "amount": paid}])
    return Envelope.new(data, source="gateway", subject=member_id)


def record(env: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    return (env.subject or "").encode(), env.body(), env.kafka_headers()


async def test_poison_messages_go_to_dlq_and_the_next_message_is_processed(stack: Stack) -> None:
    key = await stack.add_store("XA-010", "generic")
    (m,) = await stack.add_members([{"store_id": "XA-010", "full_name": "赵建国", "mobile": "13700000001"}])
    await stack.wait_directory(key, m["card_no"])
    topic = stack.cfg.topic_prefix + "pos.sales"
    good = sale_event(m["member_id"], 1000, 1)
    hdrs = good.kafka_headers()
    await produce(stack.cfg.kafka_bootstrap, topic, [
        (b"k", b"{not json", hdrs),                                  # unparseable body
        (b"k", orjson.dumps({"sale_id": 1}), sale_event("x", 1, 2).kafka_headers()),  # schema-invalid
        (b"k", b"{}", []),                                           # no CloudEvents headers
        (b"k", good.body(), [(k, v.replace(b":v1", b":v9")) if k == "ce_dataschema" else (k, v)
                             for k, v in sale_event("y", 1, 3).kafka_headers()]),  # unknown version
        (b"k", good.body(), [*sale_event("z", 1, 4).kafka_headers(), ("traceparent", b"\xff\xfe")]),  # not UTF-8
    ])
    async with __import__("httpx").AsyncClient(base_url=stack.url("gateway"),
                                               headers={"Authorization": f"Bearer {key}"}) as pos:
        assert (await pos.post("/v1/sales", json=sale("XA-010", "R-after", m["card_no"], 5000))).status_code == 201
    assert await wait_for(lambda: sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger"), 30,
                          "the good sale after the poison ones") == 1
    dlq = await consume_all(stack.cfg.kafka_bootstrap, topic + ".dlq", expect=15)
    by_loyalty = [r for r in dlq if dict(r.headers)["x-dlq-consumer"] == f"loyalty.{topic}".encode()]
    assert len(by_loyalty) == 5
    errors = [dict(r.headers)["x-dlq-error"].decode() for r in by_loyalty]
    assert "not JSON" in errors[0] and "violates" in errors[1]
    assert "missing CloudEvents headers" in errors[2] and "unknown event type/version" in errors[3]
    assert "not UTF-8" in errors[4] and dict(by_loyalty[4].headers)["traceparent"] == b"\xff\xfe"
    assert by_loyalty[0].value == b"{not json"  # the original bytes are kept for replay


async def test_redelivered_event_is_a_noop(stack: Stack) -> None:
    env = sale_event("M-redeliver", 12345, 1)
    topic = stack.cfg.topic_prefix + "pos.sales"
    await produce(stack.cfg.kafka_bootstrap, topic, [record(env), record(env)])
    await produce(stack.cfg.kafka_bootstrap, topic, [record(env)])
    await wait_for(lambda: sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger"), 30, "ledger entry")
    await wait_for(lambda: sql_value(stack.cfg, "members", "SELECT count(*) FROM consumptions"), 30, "consumption")
    await asyncio.sleep(1.0)  # give any duplicate time to (wrongly) land
    assert await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger") == 1
    assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts") == 123


async def _load(cfg: StackConfig, n: int, members: int = 50, start: int = 0) -> int:
    topic = cfg.topic_prefix + "pos.sales"
    envs = [sale_event(f"M-{i % members}", 100 + i, i) for i in range(start, start + n)]
    await produce(cfg.kafka_bootstrap, topic, [record(e) for e in envs])
    return sum((100 + i) // 100 for i in range(start, start + n))


async def _totals(cfg: StackConfig) -> tuple[int, int, int]:
    return (await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger"),
            await sql_value(cfg, "loyalty", "SELECT count(DISTINCT cause_event_id) FROM ledger"),
            await sql_value(cfg, "loyalty", "SELECT coalesce(sum(points_balance), 0) FROM accounts"))


async def test_consumer_killed_mid_batch_counts_every_sale_exactly_once(stack_config: StackConfig) -> None:
    """SIGKILL twice while a backlog is consumed; each kill lands seconds in, after any periodic commit."""
    cfg = stack_config
    await cfg.prepare()
    n = 60000
    expected_points = await _load(cfg, n)
    proc = ServiceProcess(cfg, "loyalty", RUN)
    try:
        for fraction in (0.3, 0.65):
            proc.start()

            async def part_done(fraction: float = fraction) -> bool:
                try:
                    return bool(await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger") >= n * fraction)
                except Exception:  # noqa: BLE001 - tables not migrated yet
                    return False

            await wait_for(part_done, 120, f"{fraction:.0%} of the backlog", interval=0.01)
            proc.kill()
            assert (await _totals(cfg))[0] < n, "the consumer finished before it could be killed; raise n"
        proc.start()
        await wait_for(lambda: _done(cfg, n), 180, f"all {n} sales after the restarts")
        await asyncio.sleep(0.5)
        assert await _totals(cfg) == (n, n, expected_points)
    finally:
        proc.stop()


async def _done(cfg: StackConfig, n: int) -> bool:
    return (await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger")) >= n


async def test_database_outage_under_a_consumer_skips_nothing(stack_config: StackConfig,
                                                             pg_node: postgres.PgNode | None) -> None:
    if pg_node is None:
        pytest.skip("needs the locally started PostgreSQL to stop and start it (TEST_PG_HOST is set)")
    cfg = stack_config
    await cfg.prepare()
    proc = ServiceProcess(cfg, "loyalty", RUN)
    proc.start()
    try:
        await proc.wait_ready()
        expected = await _load(cfg, 2000)
        await wait_for(lambda: _done(cfg, 2000), 60, "first half processed")
        postgres.stop(pg_node, "fast")  # every connection dies; the consumer must retry, not skip
        try:
            expected += await _load(cfg, 3000, start=2000)
            await asyncio.sleep(4)
        finally:
            postgres.start(pg_node)
        await wait_for(lambda: _done(cfg, 5000), 90, "every sale after the database came back")
        await asyncio.sleep(0.5)
        assert await _totals(cfg) == (5000, 5000, expected)
        dlq = await consume_all(cfg.kafka_bootstrap, cfg.topic_prefix + "pos.sales.dlq", expect=1, timeout=3)
        assert dlq == [], "a transient failure must not dead-letter anything"
    finally:
        proc.stop()
