"""The outbox relay publishes what was committed while it was down, in order per key, after a restart."""

from __future__ import annotations

import uuid

from devstack.testing import StackConfig, consume_all, sql_value
from gateway.bootstrap import MIGRATIONS
from gateway.entrypoints.schemas import SaleIn
from gateway.service.directory import Directory
from gateway.service.sales import SalesDesk
from vipcore.db import make_engine, upgrade_async
from vipcore.runtime import ServiceRuntime
from vipcore.topics import create_topics


def sale(card: str, n: int) -> SaleIn:
    return SaleIn.model_validate({
        "store_id": "XA-1", "terminal_id": "T1", "receipt_no": f"{card}-{n:04d}",
        "occurred_at": "2026-11-22T12:30:00+08:00", "member": {"card_no": card},
        "lines": [{"line_no": 1, "sku": "A", "qty": 1, "unit_price": 100, "paid": 100}],
        "payments": [{"method": "cash", "amount": 100}]})


async def test_rows_committed_while_the_relay_was_down_are_published_in_order(stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.create_service_database("gateway")
    await create_topics(cfg.kafka_bootstrap, cfg.topic_prefix)
    settings = cfg.settings("gateway")
    await upgrade_async(settings.sync_database_url, MIGRATIONS)
    engine = make_engine(settings.database_url)
    desk = SalesDesk(engine, Directory("k"), cfg.topic_prefix, wake=lambda: None)  # no relay running
    cards = [f"C{uuid.uuid4().hex[:6]}" for _ in range(3)]
    for n in range(100):
        await desk.record([sale(c, n) for c in cards])
    await engine.dispose()
    assert await sql_value(cfg, "gateway", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 300

    for _ in range(2):  # start, let it publish, stop; then once more: nothing is published twice
        rt = ServiceRuntime(settings, versions_dir=MIGRATIONS)
        await rt.start()
        try:
            topic = cfg.topic_prefix + "pos.sales"
            records = await consume_all(cfg.kafka_bootstrap, topic, expect=300, timeout=30)
        finally:
            await rt.stop()
    records = await consume_all(cfg.kafka_bootstrap, topic, expect=301, timeout=5)
    assert len(records) == 300
    assert await sql_value(cfg, "gateway", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    # published rows keep no payload: the event (and any personal data in it) lives on in the broker only
    assert await sql_value(cfg, "gateway", "SELECT count(*) FROM outbox WHERE length(payload) > 0") == 0
    by_key: dict[bytes, list[str]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append(r.value.decode())
    assert set(by_key) == {c.encode() for c in cards}
    for card in cards:
        receipts = [v.split('"receipt_no":"')[1].split('"')[0] for v in by_key[card.encode()]]
        assert receipts == [f"{card}-{n:04d}" for n in range(100)]  # in commit order, per member key
