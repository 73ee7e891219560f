"""C-09: coupons spent at the till for a receipt whose sale is never recorded are released after the window
(COUPON_RELEASE_AFTER_S, 30 minutes), like loyalty's stored-value holds; a sale arriving after the release still
spends them when nobody else did, else it is a coupon conflict. Real gateway, credit, Kafka and PostgreSQL; the
credit clock is the test's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from credit.service.context import Credit
from credit.service.daily import DailyScheduler
from devstack.testing import Stack, sql_value, wait_for
from gateway.entrypoints.schemas import SaleIn
from gateway.service.coupons import CouponGate
from vipcore.auth import Role
from vipcore.contracts.pos import Payment, SaleLine, SaleRecorded
from vipcore.db import make_engine

from .helpers import draw_coupons, emit, pos, staff
from .test_aging_and_writeoffs import today
from .test_coupons_and_rebates import sale_body
from .test_pos_coupons import coupon_row, coupon_sale

RELEASES = "SELECT count(*) FROM coupon_movements WHERE kind='redemption_released' AND rule='C-09' " \
           "AND store_id='XA-1' AND receipt_no=$1"


async def coupons_in_hand(stack: Stack, prefix: str, count: int) -> list[str]:
    """A batch drawn from finance and sold to an organisation: coupons ready to be spent at a till."""
    async with staff(stack, Role.HQ_ADMIN) as fin, staff(stack, Role.STAFF) as clerk:
        nos = await draw_coupons(stack, fin, prefix, 10_000, count, (today(stack) + timedelta(days=60)).isoformat())
        assert (await clerk.post("/v1/coupon-sales", json=sale_body(nos))).status_code == 201
    return nos


async def release(stack: Stack, as_of: datetime | None = None) -> dict[str, Any]:
    r = await stack.admin.post(f"{stack.url('credit')}/admin/coupon-redemptions/release",
                               json={"as_of": as_of.isoformat()} if as_of else {})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def tied_to(stack: Stack, no: str, receipt: str) -> bool:
    sale_id = await sql_value(stack.cfg, "gateway", "SELECT sale_id FROM sales WHERE receipt_no=$1", receipt)
    return bool(sale_id) and await coupon_row(stack, no) == f"(redeemed,{receipt},{sale_id})"


async def test_c09_coupons_spent_for_a_sale_never_recorded_are_released_after_the_window_and_spendable_again(
        cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    clock = cstack.clock  # type: ignore[attr-defined]
    nos = await coupons_in_hand(cstack, "RL-", 3)
    gw_engine = make_engine(cstack.cfg.db_url("gateway"), 2)
    credit_api = httpx.AsyncClient(base_url=cstack.url("credit"), auth=cstack.cfg.admin_auth(), timeout=30)
    try:
        # the gateway spends a sale's coupons before recording it (CouponGate); this sale is then never recorded
        gate = CouponGate(credit_api, gw_engine)
        await gate.spend(SaleIn.model_validate(coupon_sale("R-LOST", nos[:2], 20_000)))
        await gate.spend(SaleIn.model_validate(coupon_sale("R-LOST", nos[:2], 20_000)))  # a retry replays
        async with pos(cstack, key) as till:
            # and the POS's own redemption call before a sale it then abandons
            pre = {"store_id": "XA-1", "receipt_no": "R-GONE", "coupon_nos": [nos[2]], "amount": 10_000}
            assert (await till.post("/v1/credit/coupon-redemptions", json=pre)).status_code == 201
            clock.advance(minutes=29)
            assert (await till.post("/v1/credit/coupon-redemptions", json=pre)).status_code == 200  # replay
            # within the window the coupons stay spent: a second use is refused at the till
            refused = await till.post("/v1/sales", json=coupon_sale("R-NEXT", [nos[0]], 10_000))
            assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "C-09", refused.text
            assert (await release(cstack))["released"] == 0
            assert await coupon_row(cstack, nos[0]) == "(redeemed,R-LOST,)"
            # 30 minutes after the spends, with no sale: the release run (for a given time) gives them back
            done = await release(cstack, clock.now + timedelta(minutes=1))
            assert done["released"] == 3, done
            assert sorted((x["coupon_no"], x["receipt_no"]) for x in done["coupons"]) == sorted([
                (nos[0], "R-LOST"), (nos[1], "R-LOST"), (nos[2], "R-GONE")])  # numbers are random (C-09)
            assert (await release(cstack, clock.now + timedelta(hours=2)))["released"] == 0  # nothing twice
            assert await sql_value(cstack.cfg, "credit", RELEASES, "R-LOST") == 2
            assert await sql_value(cstack.cfg, "credit", RELEASES, "R-GONE") == 1
            assert await coupon_row(cstack, nos[0]) == "(sold,,)"
            # the same coupon is accepted for another sale, and tied to it when credit consumes the sale
            took = await till.post("/v1/sales", json=coupon_sale("R-NEXT", [nos[0]], 10_000))
            assert took.status_code == 201, took.text
            assert await wait_for(lambda: tied_to(cstack, nos[0], "R-NEXT"), 30, "the coupon tied to R-NEXT")
        # C-08: the release is not a stock movement; the month still balances to the fen
        month = clock.now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
        async with staff(cstack, Role.STORE_MANAGER) as mgr:
            rec = (await mgr.get("/v1/reports/coupon-reconciliation", params={"month": month})).json()
        assert rec["balanced"] and rec["sold"] == 30_000, rec
    finally:
        await credit_api.aclose()
        await gw_engine.dispose()


def late_sale(receipt: str, nos: list[str] | None, amount: int) -> SaleRecorded:
    """The sale event as the gateway publishes it, reaching credit after its coupons were released."""
    return SaleRecorded(
        sale_id=str(uuid.uuid4()), store_id="XA-1", terminal_id="T1", receipt_no=receipt,
        occurred_at=datetime.now(UTC), lines=[SaleLine(line_no=1, sku="X", qty=1, unit_price=amount, paid=amount)],
        payments=[Payment(method="coupon", amount=amount, coupon_numbers=nos)])


async def test_c09_a_sale_arriving_after_its_coupons_were_released_spends_them_or_is_a_coupon_conflict(
        cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    clock = cstack.clock  # type: ignore[attr-defined]
    nos = await coupons_in_hand(cstack, "LT-", 3)
    async with pos(cstack, key) as till:
        for receipt, coupon in (("R-LATE", nos[:2]), ("R-OLDPOS", [nos[2]])):
            assert (await till.post("/v1/credit/coupon-redemptions", json={
                "store_id": "XA-1", "receipt_no": receipt, "coupon_nos": coupon})).status_code == 201
        # credit's scheduler, 31 minutes later and no sale yet: the spends are released
        clock.advance(minutes=31)
        engine = make_engine(cstack.cfg.db_url("credit"), 2)
        try:
            await DailyScheduler(Credit(engine, cstack.cfg.topic_prefix, clock=clock), 60).tick()
        finally:
            await engine.dispose()
        assert [await coupon_row(cstack, n) for n in nos] == ["(sold,,)"] * 3
        # meanwhile another receipt spends one of them
        assert (await till.post("/v1/sales", json=coupon_sale("R-OTHER", [nos[1]], 10_000))).status_code == 201
    assert await wait_for(lambda: tied_to(cstack, nos[1], "R-OTHER"), 30, "the coupon tied to R-OTHER")
    # the sales come after all: the unspent coupon is spent by its sale, the other one stays with R-OTHER and
    # the late sale is listed as a conflict; an older POS's sale (coupon payment without numbers) gets its coupon
    late, old_pos = late_sale("R-LATE", nos[:2], 20_000), late_sale("R-OLDPOS", None, 10_000)
    await emit(cstack, late, old_pos, subject="anon")
    want = [(nos[0], f"(redeemed,R-LATE,{late.sale_id})"), (nos[2], f"(redeemed,R-OLDPOS,{old_pos.sale_id})")]
    for no, row in want:
        assert await wait_for(lambda n=no, w=row: _is(cstack, n, w), 30, f"{no}: {row}")
    reason = await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT reason FROM coupon_conflicts WHERE "
                                              "sale_id=$1", late.sale_id), 30, "the conflict recorded")
    assert "already spent by receipt R-OTHER" in reason
    async with staff(cstack, Role.STORE_MANAGER) as mgr:
        seen = (await mgr.get("/v1/reports/coupon-conflicts")).json()["conflicts"]
    assert [(x["sale_id"], x["coupon_no"], x["receipt_no"]) for x in seen] == [(late.sale_id, nos[1], "R-LATE")]
    assert await tied_to(cstack, nos[1], "R-OTHER")  # no double spend
    assert await sql_value(cstack.cfg, "credit", "SELECT count(*) FROM coupons WHERE status='redeemed' AND "
                           "redeemed_sale_id IS NULL") == 0


async def _is(stack: Stack, no: str, want: str) -> bool:
    return await coupon_row(stack, no) == want
