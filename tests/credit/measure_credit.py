"""Measurements (run explicitly: ./dev test tests/credit/measure_credit.py -q -s): the pos.sales credit handler
per batch, and POS authorisations through the gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from devstack.testing import Stack
from vipcore.auth import Role
from vipcore.consumer import Tx
from vipcore.contracts.pos import SaleRecorded
from vipcore.events import Envelope

from .helpers import authorize, open_account, pos, staff


class UntracedTx(Tx):
    """A consumer transaction for deliveries without a Kafka span (the handler alone is measured)."""

    def emit(self, topic: Any, key: str | None, envelope: Envelope, cause: Any = None) -> None:
        super().emit(topic, key, envelope, None)


def deliveries(n: int, credit_every: int, customers: list[str]) -> list[Any]:
    out = []
    for i in range(n):
        credit = i % credit_every == 0
        pay = ({"method": "credit", "amount": 1000, "credit_customer_id": customers[i % len(customers)],
                "authorization_id": None} if credit else {"method": "cash", "amount": 1000})
        sale = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="XA-1", terminal_id="T1", receipt_no=f"R{i}",
                            occurred_at=datetime.now(UTC), lines=[{"line_no": 1, "sku": "A", "qty": 1,
                                                                   "unit_price": 1000, "paid": 1000}],
                            payments=[pay])
        out.append(SimpleNamespace(env=Envelope.new(sale, source="gateway", subject=None), data=sale, span=None))
    return out


async def test_measure_sales_handler_and_authorisations(cstack: Stack) -> None:
    from credit.service.context import Credit
    from credit.service.receivables import ReceivableBook
    from vipcore.db import make_engine

    engine = make_engine(cstack.cfg.db_url("credit"), 5)
    book = ReceivableBook(Credit(engine))
    for label, every in (("all credit", 1), ("1 in 20 credit", 20), ("no credit", 10**9)):
        batch = deliveries(1000, every, [f"ORG-{i}" for i in range(50)])
        t0 = time.perf_counter()
        async with engine.begin() as conn:
            await book.on_sales(UntracedTx(conn), batch)
        dt = time.perf_counter() - t0
        print(f"\non_sales 1000 sales ({label}): {dt * 1000:.0f} ms -> {1000 / dt:,.0f} sales/s per consumer")
    await engine.dispose()

    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        custs = [await open_account(mgr, "group_company", limit_amount=10**12) for _ in range(20)]
        n = 400
        sem = asyncio.Semaphore(20)

        async def one(i: int, many: bool) -> int:
            async with sem:
                return (await authorize(till, custs[i % 20] if many else custs[0], 1, 1)).status_code

        for path in ("gateway", "credit"):
            client = till if path == "gateway" else cstack.admin
            url = ("/v1/credit/authorizations" if path == "gateway"
                   else f"{cstack.url('credit')}/internal/authorizations")
            t0 = time.perf_counter()
            for i in range(50):
                await client.post(url, json={"store_id": "XA-1", "customer_id": custs[i % 20], "cases": 1,
                                             "amount": 1, "responsible_staff_id": "S1"})
            print(f"50 sequential authorisations via {path}: {(time.perf_counter() - t0) * 20:.1f} ms each")
        for many in (True, False):
            t0 = time.perf_counter()
            codes = await asyncio.gather(*(one(i, many) for i in range(n)))
            dt = time.perf_counter() - t0
            print(f"{n} authorisations via gateway, 20 in flight, {'20 customers' if many else 'one customer'}: "
                  f"{dt:.2f} s -> {n / dt:,.0f}/s, granted {codes.count(201)}")
