"""Issue 10: no input reaches credit's tables unchecked, and no route answers 5xx. A hostile value in any field
(empty, NUL byte, lone surrogate, integers beyond 64 bits, dates that overflow) is refused with 422
problem+json naming the field; before, `/internal/coupon-redemptions` (and the gateway's `/v1/credit/...` routes
forwarding to it) answered 500 when a NUL or a lone surrogate reached PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
from devstack.testing import Stack
from vipcore.auth import Role

from .helpers import pos, staff

NUL, SURROGATE = "R-\x00-1", "R-\ud800-1"
HOSTILE: list[Any] = ["", NUL, SURROGATE, "x" * 3000, 2**70, -(2**70), -1, 1.5, True, None, [], {},
                      "0000-01", "9999-12", "0001-01-01", "9999-12-31", "2026-02-30",
                      "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-22T12:30:00"]

DAY = "2026-11-30"
AT = "2026-11-30T10:00:00+08:00"
# (method, path, valid body): each body field is replaced in turn by every hostile value
BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/accounts", {"customer_id": "ORG-E1", "name": "Edge Org", "customer_class": "group_company",
                              "contact_mobile": "13912345678", "store_id": "XA-1", "responsible_staff_id": "S-1",
                              "line_leader_staff_id": "S-2", "limit_cases": 3, "limit_amount": 100_000,
                              "member_id": "M-1"}),
    ("POST", "/v1/accounts/ORG-E1/raises", {"extra_cases": 1, "extra_amount": 10, "reason": "more goods",
                                            "application_ref": "APP-1", "expires_at": AT}),
    ("POST", "/v1/raises/RAISE-x/decision", {"approve": True}),
    ("POST", "/v1/accounts/ORG-E1/suspension", {"reason": "bad record"}),
    ("POST", "/v1/accounts/ORG-E1/payments", {"method": "cash", "amount": 10, "reference": "ref 1",
                                              "receivable_id": "R-1"}),
    ("POST", "/v1/receivables/R-1/extensions", {"new_due_date": DAY, "reason": "asked nicely"}),
    ("POST", "/v1/receivables/R-1/writeoffs", {"reason": "gone away"}),
    ("POST", "/v1/coupon-batches", {"prefix": "EDGE-", "face_value": 100, "count": 1, "expires_on": DAY}),
    ("POST", "/v1/coupon-sales", {"store_id": "XA-1", "unit": "Some Unit", "contact": "Li Lei",
                                  "phone": "13912345678", "payment_method": "cash", "coupon_nos": ["EDGE-000001"]}),
    ("PUT", "/v1/rebate-tiers", {"tiers": [{"min_purchases": 100, "rate_bp": 100}]}),
    ("POST", "/v1/rebate-runs", {"start": "2026-10-01", "end": "2026-10-31"}),
    ("POST", "/v1/rebate-slips/SLIP-1/collection", {"coupon_nos": ["EDGE-000001"], "collected_by": "Li Lei"}),
    ("POST", "/v1/reconciliation-closes", {"month": "2026-10"}),
    ("POST", "/internal/authorizations", {"store_id": "XA-1", "customer_id": "ORG-E1", "cases": 1, "amount": 10,
                                          "responsible_staff_id": "S-1"}),
    ("POST", "/admin/daily-runs", {"date": DAY, "timezone": "Asia/Shanghai"}),
    ("POST", "/admin/authorizations/expiry", {"as_of": AT}),
    ("POST", "/internal/coupon-redemptions", {"store_id": "XA-1", "receipt_no": "R-1", "coupon_nos": ["EDGE-1"],
                                              "amount": 10}),
    ("POST", "/admin/coupon-redemptions/release", {"as_of": AT}),
]
# (path, valid query): each query parameter is replaced in turn by every hostile value
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/reports/aging", {"as_of": DAY, "by": "store", "format": "json", "region": "029"}),
    ("/v1/reports/coupon-tally", {"date": DAY, "store_id": "XA-1"}),
    ("/v1/reports/coupon-conflicts", {"limit": 10}),
    ("/v1/reports/coupon-reconciliation", {"month": "2026-10"}),
    ("/v1/receivables", {"customer_id": "ORG-E1", "limit": 10}),
    # the desk lists (desk_http.py)
    ("/v1/accounts", {"q": "西安", "store_id": "XA-1", "overdue": "true", "page": 1, "limit": 10}),
    ("/v1/authorizations", {"customer_id": "ORG-E1", "status": "held", "region": "029"}),
    ("/v1/receivables", {"overdue": "true", "open": "true", "staff_id": "S-1", "page": 2}),
    ("/v1/rebates", {"period": "2026-11-01/2026-12-01", "status": "pending"}),
    ("/v1/coupon-sales", {"unit": "工会", "cheque_status": "pending"}),
]
PATHS = ["/v1/accounts/{}", "/v1/staff/{}/liabilities", "/internal/authorizations/{}"]
POST_PATHS = ["/v1/payments/{}/clearing", "/v1/payments/{}/bounce", "/v1/coupon-sales/{}/clearing",
              "/v1/coupon-sales/{}/bounce"]


def raw(body: Any) -> dict[str, Any]:
    """JSON with lone surrogates escaped (\\ud800), as a hostile client sends them."""
    return {"content": json.dumps(body, ensure_ascii=True).encode(), "headers": {"content-type": "application/json"}}


def refused(r: httpx.Response, field: str | None = None) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
    if r.status_code == 422:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        fields = [e["field"] for e in r.json()["errors"]]
        assert fields and (field is None or any(f.split(".")[0] == field for f in fields)), (field, r.text)


def client_for(stack: Stack, path: str) -> httpx.AsyncClient:
    if path.startswith(("/internal", "/admin", "/v1/receivables")):
        return httpx.AsyncClient(base_url=stack.url("credit"), auth=stack.cfg.admin_auth(), timeout=30)
    return staff(stack, Role.HQ_ADMIN)


async def test_no_hostile_value_in_any_field_makes_credit_answer_5xx(cstack: Stack) -> None:
    for method, path, body in BODIES:
        async with client_for(cstack, path) as c:
            for name in body:
                for bad in HOSTILE:
                    r = await c.request(method, path, **raw({**body, name: bad}))
                    if r.status_code == 422:
                        refused(r)
                    else:
                        refused(r, name)
    for path, params in QUERIES:
        async with client_for(cstack, path) as c:
            for name in params:
                for bad in HOSTILE:
                    if isinstance(bad, (list, dict)) or bad is None or bad == SURROGATE:
                        continue  # a query string carries text; a lone surrogate is sent percent-encoded below
                    r = await c.get(path, params={**params, name: str(bad)})
                    refused(r)
                r = await c.get(f"{path}?{name}=%ED%A0%80")
                refused(r)
    async with staff(cstack, Role.HQ_ADMIN) as hq, client_for(cstack, "/internal") as internal:
        for template in PATHS + POST_PATHS:
            c = internal if template.startswith("/internal") else hq
            for bad in ("%00", "%ED%A0%80", "x" * 3000, "%20", "%C3%28"):
                r = await c.request("POST" if template in POST_PATHS else "GET", template.format(bad))
                refused(r)


async def test_coupon_redemption_with_nul_or_lone_surrogate_is_422_naming_the_field(cstack: Stack) -> None:
    """The 500 the fuzzer found: NUL bytes and lone surrogates reached PostgreSQL (now refused at the edge)."""
    body = {"store_id": "XA-1", "receipt_no": "R-1", "coupon_nos": ["GB-000001"]}
    async with client_for(cstack, "/internal") as c:
        for field, bad in (("receipt_no", NUL), ("receipt_no", SURROGATE), ("store_id", NUL),
                           ("coupon_nos", [NUL]), ("coupon_nos", [SURROGATE]), ("amount", 2**70)):
            r = await c.post("/internal/coupon-redemptions", **raw({**body, field: bad}))
            assert r.status_code == 422, r.text
            refused(r, field)


async def test_gateway_credit_routes_refuse_nul_and_lone_surrogates_with_422(cstack: Stack) -> None:
    """POS API v1 `/v1/credit/authorizations` and `/v1/credit/coupon-redemptions` forward to credit: a NUL byte
    or a lone surrogate is refused (422 problem+json), never a 500."""
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with pos(cstack, key) as till:
        auth = {"store_id": "XA-1", "customer_id": "ORG-1", "cases": 1, "amount": 100, "responsible_staff_id": "S-1"}
        redeem = {"store_id": "XA-1", "receipt_no": "R-1", "coupon_nos": ["GB-000001"]}
        for path, body, field in (("/v1/credit/authorizations", auth, "customer_id"),
                                  ("/v1/credit/authorizations", auth, "responsible_staff_id"),
                                  ("/v1/credit/coupon-redemptions", redeem, "receipt_no")):
            for bad in (NUL, SURROGATE):
                r = await till.post(path, **raw({**body, field: bad}))
                assert r.status_code == 422, r.text
                refused(r, field)
        r = await till.post("/v1/credit/coupon-redemptions", **raw({**redeem, "coupon_nos": [NUL]}))
        assert r.status_code == 422, r.text
