"""C-09 group-buy coupons and C-08 rebates on the real stack."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from devstack.testing import Stack
from vipcore.auth import Role

from .helpers import authorize, credit_sale, draw_coupons, open_account, pos, receivables_of, staff
from .test_aging_and_writeoffs import today
from .test_receivables_payments_overdue import credit_events, daily, days_ago


def sale_body(nos: list[str], method: str = "transfer") -> dict[str, object]:
    return {"store_id": "XA-1", "unit": "陕西省电力公司工会", "contact": "刘建国", "phone": "13987654321",
            "payment_method": method, "coupon_nos": nos}


async def test_c09_coupon_batches_sales_tally_and_single_redemption(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN, "S-FIN") as fin, staff(cstack, Role.STAFF, "S-OP1") as clerk, \
            staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, pos(cstack, key) as till:
        expires = (today(cstack) + timedelta(days=90)).isoformat()
        gb = await draw_coupons(cstack, fin, "GB-", 10_000, 10, expires)
        gb += await draw_coupons(cstack, fin, "GB-", 50_000, 2, expires)
        assert len(set(gb)) == 12 and all(n.startswith("GB-") for n in gb)  # C-09: random, not a sequence
        assert (await clerk.post("/v1/coupon-batches", json={"prefix": "X-", "face_value": 1, "count": 1,
                                                             "expires_on": expires})).status_code == 403

        sold = await clerk.post("/v1/coupon-sales", json=sale_body([gb[0], gb[1], gb[10]]))
        assert sold.status_code == 201, sold.text
        assert sold.json()["amount"] == 70_000 and sold.json()["expires_on"] == expires
        twice = await clerk.post("/v1/coupon-sales", json=sale_body([gb[1]]))
        assert twice.status_code == 422 and twice.json()["errors"][0]["rule"] == "C-09"
        by_cheque = await clerk.post("/v1/coupon-sales", json=sale_body([gb[2]], "cheque"))
        cheque_sale = by_cheque.json()["coupon_sale_id"]
        bad_phone = await clerk.post("/v1/coupon-sales", json={**sale_body([gb[3]]), "phone": "123"})
        assert bad_phone.status_code == 422 and bad_phone.json()["errors"][0]["field"] == "phone"

        async def redeem(receipt: str, nos: list[str]) -> tuple[int, dict[str, object]]:
            r = await till.post("/v1/credit/coupon-redemptions", json={"store_id": "XA-1", "receipt_no": receipt,
                                                                        "coupon_nos": nos})
            return r.status_code, r.json()

        assert (await redeem("R-1", [gb[0], gb[10]]))[0] == 201
        assert (await redeem("R-1", [gb[0], gb[10]]))[0] == 200  # the same receipt replays
        status, body = await redeem("R-2", [gb[0]])
        assert status == 422 and body["errors"][0]["rule"] == "C-09" and "already spent" in str(body)
        status, body = await redeem("R-3", [gb[2]])  # paid by a cheque not yet cleared
        assert status == 422 and body["errors"][0]["rule"] == "C-05"
        status, body = await redeem("R-4", [gb[8]])  # never sold
        assert status == 422 and body["errors"][0]["rule"] == "C-09"
        run = await daily(cstack, today(cstack) + timedelta(days=3))
        assert run["cheques_cleared"] == 1  # the coupon sale's cheque: its coupons are released
        assert (await redeem("R-3", [gb[2]]))[0] == 201
        assert (await mgr.post(f"/v1/coupon-sales/{cheque_sale}/bounce")).status_code == 409


async def test_c09_coupon_cheque_bounce_returns_coupons_to_stock_and_daily_tally(cstack: Stack) -> None:
    await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, \
            staff(cstack, Role.STORE_MANAGER) as mgr:
        expires = (today(cstack) + timedelta(days=30)).isoformat()
        t = await draw_coupons(cstack, fin, "T-", 20_000, 4, expires)
        # 16:59 and 17:01 Xi'an time fall into two different tallies
        day = today(cstack)
        sh = ZoneInfo("Asia/Shanghai")
        cstack.clock.now = datetime.combine(day, time(16, 59), sh)  # type: ignore[attr-defined]
        a = (await clerk.post("/v1/coupon-sales", json=sale_body([t[0]], "cash"))).json()
        cstack.clock.now = datetime.combine(day, time(17, 1), sh)  # type: ignore[attr-defined]
        chq = (await clerk.post("/v1/coupon-sales", json=sale_body([t[1], t[2]], "cheque"))).json()
        t1 = (await mgr.get("/v1/reports/coupon-tally", params={"date": day.isoformat()})).json()
        t2 = (await mgr.get("/v1/reports/coupon-tally",
                            params={"date": (day + timedelta(days=1)).isoformat()})).json()
        assert [s["coupon_sale_id"] for s in t1["sales"]] == [a["coupon_sale_id"]]
        assert (t1["amount"], t1["by_method"], t1["coupons_sold"]) == (20_000, {"cash": 20_000}, 1)
        assert (t2["amount"], t2["by_method"]) == (40_000, {"cheque": 40_000})
        assert t2["sales"][0]["phone"] == "139****4321"  # N-06
        assert (await mgr.post(f"/v1/coupon-sales/{chq['coupon_sale_id']}/bounce")).json()["cheque_status"] == \
            "bounced"
        again = await clerk.post("/v1/coupon-sales", json=sale_body([t[1]]))
        assert again.status_code == 201  # back in stock after the bounce


async def test_c08_rebate_tiers_approval_slip_collection_and_monthly_reconciliation(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN, "S-FIN") as fin, staff(cstack, Role.STAFF, "S-OP1") as clerk, \
            staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, staff(cstack, Role.STORE_CS_MANAGER) as office, \
            pos(cstack, key) as till:
        big = await open_account(mgr, "group_company")
        small = await open_account(mgr, "group_company")
        for i, (cust, amount) in enumerate(((big, 6_000_000), (big, 1_000_000), (small, 500_000))):
            h = (await authorize(till, cust, 1, amount)).json()
            sale = credit_sale(f"R-RB-{i}", cust, h["authorization_id"], amount, days_ago(cstack, 1))
            assert (await till.post("/v1/sales", json=sale)).status_code == 201
        await receivables_of(cstack, big, 2)
        await receivables_of(cstack, small, 1)
        t = await fin.put("/v1/rebate-tiers", json={"tiers": [{"min_purchases": 1_000_000, "rate_bp": 100},
                                                              {"min_purchases": 5_000_000, "rate_bp": 300}]})
        assert t.status_code == 200
        d = today(cstack)
        period = {"start": (d - timedelta(days=30)).isoformat(), "end": d.isoformat()}
        run = (await office.post("/v1/rebate-runs", json=period)).json()["rebates"]
        assert [(x["customer_id"], x["purchases"], x["rate_bp"], x["amount"]) for x in run] == \
            [(big, 7_000_000, 300, 210_000)]  # 3% of 70,000 yuan; the small buyer reached no tier
        assert len((await office.post("/v1/rebate-runs", json=period)).json()["rebates"]) == 1  # once per period
        rebate_id = run[0]["rebate_id"]
        assert (await mgr.post("/v1/rebate-slips/SLIP-999999/collection", json={
            "coupon_nos": ["RB-000001"], "collected_by": "王会计"})).status_code == 404
        decided = (await mgr.post(f"/v1/rebates/{rebate_id}/decision", json={"approve": True})).json()
        slip = decided["slip_no"]
        assert slip.startswith("SLIP-")
        (ev,) = await credit_events(cstack, "credit.rebate.approved", 1)
        assert (ev["slip_no"], ev["amount"], ev["customer_id"]) == (slip, 210_000, big)

        expires = (d + timedelta(days=365)).isoformat()
        rb = await draw_coupons(cstack, fin, "RB-", 100_000, 5, expires)
        too_much = await clerk.post(f"/v1/rebate-slips/{slip}/collection", json={
            "coupon_nos": [rb[0], rb[1], rb[2]], "collected_by": "王会计"})
        assert too_much.status_code == 422 and too_much.json()["errors"][0]["rule"] == "C-08"
        got = await clerk.post(f"/v1/rebate-slips/{slip}/collection", json={
            "coupon_nos": [rb[0], rb[1]], "collected_by": "王会计"})
        assert got.status_code == 200 and got.json()["coupon_value"] == 200_000
        assert (await clerk.post(f"/v1/rebate-slips/{slip}/collection", json={
            "coupon_nos": [rb[2]], "collected_by": "王会计"})).status_code == 409
        assert (await clerk.post("/v1/coupon-sales", json=sale_body([rb[2]]))).status_code == 201

        month = d.strftime("%Y-%m")
        rec = (await mgr.get("/v1/reports/coupon-reconciliation", params={"month": month})).json()
        assert (rec["opening"], rec["issued"], rec["sold"], rec["rebates"], rec["closing"]) == \
            (0, 500_000, 100_000, 200_000, 200_000)
        assert rec["balanced"] is True
        before = (await mgr.get("/v1/reports/coupon-reconciliation",
                                params={"month": (d.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")})).json()
        assert (before["opening"], before["closing"], before["balanced"]) == (0, 0, True)


async def test_c09_a_coupon_offered_at_many_tills_at_once_is_spent_once(cstack: Stack) -> None:
    import asyncio

    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, pos(cstack, key) as till:
        expires = (today(cstack) + timedelta(days=30)).isoformat()
        one = await draw_coupons(cstack, fin, "ONE-", 10_000, 1, expires)
        assert (await clerk.post("/v1/coupon-sales", json=sale_body([one[0]]))).status_code == 201
        answers = await asyncio.gather(*(till.post("/v1/credit/coupon-redemptions", json={
            "store_id": "XA-1", "receipt_no": f"R-{i}", "coupon_nos": [one[0]]}) for i in range(12)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [422] * 11, codes
