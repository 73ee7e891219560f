"""Tenancy in credit (O-02, C-04) on the real stack: each store's till and staff reach only their own store's
group buyers, invoices, applications and coupon sales; another store's answer 404 (as if missing) or 403 (a
command naming another store); a credit sale is recorded only against an authorisation of its store, customer
and amount, at the till (422 C-04) and in credit's consumer of pos.sales (no receivable booked)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.contracts.pos import Payment, SaleLine, SaleRecorded

from .helpers import authorize, credit_sale, draw_coupons, emit, open_account, pos, receivables_of, staff
from .test_aging_and_writeoffs import today
from .test_coupons_and_rebates import sale_body
from .test_receivables_payments_overdue import days_ago, tally_day


def refused(r: httpx.Response, status: int, rule: str) -> bool:
    return r.status_code == status and r.json()["errors"][0]["rule"] == rule


async def test_o02_c01_a_store_key_cannot_authorise_another_stores_group_buyer(cstack: Stack) -> None:
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    sz = await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN) as hq, pos(cstack, xa) as xa_till, pos(cstack, sz) as sz_till:
        cust = await open_account(hq, "group_company", store_id="XA-1")
        foreign = await authorize(sz_till, cust, 1, 1_000, store_id="SZ-1")
        unknown = await authorize(sz_till, "ORG-NOBODY", 1, 1_000, store_id="SZ-1")
        assert refused(foreign, 404, "C-01") and refused(unknown, 404, "C-01")
        # the same answer for another store's buyer and for nobody: the buyer's existence is not revealed
        assert foreign.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"]
        assert await sql_value(cstack.cfg, "credit", "SELECT count(*) FROM authorizations") == 0
        assert (await authorize(xa_till, cust, 1, 1_000, store_id="XA-1")).status_code == 201
        # naming the other store in the body is refused by the key itself
        assert refused(await authorize(sz_till, cust, 1, 1_000, store_id="XA-1"), 403, "O-02")


async def test_c04_a_credit_sale_needs_its_own_stores_authorisation_for_the_customer_and_amount(
        cstack: Stack) -> None:
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    sz = await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN) as hq, pos(cstack, xa) as xa_till, pos(cstack, sz) as sz_till:
        cust = await open_account(hq, "group_company", store_id="XA-1")
        other = await open_account(hq, "group_company", store_id="XA-1")
        sz_cust = await open_account(hq, "group_company", store_id="SZ-1")
        a = (await authorize(xa_till, cust, 2, 50_000)).json()["authorization_id"]
        sz_a = (await authorize(sz_till, sz_cust, 1, 50_000, store_id="SZ-1")).json()["authorization_id"]
        attempts = {
            "made up": (xa_till, credit_sale("R-T1", cust, "AUTH-made-up", 10_000), "authorization_id"),
            "another customer": (xa_till, credit_sale("R-T2", other, a, 10_000), "authorization_id"),
            "more than held": (xa_till, credit_sale("R-T3", cust, a, 50_001), "amount"),
            "another store's hold": (xa_till, credit_sale("R-T4", sz_cust, sz_a, 10_000), "authorization_id"),
            "this hold at the other store": (sz_till, credit_sale("R-T5", cust, a, 10_000, store_id="SZ-1"),
                                             "authorization_id"),
        }
        for what, (till, sale, field) in attempts.items():
            r = await till.post("/v1/sales", json=sale)
            assert refused(r, 422, "C-04"), (what, r.text)
            assert r.json()["errors"][0]["field"] == f"payments[0].{field}", what
            assert "SZ-1" not in r.text and "XA-1" not in r.text, what  # names no store's data
        # the same refusal for a receipt of an upload
        batch = await xa_till.post("/v1/sales:batch", json={"sales": [credit_sale("R-T6", other, a, 10_000)]})
        assert [x["status"] for x in batch.json()["results"]] == [422]
        assert await sql_value(cstack.cfg, "gateway", "SELECT count(*) FROM sales") == 0  # nothing recorded
        ok = await xa_till.post("/v1/sales", json=credit_sale("R-OK", cust, a, 50_000))
        assert ok.status_code == 201, ok.text
        (rec,) = await receivables_of(cstack, cust, 1)
        assert (rec["amount"], rec["cases"], rec["authorization_id"]) == (50_000, 2, a)


def recorded(store: str, receipt: str, customer: str, auth: str | None, amount: int) -> SaleRecorded:
    return SaleRecorded(
        sale_id=str(uuid.uuid4()), store_id=store, terminal_id="T9", receipt_no=receipt,
        occurred_at=datetime.now(UTC), lines=[SaleLine(line_no=1, sku="X", qty=1, unit_price=amount, paid=amount)],
        payments=[Payment(method="credit", amount=amount, credit_customer_id=customer, authorization_id=auth)])


async def test_c04_credit_books_no_receivable_for_a_sale_event_without_a_matching_authorisation(
        cstack: Stack) -> None:
    """A sale that reached pos.sales without the gateway's check (an old record replayed, a bad producer)."""
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN) as hq, pos(cstack, xa) as till:
        cust = await open_account(hq, "group_company", store_id="XA-1")
        a = (await authorize(till, cust, 1, 20_000)).json()["authorization_id"]
    bad = [recorded("XA-1", "R-E1", cust, None, 1_000),            # no authorisation
           recorded("XA-1", "R-E2", cust, "AUTH-nope", 1_000),     # an unknown one
           recorded("SZ-1", "R-E3", cust, a, 1_000),               # XA-1's hold, sold at SZ-1
           recorded("XA-1", "R-E4", cust, a, 20_001)]              # more than it holds
    good = recorded("XA-1", "R-E5", cust, a, 20_000)
    await emit(cstack, *bad, good, subject=cust)
    (rec,) = await receivables_of(cstack, cust, 1)
    assert rec["sale_id"] == good.sale_id
    rows = await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT string_agg(receipt_no || ' ' || rule || "
                                            "' ' || amount, ',' ORDER BY receipt_no) FROM credit_refusals "
                                            "HAVING count(*) = 4"), 30, "the four refusals kept")
    assert rows == "R-E1 C-04 1000,R-E2 C-04 1000,R-E3 C-04 1000,R-E4 C-04 20001"
    assert await sql_value(cstack.cfg, "credit", "SELECT count(*) FROM receivables WHERE customer_id=$1",
                           cust) == 1


