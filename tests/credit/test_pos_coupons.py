"""C-09: group-buy coupons as a POS sale payment (`coupon_numbers` on a `coupon` payment, added to POS API v1):
spent once at the gateway before the sale is recorded (a second use reaches the cashier as 422), tied to the sale
exactly once when credit consumes pos.sales."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.contracts.pos import Payment, SaleLine, SaleRecorded

from .helpers import draw_coupons, emit, pos, staff
from .test_aging_and_writeoffs import today
from .test_coupons_and_rebates import sale_body


def coupon_sale(receipt: str, nos: list[str], amount: int, cash: int = 0) -> dict[str, Any]:
    pays: list[dict[str, Any]] = [{"method": "coupon", "amount": amount, "coupon_numbers": nos}]
    if cash:
        pays.append({"method": "cash", "amount": cash})
    return {"store_id": "XA-1", "terminal_id": "T1", "receipt_no": receipt,
            "occurred_at": "2026-11-22T12:30:00+08:00",
            "lines": [{"line_no": 1, "sku": "BAIJIU-6", "qty": 1, "unit_price": amount + cash, "paid": amount + cash}],
            "payments": pays}


async def coupon_row(stack: Stack, no: str) -> Any:
    return await sql_value(stack.cfg, "credit", "SELECT row(status, redeemed_receipt_no, redeemed_sale_id)::text "
                           "FROM coupons WHERE coupon_no=$1", no)


async def test_c09_coupon_payment_in_a_sale_is_spent_once_and_a_second_use_is_refused_to_the_cashier(
        cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, pos(cstack, key) as till:
        nos = await draw_coupons(cstack, fin, "PS-", 10_000, 6, (today(cstack) + timedelta(days=60)).isoformat())
        assert (await clerk.post("/v1/coupon-sales", json=sale_body(nos[:5]))).status_code == 201
        # the coupons of a sale are spent with it; the sale is recorded
        first = await till.post("/v1/sales", json=coupon_sale("R-C1", nos[:2], 20_000, cash=5_000))
        assert first.status_code == 201, first.text
        assert (await till.post("/v1/sales", json=coupon_sale("R-C1", nos[:2], 20_000, cash=5_000))).status_code \
            == 200  # the same sale again replays
        # a second use in another sale is refused to the cashier, naming the coupon and the rule; nothing recorded
        again = await till.post("/v1/sales", json=coupon_sale("R-C2", [nos[1], nos[2]], 20_000))
        body = again.json()
        assert again.status_code == 422 and body["errors"][0]["rule"] == "C-09", body
        assert body["errors"][0]["field"] == "payments.coupon_numbers" and f"{nos[1]}: already spent" in str(body)
        assert await sql_value(cstack.cfg, "gateway", "SELECT count(*) FROM sales WHERE receipt_no='R-C2'") == 0
        assert (await coupon_row(cstack, nos[2])).startswith("(sold,")  # PS-000003 was not spent either
        # more than the coupons' face value, a coupon never sold, coupon numbers on a cash payment: refused
        over = await till.post("/v1/sales", json=coupon_sale("R-C3", [nos[2]], 10_001))
        assert over.status_code == 422 and over.json()["errors"][0]["field"] == "payments.amount"
        unsold = await till.post("/v1/sales", json=coupon_sale("R-C3", [nos[5]], 10_000))
        assert unsold.status_code == 422 and "never sold" in unsold.text
        wrong = coupon_sale("R-C3", [nos[2]], 10_000)
        wrong["payments"][0]["method"] = "cash"
        assert (await till.post("/v1/sales", json=wrong)).status_code == 422
        # the documented POS call before the sale, then the sale naming the same coupons: one redemption
        pre = await till.post("/v1/credit/coupon-redemptions", json={"store_id": "XA-1", "receipt_no": "R-C4",
                                                                      "coupon_nos": [nos[2]], "amount": 10_000})
        assert pre.status_code == 201
        assert (await till.post("/v1/sales", json=coupon_sale("R-C4", [nos[2]], 10_000))).status_code == 201
        # an older POS: the redemption call, then the sale's coupon payment without numbers
        assert (await till.post("/v1/credit/coupon-redemptions", json={
            "store_id": "XA-1", "receipt_no": "R-C7", "coupon_nos": [nos[4]]})).status_code == 201
        assert (await till.post("/v1/sales", json=coupon_sale("R-C7", [nos[4]], 10_000) | {
            "payments": [{"method": "coupon", "amount": 10_000}]})).status_code == 201
        # offline catch-up: one bad receipt of the batch is refused, the others recorded
        batch = await till.post("/v1/sales:batch", json={"sales": [coupon_sale("R-C5", [nos[3]], 10_000),
                                                                   coupon_sale("R-C6", [nos[0]], 10_000)]})
        assert [x["status"] for x in batch.json()["results"]] == [201, 422]
        # credit ties each coupon to the sale that spent it
        pairs = await sql_value(cstack.cfg, "gateway",
                                "SELECT string_agg(receipt_no || ':' || sale_id, ',') FROM sales")
        sale_ids = dict(kv.split(":") for kv in pairs.split(","))
        for no, receipt in ((nos[0], "R-C1"), (nos[1], "R-C1"), (nos[2], "R-C4"), (nos[3], "R-C5"),
                            (nos[4], "R-C7")):
            want = f"(redeemed,{receipt},{sale_ids[receipt]})"
            assert await wait_for(lambda n=no, w=want: _is(cstack, n, w), 30, f"{no} tied to {receipt}")


async def _is(stack: Stack, no: str, want: str) -> bool:
    return await coupon_row(stack, no) == want


async def test_c09_a_recorded_sale_naming_a_spent_coupon_leaves_it_with_its_first_sale_and_is_flagged(
        cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, pos(cstack, key) as till:
        (dup,) = await draw_coupons(cstack, fin, "DUP-", 10_000, 1, (today(cstack) + timedelta(days=60)).isoformat())
        assert (await clerk.post("/v1/coupon-sales", json=sale_body([dup]))).status_code == 201
        assert (await till.post("/v1/sales", json=coupon_sale("R-D1", [dup], 10_000))).status_code == 201
    first = await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT redeemed_sale_id FROM coupons "
                                             "WHERE coupon_no=$1", dup), 30, "the coupon tied to R-D1")
    # a sale that reached pos.sales without the gateway's check (say a replayed old record) cannot spend it again
    other = str(uuid.uuid4())
    await emit(cstack, SaleRecorded(
        sale_id=other, store_id="XA-1", terminal_id="T9", receipt_no="R-D2", occurred_at=datetime.now(UTC),
        lines=[SaleLine(line_no=1, sku="X", qty=1, unit_price=10_000, paid=10_000)],
        payments=[Payment(method="coupon", amount=10_000, coupon_numbers=[dup])]), subject="anon")
    reason = await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT reason FROM coupon_conflicts WHERE "
                                              "sale_id=$1", other), 30, "the conflict recorded")
    assert "already spent by receipt R-D1" in reason
    async with staff(cstack, Role.STORE_MANAGER) as mgr:
        seen = (await mgr.get("/v1/reports/coupon-conflicts")).json()["conflicts"]
    assert [(x["sale_id"], x["coupon_no"]) for x in seen] == [(other, dup)]
    assert await sql_value(cstack.cfg, "credit", "SELECT redeemed_sale_id FROM coupons WHERE "
                           "coupon_no=$1", dup) == first
