"""The POS API contract (docs/pos-api.md) on the running gateway: auth, problem details,
idempotency, offline batches, refunds (L-03), lookup by two facts (M-18), quotes."""

from __future__ import annotations

import uuid

import httpx
from devstack.testing import Stack, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale


async def test_auth_problem_details_idempotency_and_batches(stack: Stack) -> None:
    key = await stack.add_store("XA-201", "jewelry")
    other_key = await stack.add_store("XA-202", "generic")
    mobile = f"137{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": "XA-201", "full_name": "周文博", "mobile": mobile}])
    await stack.wait_directory(key, m["card_no"])
    gw = stack.url("gateway")
    async with httpx.AsyncClient(base_url=gw) as c:
        # 401 without or with an unknown key; 403 for another store's key
        r = await c.post("/v1/sales", json=sale("XA-201", "A1", None, 100))
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await c.post("/v1/sales", json=sale("XA-201", "A1", None, 100),
                         headers={"Authorization": "Bearer vip_nope_nope"})
        assert r.status_code == 401
        r = await c.post("/v1/sales", json=sale("XA-201", "A1", None, 100),
                         headers={"Authorization": f"Bearer {other_key}"})
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "store_id"

        c.headers["Authorization"] = f"Bearer {key}"
        # 422 names the field and the rule
        bad = sale("XA-201", "A2", None, 100)
        bad["lines"][0]["qty"] = 0
        r = await c.post("/v1/sales", json=bad)
        p = r.json()
        assert r.status_code == 422 and {"type", "title", "status", "detail", "errors", "trace_id"} <= p.keys()
        assert p["errors"][0]["field"] == "lines.0.qty"
        r = await c.post("/v1/sales", json=sale("XA-201", "A3", None, 100, payments=[{"method": "cash",
                                                                                      "amount": 99}]))
        assert r.status_code == 422 and "sum of payments" in r.json()["errors"][0]["message"]
        r = await c.post("/v1/sales", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM sales") == 0  # nothing half-written

        # offline batch: each receipt on its own
        first = sale("XA-201", "B1", m["card_no"], 1000)
        assert (await c.post("/v1/sales", json=first)).status_code == 201
        invalid = sale("XA-201", "B3", None, 100)
        invalid["lines"][0]["qty"] = -1
        r = await c.post("/v1/sales:batch", json={"sales": [
            first,                                          # replay -> 200
            sale("XA-201", "B2", None, 500),                # new -> 201
            invalid,                                        # 422
            sale("XA-201", "B1", m["card_no"], 2000),       # same receipt, other body -> 409
            sale("XA-202", "B4", None, 100),                # another store's receipt -> 403
            sale("XA-201", "B2", None, 500),                # duplicate inside the batch -> 200
        ]})
        assert r.status_code == 207
        assert [x["status"] for x in r.json()["results"]] == [200, 201, 422, 409, 403, 200]
        assert r.json()["results"][2]["errors"][0]["field"] == "lines.0.qty"
        r = await c.post("/v1/sales:batch", json={"sales": [sale("XA-201", f"C{i}", None, 1) for i in range(501)]})
        assert r.status_code == 422  # at most 500 per upload
    assert await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM sales") == 2
    assert await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM outbox") == 2  # nothing published twice


async def test_refunds_lookup_and_quotes(stack: Stack) -> None:
    key = await stack.add_store("XA-301", "jewelry")
    mobile = f"136{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": "XA-301", "full_name": "陈海燕", "mobile": mobile,
                                     "birthday": "1990-03-08"}])
    await stack.wait_directory(key, m["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as c:
        body = sale("XA-301", "S1", None, 0, member={"mobile": mobile, "name": "陈海燕"})
        body["lines"] = [{"line_no": 1, "sku": "A", "qty": 2, "unit_price": 20000, "paid": 40000},
                         {"line_no": 2, "sku": "B", "qty": 1, "unit_price": 10000, "paid": 10000,
                          "special_price": True}]
        body["payments"] = [{"method": "wechat", "amount": 50000}]
        r = await c.post("/v1/sales", json=body)
        assert r.status_code == 201 and r.json()["member_id"] == m["member_id"]  # M-18: two facts

        async def balance() -> int:
            lk = await c.get("/v1/members/lookup", params={"mobile": mobile, "name": "陈海燕"})
            return int(lk.json()["points_balance"])

        assert await wait_for(balance, 30, "points") == 400  # special-price line earns nothing (L-01)

        refund = {"store_id": "XA-301", "receipt_no": "RF1", "original_receipt_no": "S1",
                  "occurred_at": "2026-11-22T15:00:00+08:00", "lines": [{"line_no": 1, "qty": 1, "paid": 20000}]}
        r = await c.post("/v1/refunds", json=refund)
        assert r.status_code == 201
        assert (await c.post("/v1/refunds", json=refund)).status_code == 200  # idempotent
        too_much = {**refund, "receipt_no": "RF2", "lines": [{"line_no": 1, "qty": 2, "paid": 40000}]}
        r = await c.post("/v1/refunds", json=too_much)
        assert r.status_code == 422 and {e["rule"] for e in r.json()["errors"]} == {"L-03"}
        r = await c.post("/v1/refunds", json={**refund, "receipt_no": "RF3", "original_receipt_no": "NOPE"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "original_receipt_no"
        assert await wait_for(lambda: _eq(balance, 200), 30, "the reversal (L-03)")

        r = await c.get("/v1/members/lookup", params={"card_no": "00000000"})
        assert r.status_code == 404
        lk = (await c.get("/v1/members/lookup", params={"card_no": m["card_no"]})).json()
        assert lk["display_name"] == "陈*燕" and lk["card_status"] == "active" and lk["blacklisted"] is None

        q = await c.post("/v1/quotes", json={"store_id": "XA-301", "member": {"card_no": m["card_no"]},
                                             "lines": [{"line_no": 1, "sku": "A", "qty": 1, "unit_price": 98800}]})
        assert q.status_code == 200
        assert q.json()["total"] == 98800 and q.json()["points_to_earn"] == 988


async def _eq(f, want: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await f() == want)


async def test_openapi_and_asyncapi_documents(stack: Stack) -> None:
    """The POS API is documented with examples; every service publishes an AsyncAPI document of its topics."""
    async with httpx.AsyncClient() as c:
        openapi = (await c.get(stack.url("gateway") + "/openapi.json")).json()
        paths = {"/v1/sales", "/v1/sales:batch", "/v1/refunds", "/v1/members/lookup", "/v1/quotes"}
        assert paths <= openapi["paths"].keys()
        assert "examples" in openapi["components"]["schemas"]["SaleIn"]
        spec = (await c.get(stack.url("gateway") + "/asyncapi.json")).json()
        assert spec["asyncapi"].startswith("3.")
        assert any("pos.sale.recorded" in name for name in spec["components"]["schemas"]) or \
            "SaleRecorded" in str(spec["components"]["schemas"])
        loyalty = (await c.get(stack.url("loyalty") + "/asyncapi.json")).json()
        assert "TierChanged" in str(loyalty) and "pos.sales" in str(loyalty["channels"])


async def test_l03_a_refund_is_keyed_like_its_sale_so_it_never_overtakes_it(stack: Stack) -> None:
    """Sales of an unknown card and anonymous sales naming a credit customer are keyed by card and customer;
    their refunds carry the same key (same partition, after the sale), not a random one."""
    key = await stack.add_store("XA-401", "generic")
    bodies = [sale("XA-401", "K-CARD", "99900001", 1000),
              {**sale("XA-401", "K-CREDIT", None, 2000),
               "payments": [{"method": "cash", "amount": 2000, "credit_customer_id": "C-KEY-1"}]}]
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as c:
        for b in bodies:
            assert (await c.post("/v1/sales", json=b)).status_code == 201
            r = await c.post("/v1/refunds", json={"store_id": "XA-401", "receipt_no": "RF-" + b["receipt_no"],
                                                  "original_receipt_no": b["receipt_no"],
                                                  "occurred_at": "2026-11-22T15:00:00+08:00",
                                                  "lines": [{"line_no": 1, "qty": 1, "paid": 100}]})
            assert r.status_code == 201, r.text
    for expected in ("99900001", "C-KEY-1"):
        n = await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM outbox WHERE key = $1", expected)
        assert n == 2, f"sale and refund keyed {expected}: {n}"
