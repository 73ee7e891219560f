"""C-01, C-02, C-04 on the real stack: accounts, limits, raises, suspension, POS authorisations, holds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from devstack.testing import Stack, consume_all, sql_value, wait_for
from vipcore.auth import Role

from .helpers import authorize, credit_sale, open_account, pos, receivables_of, staff


async def test_c02_class_limits_and_c01_accounts_by_role(cstack: Stack) -> None:
    async with staff(cstack, Role.STORE_MANAGER) as mgr, staff(cstack, Role.STAFF) as clerk:
        gov = await open_account(mgr, "government")
        ind = await open_account(mgr, "individual")
        assert (await mgr.get(f"/v1/accounts/{gov}")).json()["limit_cases"] == 10
        view = (await mgr.get(f"/v1/accounts/{ind}")).json()
        assert view["limit_cases"] == 5 and view["contact_mobile"] != "13912345678"  # masked (N-06)
        too_many = await mgr.post("/v1/accounts", json={
            "name": "张三丰", "customer_class": "small_business", "store_id": "XA-1", "responsible_staff_id": "S1",
            "limit_cases": 6, "limit_amount": 100})
        assert too_many.status_code == 422 and too_many.json()["errors"][0]["rule"] == "C-02"
        bad_class = await mgr.post("/v1/accounts", json={
            "name": "张三丰", "customer_class": "alien", "store_id": "XA-1", "responsible_staff_id": "S1",
            "limit_amount": 100})
        assert bad_class.status_code == 422 and bad_class.json()["errors"][0]["rule"] == "M-14"
        assert (await clerk.post("/v1/accounts", json={"name": "x"})).status_code == 403  # O-02
        static = {"Authorization": f"Bearer {cstack.cfg.bootstrap_token}"}  # the static admin token is no credential
        async with httpx.AsyncClient(headers=static) as c:
            assert (await c.get(f"{cstack.url('credit')}/v1/accounts/{gov}")).status_code == 401


async def test_c02_temporary_raise_needs_approval_by_someone_else_and_expires(cstack: Stack) -> None:
    async with staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, staff(cstack, Role.STAFF, "S-OP1") as clerk, \
            staff(cstack, Role.HQ_ADMIN, "S-HQ") as hq:
        cust = await open_account(mgr, "individual")
        expires = datetime.now(UTC) + timedelta(days=30)
        r = await clerk.post(f"/v1/accounts/{cust}/raises", json={
            "extra_cases": 5, "extra_amount": 0, "reason": "春节团购", "application_ref": "APP-2026-001",
            "expires_at": expires.isoformat()})
        assert r.status_code == 201, r.text
        raise_id = r.json()["raise_id"]
        assert (await mgr.get(f"/v1/accounts/{cust}")).json()["effective_limit_cases"] == 5  # pending: no effect
        assert (await clerk.post(f"/v1/raises/{raise_id}/decision", json={"approve": True})).status_code == 403
        assert (await mgr.post(f"/v1/raises/{raise_id}/decision", json={"approve": True})).status_code == 200
        assert (await hq.post(f"/v1/raises/{raise_id}/decision", json={"approve": False})).status_code == 409
        assert (await mgr.get(f"/v1/accounts/{cust}")).json()["effective_limit_cases"] == 10
        past = await clerk.post(f"/v1/accounts/{cust}/raises", json={
            "extra_cases": 5, "extra_amount": 0, "reason": "过期", "application_ref": "APP-2",
            "expires_at": "2020-01-01T00:00:00+08:00"})
        assert past.status_code == 422 and past.json()["errors"][0]["rule"] == "C-02"
        # an approved raise that has expired no longer counts
        cstack.clock.advance(days=31)  # type: ignore[attr-defined]
        assert (await mgr.get(f"/v1/accounts/{cust}")).json()["effective_limit_cases"] == 5


async def test_c04_pos_authorisation_hold_capture_refund_release(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "group_company", limit_amount=500_000)
        r = await authorize(till, cust, 4, 200_000)
        assert r.status_code == 201, r.text
        a = r.json()
        assert a["approved"] and (a["available_cases"], a["available_amount"]) == (6, 300_000)
        over = await authorize(till, cust, 7, 1)
        assert over.status_code == 422 and over.json()["errors"][0]["rule"] == "C-02"
        assert over.json()["errors"][0]["field"] == "cases"
        over_amount = await authorize(till, cust, 1, 300_001)
        assert over_amount.status_code == 422 and over_amount.json()["errors"][0]["field"] == "amount"
        unknown = await authorize(till, "NOBODY", 1, 1)  # answered like another store's customer (O-02)
        assert unknown.status_code == 404 and unknown.json()["errors"][0]["rule"] == "C-01"
        other_store = await till.post("/v1/credit/authorizations", json={
            "store_id": "XA-9", "customer_id": cust, "cases": 1, "amount": 1, "responsible_staff_id": "S1"})
        assert other_store.status_code == 403
        assert (await till.post("/v1/credit/authorizations", json={"store_id": "XA-1"})).status_code == 422

        sale = credit_sale("R-CR-1", cust, a["authorization_id"], 200_000)
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        (rec,) = await receivables_of(cstack, cust, 1)
        # C-03: a group company delivered on 2026-11-22 (Shanghai) settles by 2026-12-10
        assert (rec["cases"], rec["due_date"], rec["responsible_staff_id"]) == (4, "2026-12-10", "S-OP1")
        assert rec["line_leader_staff_id"] == "S-LEAD"
        auth = (await cstack.admin.get(
            f"{cstack.url('credit')}/internal/authorizations/{a['authorization_id']}")).json()
        assert auth["status"] == "captured"
        view = (await mgr.get(f"/v1/accounts/{cust}")).json()
        assert (view["outstanding_cases"], view["outstanding_amount"]) == (4, 200_000)  # now as a receivable

        refund = {"store_id": "XA-1", "receipt_no": "RF-CR-1", "original_receipt_no": "R-CR-1",
                  "occurred_at": "2026-11-23T10:00:00+08:00", "lines": [{"line_no": 1, "qty": 1, "paid": 200_000}]}
        assert (await till.post("/v1/refunds", json=refund)).status_code == 201

        async def released() -> bool:
            r = await cstack.admin.get(f"{cstack.url('credit')}/internal/authorizations/{a['authorization_id']}")
            return bool(r.json()["status"] == "released")

        await wait_for(released, 30, "the refunded sale's hold released")
        view = (await mgr.get(f"/v1/accounts/{cust}")).json()
        assert (view["outstanding_cases"], view["outstanding_amount"]) == (0, 0)


async def test_c04_unused_authorisation_is_released_when_it_expires(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "individual")
        a = (await authorize(till, cust, 5, 1000)).json()
        assert (await authorize(till, cust, 1, 1)).status_code == 422  # the 5 held cases count
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        r = await cstack.admin.post(f"{cstack.url('credit')}/admin/authorizations/expiry", json={"as_of": later})
        assert r.json() == {"released": 1}
        assert (await authorize(till, cust, 5, 1000)).status_code == 201
        events = await consume_all(cstack.cfg.kafka_bootstrap, cstack.cfg.topic_prefix + "credit.events", 4)
        types = [dict(e.headers)["ce_type"].decode() for e in events]
        assert types.count("credit.authorization.granted") == 2
        assert types.count("credit.authorization.refused") == 1
        assert types.count("credit.authorization.released") == 1
        rel = next(e for e in events if dict(e.headers)["ce_type"] == b"credit.authorization.released")
        assert a["authorization_id"].encode() in rel.value and rel.key == cust.encode()


async def test_c01_suspended_customer_is_refused(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "soe")
        assert (await mgr.post(f"/v1/accounts/{cust}/suspension", json={"reason": "拖欠"})).status_code == 200
        r = await authorize(till, cust, 1, 1)
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "C-01"
        assert (await mgr.delete(f"/v1/accounts/{cust}/suspension")).status_code == 200
        assert (await authorize(till, cust, 1, 1)).status_code == 201


async def test_c02_concurrent_terminals_never_exceed_the_limit(cstack: Stack) -> None:
    """Many terminals authorise against one customer at the same moment: exactly the limit is granted."""
    keys = [await cstack.add_store("XA-1", "generic", region_code="029") for _ in range(2)]
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, keys[0]) as t1, pos(cstack, keys[1]) as t2:
        cust = await open_account(mgr, "group_company", limit_amount=10_000_000)
        results = await asyncio.gather(*(authorize(t1 if i % 2 else t2, cust, 1, 1000) for i in range(40)))
        codes = sorted(r.status_code for r in results)
        assert codes.count(201) == 10 and codes.count(422) == 30, codes
        assert await sql_value(cstack.cfg, "credit",
                               "SELECT sum(cases) FROM authorizations WHERE customer_id=$1 AND status='held'",
                               cust) == 10
        # the money limit binds the same way: 5,500 fen allows five holds of 1,000
        by_amount = await open_account(mgr, "government", limit_amount=5_500)
        results = await asyncio.gather(*(authorize(t1 if i % 2 else t2, by_amount, 1, 1000) for i in range(40)))
        assert sum(r.status_code == 201 for r in results) == 5
        assert {r.json()["errors"][0]["field"] for r in results if r.status_code == 422} == {"amount"}


async def test_c04_an_authorisation_is_captured_by_one_sale_only(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "group_company")
        a = (await authorize(till, cust, 3, 30_000)).json()
        assert (await till.post("/v1/sales", json=credit_sale("R-ONCE-1", cust, a["authorization_id"],
                                                              30_000))).status_code == 201
        again = await till.post("/v1/sales", json=credit_sale("R-ONCE-2", cust, a["authorization_id"], 30_000))
        assert again.status_code == 422, again.text  # C-04: the hold is the first receipt's; nothing recorded
        assert again.json()["errors"][0] == {"field": "payments[0].authorization_id", "rule": "C-04",
                                             "message": "this authorisation is used by another receipt"}
        (first,) = await receivables_of(cstack, cust, 1)
        assert first["cases"] == 3
        auth = (await cstack.admin.get(
            f"{cstack.url('credit')}/internal/authorizations/{a['authorization_id']}")).json()
        assert auth["sale_id"] == first["sale_id"]
