"""Loyalty's sales consumer throughput: a backlog of SaleRecorded events on pos.sales, loyalty as a process.

    .venv/bin/python -m pytest bench/loyalty_sales.py -q -s -p no:cacheprovider   (N=30000 MEMBERS=5000)
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from devstack.testing import ServiceProcess, StackConfig, produce, sql_value, wait_for
from vipcore.contracts.pos import SaleRecorded
from vipcore.events import Envelope

RUN = Path(__file__).resolve().parents[1] / ".run" / "bench"
N = int(os.environ.get("N", "30000"))
MEMBERS = int(os.environ.get("MEMBERS", "5000"))


async def test_loyalty_sales_throughput(stack_config: StackConfig) -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    cfg = stack_config
    await cfg.prepare()
    records = []
    for i in range(N):
        mid = f"M-{i % MEMBERS}"
        data = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="XA-900", terminal_id="T1", receipt_no=f"R-{i}",
                            occurred_at=datetime(2026, 11, 22, 4, 30, tzinfo=UTC), member_id=mid,
                            member_status="active", card_status="active",
                            lines=[{"line_no": 1, "sku": "S", "qty": 1, "unit_price": 100 + i, "paid": 100 + i}],
                            payments=[{"method": "cash", "amount": 100 + i}])
        env = Envelope.new(data, source="gateway", subject=mid)
        records.append((mid.encode(), env.body(), env.kafka_headers()))
    await produce(cfg.kafka_bootstrap, cfg.topic_prefix + "pos.sales", records)
    proc = ServiceProcess(cfg, "loyalty", RUN)
    proc.start()
    try:
        await proc.wait_ready()
        started = time.perf_counter()

        async def done() -> bool:
            return bool(await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger") >= N)

        await wait_for(done, 600, f"{N} sales", interval=0.2)
        dt = time.perf_counter() - started
        outbox = await sql_value(cfg, "loyalty", "SELECT count(*) FROM outbox")
        print(f"\nloyalty: {N} sales for {MEMBERS} members in {dt:.1f}s = {N / dt:.0f} sales/s "
              f"(ledger + account state + {outbox} outbox rows still unpurged); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        proc.stop()
