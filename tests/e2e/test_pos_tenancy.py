"""Tenancy of the POS API (O-02) on the running gateway: a store key acts for its own store, and reaches members of
the stores of its own program only (L-11: a member uses the card anywhere in the chain that runs the program);
another program's member is answered like an unknown card on every route that names a member, and another
store's receipts are never reached nor named."""

from __future__ import annotations

import uuid

import httpx
from devstack.testing import Stack, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale


async def test_o02_l11_a_key_reaches_its_programs_members_and_its_own_stores_receipts_only(stack: Stack) -> None:
    j1 = await stack.add_store("TN-J1", "jewelry")
    j2 = await stack.add_store("TN-J2", "jewelry")  # the same program: the member's card works there (L-11)
    g1 = await stack.add_store("TN-G1", "generic")  # another program: the member is unknown there
    mobile = f"136{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": "TN-J1", "full_name": "欧阳明月", "mobile": mobile}])
    await stack.wait_directory(j1, m["card_no"])
    await stack.wait_directory(j2, m["card_no"])  # found at a store of the same program
    by_card, by_pair = {"card_no": m["card_no"]}, {"mobile": mobile, "name": "欧阳明月"}
    gw = stack.url("gateway")
    async with httpx.AsyncClient(base_url=gw, headers={"Authorization": f"Bearer {g1}"}) as g, \
            httpx.AsyncClient(base_url=gw, headers={"Authorization": f"Bearer {j1}"}) as j:
        await wait_for(lambda: sql_value(stack.cfg, "gateway", "SELECT 1 FROM stores WHERE store_id='TN-G1'"),
                       30, "the gateway to know TN-G1")
        # lookups: by card and by the two facts, like an unknown member (404 M-18)
        for params in (by_card, by_pair):
            r = await g.get("/v1/members/lookup", params=params)
            assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "M-18", (params, r.text)
            assert "欧阳" not in r.text and m["member_id"] not in r.text
        # a quote prices the basket without a member
        q = await g.post("/v1/quotes", json={"store_id": "TN-G1", "member": by_card, "lines": [
            {"line_no": 1, "sku": "A", "qty": 1, "unit_price": 100000, "special_price": False}]})
        assert q.status_code == 200 and q.json()["member_id"] is None, q.text
        # a redemption: no such member here
        r = await g.post("/v1/redemptions", json={"store_id": "TN-G1", "member": by_card, "points_to_cash": 100})
        assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "M-18", r.text
        # no one-time code is texted to another program's member (L-07, L-11)
        r = await g.post(f"/v1/members/{m['card_no']}/proof-codes", json={"store_id": "TN-G1"})
        assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "M-18", r.text
        # stored value: spent by a known member only (L-11)
        sv = sale("TN-G1", "G-SV1", m["card_no"], 1000, payments=[{"method": "stored_value", "amount": 1000}])
        r = await g.post("/v1/sales", json=sv)
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-11", r.text
        assert r.json()["errors"][0]["field"] == "member"  # not a short balance: nobody known here
        # a sale naming the card is recorded without the member: nothing is earned on another program's card
        r = await g.post("/v1/sales", json=sale("TN-G1", "G-1", m["card_no"], 1000))
        assert r.status_code == 201 and r.json()["member_id"] is None, r.text
        r = await g.post("/v1/sales:batch", json={"sales": [sale("TN-G1", "G-2", m["card_no"], 1000)]})
        assert r.json()["results"][0]["status"] == 201 and r.json()["results"][0]["member_id"] is None

        # the member's own store and program: recognised
        r = await j.post("/v1/sales", json=sale("TN-J1", "J-SECRET-1", m["card_no"], 1000))
        assert r.status_code == 201 and r.json()["member_id"] == m["member_id"]
        # another store's receipt: naming its store is 403; naming one's own store, it is not found there and the
        # other store's sale is not mentioned
        refund = {"receipt_no": "G-RF1", "original_receipt_no": "J-SECRET-1",
                  "occurred_at": "2026-11-23T10:00:00+08:00", "lines": [{"line_no": 1, "qty": 1, "paid": 1000}]}
        r = await g.post("/v1/refunds", json={**refund, "store_id": "TN-J1"})
        assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"
        r = await g.post("/v1/refunds", json={**refund, "store_id": "TN-G1"})
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-03" and "TN-J1" not in r.text
        # every route that names a store refuses another store's (O-02), whatever the body
        for path, body in (("/v1/sales", sale("TN-J1", "G-X", None, 1)),
                           ("/v1/quotes", {"store_id": "TN-J1", "lines": [{"line_no": 1, "sku": "A", "qty": 1,
                                                                           "unit_price": 1}]}),
                           ("/v1/redemptions", {"store_id": "TN-J1", "member": by_card, "points_to_cash": 100}),
                           ("/v1/credit/authorizations", {"store_id": "TN-J1", "customer_id": "GB-1", "cases": 1,
                                                          "amount": 1, "responsible_staff_id": "S1"}),
                           ("/v1/credit/coupon-redemptions", {"store_id": "TN-J1", "receipt_no": "G-X",
                                                              "coupon_nos": ["C1"]})):
            r = await g.post(path, json=body)
            assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02", (path, r.text)
    assert await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM sales WHERE store_id='TN-J1'") == 1