async def xa_objects(stack: Stack, hq: httpx.AsyncClient, till: httpx.AsyncClient) -> dict[str, Any]:
    """XA-1's group buyer with an invoice, a pending cheque, and pending raise, extension and write-off."""
    cust = await open_account(hq, "small_business", store_id="XA-1")
    h = (await authorize(till, cust, 1, 90_000)).json()["authorization_id"]
    assert (await till.post("/v1/sales", json=credit_sale("R-X1", cust, h, 90_000, days_ago(stack, 5)))) \
        .status_code == 201
    (rec,) = await receivables_of(stack, cust, 1)
    rid = rec["receivable_id"]
    raise_id = (await hq.post(f"/v1/accounts/{cust}/raises", json={
        "extra_cases": 1, "extra_amount": 0, "reason": "春节", "application_ref": "APP-1",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()})).json()["raise_id"]
    payment = (await hq.post(f"/v1/accounts/{cust}/payments", json={"method": "cheque", "amount": 1_000}))
    ext = (await hq.post(f"/v1/receivables/{rid}/extensions", json={
        "new_due_date": (today(stack) + timedelta(days=60)).isoformat(), "reason": "节后付款"})).json()
    wo = (await hq.post(f"/v1/receivables/{rid}/writeoffs", json={"reason": "公司注销"})).json()
    return {"cust": cust, "rid": rid, "raise": raise_id, "payment": payment.json()["payment_id"],
            "ext": ext["extension_id"], "wo": wo["writeoff_id"]}


