"""A busy account's older receipts are merged in its state (KEEP_RECEIPTS); the ledger keeps the rules exact:
a merged receipt published again under a new event id earns nothing (L-02), and refunds of it in parts reverse
exactly what it earned, each refund once (L-03)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devstack.testing import Stack, produce, sql_value, wait_for
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.events import Envelope

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
POINTS = "SELECT coalesce(sum(points), 0) FROM ledger WHERE member_id=$1"


def record(mid: str, data: SaleRecorded | SaleRefunded) -> tuple[bytes, bytes, list]:
    env = Envelope.new(data, source="gateway", subject=mid)
    return mid.encode(), env.body(), env.kafka_headers()


def sold(mid: str, n: int, paid: int) -> SaleRecorded:
    return SaleRecorded(sale_id=str(uuid.uuid4()), store_id="BZ-001", terminal_id="T1", receipt_no=f"B{n}",
                        occurred_at=T0 + timedelta(minutes=n), member_id=mid, member_status="active",
                        card_status="active", lines=[{"line_no": 1, "sku": "S", "qty": 2, "unit_price": paid // 2,
                                                      "paid": paid}],
                        payments=[{"method": "cash", "amount": paid}])


def refunded(mid: str, refund_id: str, paid: int) -> SaleRefunded:
    return SaleRefunded(refund_id=refund_id, sale_id=str(uuid.uuid4()), store_id="BZ-001",
                        receipt_no=f"F-{refund_id}", original_receipt_no="B0", occurred_at=T0 + timedelta(days=2),
                        member_id=mid, lines=[{"line_no": 1, "qty": 1, "paid": paid}])


async def test_l02_l03_merged_receipts_earn_once_and_reverse_exactly(stack: Stack) -> None:
    await stack.add_store("BZ-001", "generic")
    mid = f"M-busy-{uuid.uuid4().hex[:8]}"
    topic = stack.cfg.topic_prefix + "pos.sales"
    # B0 earns 15 points (1,500 fen at 1 point per yuan); then 200 receipts of 1 yuan bury it in the merged past
    await produce(stack.cfg.kafka_bootstrap, topic,
                  [record(mid, sold(mid, 0, 1500))] + [record(mid, sold(mid, n, 100)) for n in range(1, 201)])
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", POINTS, mid), 215), 60, "201 receipts earned")
    state = await sql_value(stack.cfg, "loyalty", "SELECT state::text FROM accounts WHERE member_id=$1", mid)
    assert '"BZ-001/B0"' not in state and '"~' in state  # B0 lives on only in the ledger

    # B0 again under a new event id (a re-published sale) earns nothing; two half refunds and one of them again
    # under a new event id reverse 8 + 7 = 15 points, never more
    await produce(stack.cfg.kafka_bootstrap, topic, [
        record(mid, sold(mid, 0, 1500)),
        record(mid, refunded(mid, "RF-1", 750)),
        record(mid, refunded(mid, "RF-2", 750)),
        record(mid, refunded(mid, "RF-1", 750)),
        record(mid, sold(mid, 999, 100))])  # a marker: once it has earned, everything before it was handled
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id=$1 "
                                                              "AND receipt_no='B999'", mid), 1), 60, "the marker")
    assert await sql_value(stack.cfg, "loyalty", POINTS, mid) == 215 - 15 + 1
    rev = await sql_value(stack.cfg, "loyalty", "SELECT string_agg((-points)::text, ',' ORDER BY id) FROM ledger "
                                                "WHERE member_id=$1 AND kind='reverse'", mid)
    assert rev == "8,7"
    assert await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id=$1 AND kind='earn' "
                                                 "AND receipt_no='B0'", mid) == 1


async def _eq(value: object, want: int) -> bool:
    return bool(await value == want)  # type: ignore[misc]
