"""Credit's desk lists (issue 12, the console's credit screens) on the real stack: accounts, raises,
authorisations, receivables, extensions, payments, write-offs, rebates, coupon batches and coupon sales —
filtered, paged and confined to the caller's store (O-02); and every action records its operator from the token
(suspension, cheque clearing and bouncing, rebate collection)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from devstack.testing import Stack, sql_value
from vipcore.auth import Role

from .helpers import authorize, credit_sale, draw_coupons, open_account, pos, receivables_of, staff
from .test_aging_and_writeoffs import today
from .test_coupons_and_rebates import sale_body
from .test_receivables_payments_overdue import days_ago
from .test_tenancy import xa_objects


async def rows(client: httpx.AsyncClient, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()[key])


def ids(items: list[dict[str, Any]], key: str) -> set[str]:
    return {str(x[key]) for x in items}


async def test_o02_c02_c03_c04_c05_c06_desk_lists_filter_page_and_stay_in_their_store(cstack: Stack) -> None:
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    sz = await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN, "S-HQ") as hq, pos(cstack, xa) as xa_till, pos(cstack, sz) as sz_till, \
            staff(cstack, Role.STORE_MANAGER, "S-SZM", store_id="SZ-1", region_code="755") as sz_mgr, \
            staff(cstack, Role.STORE_MANAGER, "S-XAM") as xa_mgr, staff(cstack, Role.AUDITOR, "S-AUD") as aud, \
            staff(cstack, Role.STAFF, "S-OP1") as clerk:
        o = await xa_objects(cstack, hq, xa_till)
        sz_cust = await open_account(hq, "group_company", store_id="SZ-1", name="深圳湾酒业集团")
        sz_auth = (await authorize(sz_till, sz_cust, 1, 10_000, store_id="SZ-1")).json()["authorization_id"]

        # accounts: HQ sees both stores, filtered by name; a store manager only their own; another store is 403
        assert {o["cust"], sz_cust} <= ids(await rows(hq, "/v1/accounts", "accounts"), "customer_id")
        assert ids(await rows(hq, "/v1/accounts", "accounts", q="深圳湾"), "customer_id") == {sz_cust}
        assert ids(await rows(sz_mgr, "/v1/accounts", "accounts"), "customer_id") == {sz_cust}
        other = await sz_mgr.get("/v1/accounts", params={"store_id": "XA-1"})
        assert other.status_code == 403 and other.json()["errors"][0]["rule"] == "O-02"
        one = (await hq.get("/v1/accounts", params={"limit": 1})).json()
        two = (await hq.get("/v1/accounts", params={"limit": 1, "page": 2})).json()
        assert one["has_more"] and not two["has_more"] and one["accounts"] != two["accounts"]
        assert "contact_mobile" not in one["accounts"][0]  # N-06: no mobile in a list

        # raises with their decision (C-02): who asked, who decided
        (r0,) = await rows(hq, f"/v1/accounts/{o['cust']}/raises", "raises")
        assert (r0["status"], r0["requested_by"], r0["decided_by"]) == ("pending", "S-HQ", None)
        assert (await xa_mgr.post(f"/v1/raises/{o['raise']}/decision", json={"approve": True})).status_code == 200
        (r0,) = await rows(aud, f"/v1/accounts/{o['cust']}/raises", "raises")
        assert (r0["status"], r0["decided_by"]) == ("approved", "S-XAM")
        assert (await sz_mgr.get(f"/v1/accounts/{o['cust']}/raises")).status_code == 404  # O-02: as if missing

        # authorisations per store and state (C-04)
        assert ids(await rows(sz_mgr, "/v1/authorizations", "authorizations"), "authorization_id") == {sz_auth}
        held = await rows(hq, "/v1/authorizations", "authorizations", status="held")
        captured = await rows(hq, "/v1/authorizations", "authorizations", status="captured",
                              customer_id=o["cust"])
        assert sz_auth in ids(held, "authorization_id") and [x["customer_id"] for x in captured] == [o["cust"]]

        # receivables with due dates; overdue on the store's date once the due date has passed (C-03, C-07)
        (rec,) = await rows(xa_mgr, "/v1/receivables", "receivables", customer_id=o["cust"])
        assert (rec["amount"], rec["outstanding"]) == (90_000, 89_000) and rec["due_date"]  # the cheque is allocated
        assert await rows(sz_mgr, "/v1/receivables", "receivables") == []
        assert await rows(hq, "/v1/receivables", "receivables", overdue="true", customer_id=o["cust"]) == []
        cstack.clock.advance(days=30)  # type: ignore[attr-defined]
        assert ids(await rows(hq, "/v1/receivables", "receivables", overdue="true"), "receivable_id") == {o["rid"]}

        # extensions and write-offs with their decision (C-03, C-06): read by the office and the auditor, not staff
        (ext,) = await rows(aud, "/v1/extensions", "extensions", status="pending")
        assert (ext["extension_id"], ext["customer_id"], ext["requested_by"]) == (o["ext"], o["cust"], "S-HQ")
        assert await rows(sz_mgr, "/v1/extensions", "extensions") == []
        assert (await clerk.get("/v1/extensions")).status_code == 403
        (wo,) = await rows(xa_mgr, "/v1/writeoffs", "writeoffs")
        assert (wo["writeoff_id"], wo["responsible_staff_id"], wo["line_leader_staff_id"], wo["status"]) == \
            (o["wo"], "S-OP1", "S-LEAD", "pending")
        assert await rows(xa_mgr, "/v1/writeoffs", "writeoffs", status="approved") == []

        # payments and cheques (C-05): who recorded it, and who cleared it (from the token)
        (pay,) = await rows(clerk, "/v1/payments", "payments", status="pending")
        assert (pay["payment_id"], pay["method"], pay["recorded_by"], pay["settled_by"]) == \
            (o["payment"], "cheque", "S-HQ", None)
        assert (await xa_mgr.post(f"/v1/payments/{o['payment']}/clearing")).status_code == 200
        (pay,) = await rows(hq, "/v1/payments", "payments", customer_id=o["cust"])
        assert (pay["status"], pay["settled_by"]) == ("cleared", "S-XAM") and pay["settled_at"]
        assert await rows(hq, "/v1/payments", "payments", status="pending") == []

        # suspension records who did it (C-01)
        assert (await xa_mgr.post(f"/v1/accounts/{o['cust']}/suspension", json={"reason": "多次逾期"})) \
            .status_code == 200
        assert await sql_value(cstack.cfg, "credit", "SELECT suspension_by FROM credit_accounts WHERE "
                               "customer_id=$1", o["cust"]) == "S-XAM"
        assert ids(await rows(hq, "/v1/accounts", "accounts", suspended="true"), "customer_id") == {o["cust"]}

        # every desk list refuses an unknown role and a bad filter without a 5xx
        assert (await hq.get("/v1/authorizations", params={"status": "stolen"})).status_code == 422
        assert (await hq.get("/v1/accounts", params={"page": 0})).status_code == 422


async def test_c08_c09_desk_lists_of_batches_coupon_sales_and_rebates_with_their_operators(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN, "S-FIN") as fin, staff(cstack, Role.STAFF, "S-OP1") as clerk, \
            staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, pos(cstack, key) as till, \
            staff(cstack, Role.STORE_MANAGER, "S-SZM", store_id="SZ-1", region_code="755") as sz_mgr:
        d = today(cstack)
        gb = await draw_coupons(cstack, fin, "GB-", 10_000, 4, (d + timedelta(days=90)).isoformat())
        sold = (await clerk.post("/v1/coupon-sales", json=sale_body([gb[0], gb[1]], "cheque"))).json()
        (batch,) = await rows(mgr, "/v1/coupon-batches", "batches")
        assert (batch["count"], batch["in_stock"], batch["held"], batch["drawn_by"]) == (4, 2, 2, "S-FIN")
        (sale,) = await rows(mgr, "/v1/coupon-sales", "sales", cheque_status="pending")
        assert sale["coupon_sale_id"] == sold["coupon_sale_id"] and sale["phone"] != "13987654321"  # masked
        assert sale["sold_by"] == "S-OP1" and sale["cheque_settled_by"] is None
        assert await rows(sz_mgr, "/v1/coupon-sales", "sales") == []  # O-02
        assert await rows(mgr, "/v1/coupon-sales", "sales", unit="电力") != []
        assert await rows(mgr, "/v1/coupon-sales", "sales", unit="没有这个单位") == []
        assert (await mgr.post(f"/v1/coupon-sales/{sold['coupon_sale_id']}/bounce")).status_code == 200
        (sale,) = await rows(fin, "/v1/coupon-sales", "sales")
        assert (sale["cheque_status"], sale["cheque_settled_by"]) == ("bounced", "S-MGR")
        (batch,) = await rows(fin, "/v1/coupon-batches", "batches")
        assert (batch["in_stock"], batch["held"]) == (4, 0)

        # rebates with their slip and the staff member who recorded the collection (C-08)
        big = await open_account(mgr, "group_company")
        h = (await authorize(till, big, 1, 2_000_000)).json()["authorization_id"]
        assert (await till.post("/v1/sales", json=credit_sale("R-DK-1", big, h, 2_000_000, days_ago(cstack, 1)))) \
            .status_code == 201
        await receivables_of(cstack, big, 1)
        assert (await fin.put("/v1/rebate-tiers", json={"tiers": [{"min_purchases": 1_000_000, "rate_bp": 100}]})) \
            .status_code == 200
        run = (await fin.post("/v1/rebate-runs", json={"start": (d - timedelta(days=30)).isoformat(),
                                                       "end": d.isoformat()})).json()["rebates"]
        (pending,) = await rows(mgr, "/v1/rebates", "rebates", status="pending")
        assert pending["rebate_id"] == run[0]["rebate_id"] and pending["store_id"] == "XA-1"
        assert await rows(sz_mgr, "/v1/rebates", "rebates") == []
        assert ids(await rows(mgr, "/v1/rebates", "rebates", period=run[0]["period"]), "rebate_id") == \
            {run[0]["rebate_id"]}
        assert await rows(mgr, "/v1/rebates", "rebates", period="2001-01-01/2001-02-01") == []
        slip = (await mgr.post(f"/v1/rebates/{pending['rebate_id']}/decision", json={"approve": True})).json()[
            "slip_no"]
        assert (await clerk.post(f"/v1/rebate-slips/{slip}/collection", json={
            "coupon_nos": [gb[2]], "collected_by": "王会计"})).status_code == 200
        (done,) = await rows(fin, "/v1/rebates", "rebates", status="collected")
        assert (done["slip_no"], done["collected_by"], done["collection_recorded_by"], done["decided_by"]) == \
            (slip, "王会计", "S-OP1", "S-MGR")