async def test_o02_credit_staff_routes_reach_only_their_store(cstack: Stack) -> None:
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN, "S-HQ") as hq, pos(cstack, xa) as till:
        o = await xa_objects(cstack, hq, till)
    c, decision = o["cust"], {"approve": True}
    tries = [("GET", f"/v1/accounts/{c}", None),
             ("POST", f"/v1/accounts/{c}/raises", {"extra_cases": 1, "extra_amount": 0, "reason": "跨店",
                                                   "application_ref": "APP-9",
                                                   "expires_at": "2099-01-01T00:00:00+08:00"}),
             ("POST", f"/v1/raises/{o['raise']}/decision", decision),
             ("POST", f"/v1/accounts/{c}/suspension", {"reason": "拖欠"}),
             ("DELETE", f"/v1/accounts/{c}/suspension", None),
             ("POST", f"/v1/accounts/{c}/payments", {"method": "cash", "amount": 1}),
             ("POST", f"/v1/payments/{o['payment']}/clearing", None),
             ("POST", f"/v1/payments/{o['payment']}/bounce", None),
             ("POST", f"/v1/receivables/{o['rid']}/extensions", {"new_due_date": "2099-01-01", "reason": "跨店"}),
             ("POST", f"/v1/extensions/{o['ext']}/decision", decision),
             ("POST", f"/v1/receivables/{o['rid']}/writeoffs", {"reason": "跨店"}),
             ("POST", f"/v1/writeoffs/{o['wo']}/decision", decision),
             ("GET", "/v1/staff/S-OP1/liabilities", None)]
    # SZ-1's manager (an approver) and staff member, and a manager of region 755's office: none reach XA-1's
    async with staff(cstack, Role.STORE_MANAGER, store_id="SZ-1", region_code="755") as sz_mgr, \
            staff(cstack, Role.STAFF, store_id="SZ-1", region_code="755") as sz_clerk, \
            staff(cstack, Role.STORE_MANAGER, store_id=None, region_code="755") as region_mgr:
        for who in (sz_mgr, sz_clerk, region_mgr):
            for method, path, body in tries:
                r = await who.request(method, path, json=body)
                # 404 as if missing; 403 where the role may not do this anywhere (or reads only its own statement)
                assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
                assert r.json()["errors"][0]["rule"] == "O-02" or r.status_code == 404, r.text
        opened = await sz_mgr.post("/v1/accounts", json={
            "name": "深圳某公司", "customer_class": "enterprise_institution", "store_id": "XA-1",
            "responsible_staff_id": "S1", "limit_amount": 100})
        assert refused(opened, 403, "O-02")
        aging = await region_mgr.get("/v1/reports/aging", params={"by": "store"})
        assert aging.status_code == 200 and aging.json()["rows"] == []  # region 755 owes nothing
        assert refused(await region_mgr.get("/v1/reports/aging", params={"region": "029"}), 403, "O-02")
        own = await sz_mgr.get("/v1/reports/aging", params={"by": "store"})
        assert own.json()["rows"] == []
    # nothing changed: the account is not suspended, the applications still pending, no payment recorded
    async with staff(cstack, Role.STORE_MANAGER, "S-XA", store_id="XA-1") as xa_mgr, \
            staff(cstack, Role.HQ_CS) as hq_cs, staff(cstack, Role.STORE_MANAGER, store_id=None) as xa_region:
        view = await xa_mgr.get(f"/v1/accounts/{c}")
        assert view.status_code == 200 and view.json()["suspended"] is False
        assert (await hq_cs.get(f"/v1/accounts/{c}")).status_code == 200  # HQ sees every store
        assert (await xa_region.get(f"/v1/accounts/{c}")).status_code == 200  # region 029's office sees XA-1
        assert await sql_value(cstack.cfg, "credit", "SELECT count(*) FROM payments") == 1
        assert await sql_value(cstack.cfg, "credit", "SELECT string_agg(status, ',') FROM (SELECT status FROM "
                               "limit_raises UNION ALL SELECT status FROM due_extensions UNION ALL SELECT status "
                               "FROM writeoffs) s") == "pending,pending,pending"
        assert (await xa_mgr.post(f"/v1/writeoffs/{o['wo']}/decision", json=decision)).status_code == 200


async def test_o02_c09_coupon_sales_reports_and_refusals_stay_with_their_store(cstack: Stack) -> None:
    xa = await cstack.add_store("XA-1", "generic", region_code="029")
    sz = await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF, store_id="XA-1") as clerk, \
            staff(cstack, Role.STAFF, store_id="SZ-1", region_code="755") as sz_clerk, \
            staff(cstack, Role.STORE_MANAGER, store_id="SZ-1", region_code="755") as sz_mgr, \
            pos(cstack, xa) as xa_till, pos(cstack, sz) as sz_till:
        nos = await draw_coupons(cstack, fin, "TN-", 10_000, 3, (today(cstack) + timedelta(days=30)).isoformat())
        assert refused(await sz_clerk.post("/v1/coupon-sales", json=sale_body(nos[:1])), 403, "O-02")
        chq = (await clerk.post("/v1/coupon-sales", json=sale_body(nos[:1], "cheque"))).json()["coupon_sale_id"]
        assert (await clerk.post("/v1/coupon-sales", json=sale_body(nos[1:]))).status_code == 201
        for path in (f"/v1/coupon-sales/{chq}/clearing", f"/v1/coupon-sales/{chq}/bounce"):
            assert refused(await sz_mgr.post(path), 404, "O-02"), path
        day = tally_day(cstack).isoformat()
        assert refused(await sz_mgr.get("/v1/reports/coupon-tally", params={"date": day, "store_id": "XA-1"}),
                       403, "O-02")
        mine = (await sz_mgr.get("/v1/reports/coupon-tally", params={"date": day})).json()
        assert mine["sales"] == [] and mine["coupons_sold"] == 0
        # a coupon spent by XA-1's receipt: SZ-1's till hears it is spent, never which receipt or store spent it
        spend = {"receipt_no": "XA-SECRET-77", "coupon_nos": [nos[1]]}
        assert (await xa_till.post("/v1/credit/coupon-redemptions", json={"store_id": "XA-1", **spend})) \
            .status_code == 201
        r = await sz_till.post("/v1/credit/coupon-redemptions", json={
            "store_id": "SZ-1", "receipt_no": "SZ-R-1", "coupon_nos": [nos[1]]})
        assert refused(r, 422, "C-09") and "already spent at another store" in r.text
        assert "XA-SECRET-77" not in r.text and "XA-1" not in r.text
        again = await xa_till.post("/v1/credit/coupon-redemptions", json={
            "store_id": "XA-1", "receipt_no": "XA-R-2", "coupon_nos": [nos[1]]})
        assert refused(again, 422, "C-09") and "XA-SECRET-77" in again.text  # its own store is told which receipt
        # a made-up number is just unknown; numbers are not a sequence one could walk
        assert len({n[3:] for n in nos}) == 3
