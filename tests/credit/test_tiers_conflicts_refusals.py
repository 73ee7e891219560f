"""Issue 12's credit gaps on the real stack: the rebate tiers as versions (C-08: effective-dated, naming who set
them, a period keeps the tiers in force on its last day), the coupon conflicts (C-09) and the credit sales refused
a receivable (C-04) as filtered, paged lists confined to the caller's store (O-02), and staff reading their
store's rebates and coupon sales (they record collections and sell coupons)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.contracts.pos import Payment, SaleLine, SaleRecorded

from .helpers import authorize, credit_sale, emit, open_account, pos, receivables_of, staff
from .test_aging_and_writeoffs import today
from .test_desk_lists import ids, rows
from .test_receivables_payments_overdue import days_ago
from .test_tenancy import recorded


def refused(r: httpx.Response, status: int, rule: str) -> bool:
    return r.status_code == status and r.json()["errors"][0]["rule"] == rule


async def test_c08_rebate_tiers_are_versions_effective_from_a_date_naming_who_set_them(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    await cstack.add_store("SZ-1", "generic", region_code="755")
    clock = cstack.clock  # type: ignore[attr-defined]
    async with staff(cstack, Role.HQ_ADMIN, "S-FIN") as fin, staff(cstack, Role.HQ_ADMIN, "S-FIN2") as fin2, \
            staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, staff(cstack, Role.STAFF, "S-OP1") as clerk, \
            staff(cstack, Role.STAFF, "S-SZ", store_id="SZ-1", region_code="755") as sz_clerk, \
            pos(cstack, key) as till:
        big = await open_account(mgr, "group_company")
        h = (await authorize(till, big, 1, 7_000_000)).json()["authorization_id"]
        assert (await till.post("/v1/sales", json=credit_sale("R-TV-1", big, h, 7_000_000, days_ago(cstack, 1)))) \
            .status_code == 201
        await receivables_of(cstack, big, 1)
        d = today(cstack)
        # no tiers yet: nothing to rebate
        none = await mgr.post("/v1/rebate-runs", json={"start": (d - timedelta(days=30)).isoformat(),
                                                       "end": d.isoformat()})
        assert refused(none, 422, "C-08")
        assert (await mgr.get("/v1/rebate-tiers")).json() == {"in_force": None, "versions": [], "page": 1,
                                                              "has_more": False}
        tiers = [{"min_purchases": 1_000_000, "rate_bp": 100}, {"min_purchases": 5_000_000, "rate_bp": 300}]
        # only finance sets them (O-02), never back-dated (C-08)
        assert refused(await mgr.put("/v1/rebate-tiers", json={"tiers": tiers}), 403, "O-02")
        back = await fin.put("/v1/rebate-tiers", json={"tiers": tiers,
                                                       "effective_from": (d - timedelta(days=1)).isoformat()})
        assert refused(back, 422, "C-08") and back.json()["errors"][0]["field"] == "effective_from"
        v1 = (await fin.put("/v1/rebate-tiers", json={"tiers": list(reversed(tiers))})).json()
        assert (v1["effective_from"], v1["set_by"], v1["in_force"], v1["tiers"]) == (d.isoformat(), "S-FIN", True,
                                                                                     tiers)
        later = [{"min_purchases": 5_000_000, "rate_bp": 500}]
        v2 = (await fin2.put("/v1/rebate-tiers", json={"tiers": later, "effective_from": (
            d + timedelta(days=1)).isoformat()})).json()
        assert (v2["set_by"], v2["in_force"]) == ("S-FIN2", False)  # tomorrow's
        listed = (await mgr.get("/v1/rebate-tiers")).json()
        assert listed["in_force"] == v1["version"]
        assert [(v["version"], v["set_by"], v["in_force"]) for v in listed["versions"]] == \
            [(v2["version"], "S-FIN2", False), (v1["version"], "S-FIN", True)]  # latest start first
        one = (await mgr.get("/v1/rebate-tiers", params={"limit": 1})).json()
        two = (await mgr.get("/v1/rebate-tiers", params={"limit": 1, "page": 2})).json()
        assert (one["has_more"], two["has_more"]) == (True, False)
        assert [v["version"] for v in one["versions"] + two["versions"]] == [v2["version"], v1["version"]]
        assert refused(await clerk.get("/v1/rebate-tiers"), 403, "O-02")  # READERS

        # a period ending today is rebated under today's tiers, and keeps them
        period = {"start": (d - timedelta(days=30)).isoformat(), "end": d.isoformat()}
        (rb,) = (await mgr.post("/v1/rebate-runs", json=period)).json()["rebates"]
        assert (rb["rate_bp"], rb["amount"], rb["tier_version"]) == (300, 210_000, v1["version"])
        clock.advance(days=1)  # tomorrow: the new version is in force
        assert (await mgr.get("/v1/rebate-tiers")).json()["in_force"] == v2["version"]
        again = (await mgr.post("/v1/rebate-runs", json=period)).json()["rebates"]
        assert [(x["rate_bp"], x["tier_version"]) for x in again] == [(300, v1["version"])]  # kept
        late = {"start": (d - timedelta(days=29)).isoformat(), "end": (d + timedelta(days=1)).isoformat()}
        (rb2,) = (await mgr.post("/v1/rebate-runs", json=late)).json()["rebates"]
        assert (rb2["rate_bp"], rb2["amount"], rb2["tier_version"]) == (500, 350_000, v2["version"])
        assert await sql_value(cstack.cfg, "credit", "SELECT string_agg(rate_bp || ':' || tier_version, ',' "
                               "ORDER BY period) FROM rebates") == f"300:{v1['version']},500:{v2['version']}"

        # staff read their store's rebates (they record collections) and coupon sales (they sell them); not SZ's
        assert ids(await rows(clerk, "/v1/rebates", "rebates"), "rebate_id") == {rb["rebate_id"], rb2["rebate_id"]}
        assert await rows(sz_clerk, "/v1/rebates", "rebates") == []
        assert await rows(clerk, "/v1/coupon-sales", "sales") == []
        assert refused(await clerk.get("/v1/rebates", params={"store_id": "SZ-1"}), 403, "O-02")


def coupon_sale_event(store: str, receipt: str, coupon_no: str) -> SaleRecorded:
    return SaleRecorded(
        sale_id=str(uuid.uuid4()), store_id=store, terminal_id="T9", receipt_no=receipt,
        occurred_at=datetime.now(UTC), lines=[SaleLine(line_no=1, sku="X", qty=1, unit_price=10_000, paid=10_000)],
        payments=[Payment(method="coupon", amount=10_000, coupon_numbers=[coupon_no])])


async def test_o02_c04_c09_conflicts_and_refused_credit_sales_are_paged_filtered_and_stay_in_their_store(
        cstack: Stack) -> None:
    await cstack.add_store("XA-1", "generic", region_code="029")
    await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN, "S-HQ") as hq, staff(cstack, Role.STORE_MANAGER, "S-XAM") as xa_mgr, \
            staff(cstack, Role.STORE_MANAGER, "S-SZM", store_id="SZ-1", region_code="755") as sz_mgr, \
            staff(cstack, Role.AUDITOR, "S-AUD") as aud, staff(cstack, Role.STAFF, "S-OP1") as clerk:
        xa_cust = await open_account(hq, "group_company", store_id="XA-1")
        sz_cust = await open_account(hq, "group_company", store_id="SZ-1")
        # sales that reached pos.sales naming coupons nobody drew (C-09) ...
        await emit(cstack, coupon_sale_event("XA-1", "R-C1", "NOPE-1"), coupon_sale_event("XA-1", "R-C2", "NOPE-2"),
                   coupon_sale_event("SZ-1", "R-C3", "NOPE-3"), subject="anon")
        # ... and credit sales without an authorisation of their store covering them (C-04)
        await emit(cstack, recorded("XA-1", "R-N1", xa_cust, None, 1_000),
                   recorded("XA-1", "R-N2", xa_cust, "AUTH-nope", 2_000),
                   recorded("SZ-1", "R-N3", sz_cust, None, 3_000), subject="k")
        await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT 1 FROM coupon_conflicts HAVING count(*) = 3"),
                       30, "three conflicts")
        await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT 1 FROM credit_refusals HAVING count(*) = 3"),
                       30, "three refused credit sales")

        conflicts = "/v1/reports/coupon-conflicts"
        assert ids(await rows(xa_mgr, conflicts, "conflicts"), "receipt_no") == {"R-C1", "R-C2"}
        assert ids(await rows(sz_mgr, conflicts, "conflicts"), "receipt_no") == {"R-C3"}
        assert ids(await rows(hq, conflicts, "conflicts"), "receipt_no") == {"R-C1", "R-C2", "R-C3"}
        assert ids(await rows(hq, conflicts, "conflicts", store_id="SZ-1"), "receipt_no") == {"R-C3"}
        (c2,) = await rows(xa_mgr, conflicts, "conflicts", receipt_no="R-C2")
        assert (c2["coupon_no"], c2["reason"]) == ("NOPE-2", "no such coupon")
        assert await rows(xa_mgr, conflicts, "conflicts", coupon_no="NOPE-3") == []  # SZ's: not in reach
        p1 = (await xa_mgr.get(conflicts, params={"limit": 1})).json()
        p2 = (await xa_mgr.get(conflicts, params={"limit": 1, "page": 2})).json()
        assert (p1["page"], p1["has_more"], p2["has_more"]) == (1, True, False)
        assert {x["receipt_no"] for x in p1["conflicts"] + p2["conflicts"]} == {"R-C1", "R-C2"}
        assert refused(await xa_mgr.get(conflicts, params={"store_id": "SZ-1"}), 403, "O-02")
        assert refused(await clerk.get(conflicts), 403, "O-02")

        refusals = "/v1/credit-refusals"
        mine = await rows(xa_mgr, refusals, "refusals")
        assert sorted((x["receipt_no"], x["amount"], x["rule"], x["authorization_id"]) for x in mine) == \
            [("R-N1", 1_000, "C-04", ""), ("R-N2", 2_000, "C-04", "AUTH-nope")]
        assert ids(await rows(sz_mgr, refusals, "refusals"), "receipt_no") == {"R-N3"}
        assert ids(await rows(aud, refusals, "refusals"), "receipt_no") == {"R-N1", "R-N2", "R-N3"}
        assert ids(await rows(hq, refusals, "refusals", customer_id=sz_cust), "receipt_no") == {"R-N3"}
        assert ids(await rows(hq, refusals, "refusals", receipt_no="R-N2"), "receipt_no") == {"R-N2"}
        p1 = (await xa_mgr.get(refusals, params={"limit": 1})).json()
        p2 = (await xa_mgr.get(refusals, params={"limit": 1, "page": 2})).json()
        assert (p1["has_more"], p2["has_more"]) == (True, False)
        assert {x["receipt_no"] for x in p1["refusals"] + p2["refusals"]} == {"R-N1", "R-N2"}
        other = await sz_mgr.get(refusals, params={"store_id": "XA-1"})  # another store's manager (O-02)
        assert refused(other, 403, "O-02") and "R-N1" not in other.text
        assert await rows(sz_mgr, refusals, "refusals", region="029") == []  # their store is not in it
        assert refused(await clerk.get(refusals), 403, "O-02")
