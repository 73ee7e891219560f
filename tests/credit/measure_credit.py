"""Measurements (run explicitly: ./dev test tests/credit/measure_credit.py -q -s): the pos.sales handler of credit
per batch (receivables, coupons, purchases), POS authorisations through the gateway, and a sale paid with coupons
(spent synchronously at credit) against a cash sale."""

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

from .helpers import authorize, draw_coupons, open_account, pos, staff


class UntracedTx(Tx):
    """A consumer transaction for deliveries without a Kafka span (the handler alone is measured)."""

    def emit(self, topic: Any, key: str | None, envelope: Envelope, cause: Any = None) -> None:
        super().emit(topic, key, envelope, None)


def deliveries(n: int, credit_every: int, customers: list[str], members: bool = False) -> list[Any]:
    out = []
    for i in range(n):
        credit = i % credit_every == 0
        pay = ({"method": "credit", "amount": 1000, "credit_customer_id": customers[i % len(customers)],
                "authorization_id": None} if credit else {"method": "cash", "amount": 1000})
        sale = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="XA-1", terminal_id="T1", receipt_no=f"R{i}",
                            member_id=f"M-{i}" if members else None,
                            occurred_at=datetime.now(UTC), lines=[{"line_no": 1, "sku": "A", "qty": 1,
                                                                   "unit_price": 1000, "paid": 1000}],
                            payments=[pay])
        out.append(SimpleNamespace(env=Envelope.new(sale, source="gateway", subject=None), data=sale, span=None))
    return out


async def test_measure_sales_handler_and_authorisations(cstack: Stack) -> None:
    from credit.service.context import Credit
    from credit.service.receivables import ReceivableBook
    from credit.service.sales_in import SalesIn
    from vipcore.db import make_engine

    engine = make_engine(cstack.cfg.db_url("credit"), 5)
    book = SalesIn(ReceivableBook(Credit(engine)))
    for label, every, members in (("all credit", 1, False), ("1 in 20 credit", 20, False),
                                  ("no credit", 10**9, False), ("no credit, every sale a member's", 10**9, True)):
        batch = deliveries(1000, every, [f"ORG-{i}" for i in range(50)], members)
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



async def test_measure_coupon_sale_against_cash_sale(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    n = 100
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, pos(cstack, key) as till:
        nos = await draw_coupons(cstack, fin, "M-", 1000, n, "2030-01-01")
        await clerk.post("/v1/coupon-sales", json={"store_id": "XA-1", "unit": "测量单位", "contact": "测量员",
                                                   "phone": "13900000000", "payment_method": "cash",
                                                   "coupon_nos": nos})
        for label in ("cash", "coupon"):
            t0 = time.perf_counter()
            for i in range(n):
                pay = ({"method": "cash", "amount": 1000} if label == "cash" else
                       {"method": "coupon", "amount": 1000, "coupon_numbers": [nos[i]]})
                r = await till.post("/v1/sales", json={
                    "store_id": "XA-1", "terminal_id": "T1", "receipt_no": f"{label}-{i}",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "lines": [{"line_no": 1, "sku": "A", "qty": 1, "unit_price": 1000, "paid": 1000}],
                    "payments": [pay]})
                assert r.status_code == 201, r.text
            each = (time.perf_counter() - t0) * 1000 / n
            print(f"\n{n} sequential POST /v1/sales paid by {label}: {each:.1f} ms each")


async def test_measure_release_of_unclaimed_coupon_spends(cstack: Stack) -> None:
    """C-09: the scheduler's release of till spends whose sale never came (2,000 coupons on 200 receipts)."""
    await cstack.add_store("XA-1", "generic", region_code="029")
    n, per = 2000, 10
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk:
        nos = await draw_coupons(cstack, fin, "U-", 1000, n, "2030-01-01")
        for i in range(0, n, 500):
            await clerk.post("/v1/coupon-sales", json={"store_id": "XA-1", "unit": "测量单位", "contact": "测量员",
                                                       "phone": "13900000000", "payment_method": "cash",
                                                       "coupon_nos": nos[i:i + 500]})
    credit = cstack.url("credit")
    for r in range(n // per):
        resp = await cstack.admin.post(f"{credit}/internal/coupon-redemptions", json={
            "store_id": "XA-1", "receipt_no": f"U-R{r}", "coupon_nos": nos[r * per:(r + 1) * per]})
        assert resp.status_code == 201, resp.text
    cstack.clock.advance(minutes=31)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    done = (await cstack.admin.post(f"{credit}/admin/coupon-redemptions/release", json={})).json()
    dt = time.perf_counter() - t0
    again = (await cstack.admin.post(f"{credit}/admin/coupon-redemptions/release", json={})).json()
    assert done["released"] == n and again["released"] == 0
    print(f"\nrelease of {n} unclaimed coupon spends ({n // per} receipts): {dt * 1000:.0f} ms; second run: "
          f"{again['released']} released")
