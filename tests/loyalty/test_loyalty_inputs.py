"""Hostile input at every loyalty route answers a 4xx problem naming the field and the rule, never a 500: empty
strings, integers beyond 64 bits, NUL bytes, lone surrogates, dates that overflow. The fuzzer found 500s at
`/internal/quotes`, `/internal/quotes:batch`, `/internal/stored-value/holds` and `GET /internal/accounts/{id}`.
A bad quote in a batch is answered on its own; the quotes gathered with it are still priced (L-06)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from devstack.testing import Stack, StackConfig
from vipcore.auth import Principal, Role, TokenIssuer

HUGE = 2**70
LINE = {"line_no": 1, "sku": "R-1", "qty": 1, "unit_price": 98800}
GOOD = {"store_id": "IN-1", "lines": [LINE]}
PROBLEM = "application/problem+json"


def field_error(r: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    """The response is a problem of `status` whose errors name `field` (and a rule); that error."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM, r.headers["content-type"]
    errors = r.json()["errors"]
    hit = [e for e in errors if e["field"] == field]
    assert hit, errors
    assert hit[0]["rule"], hit[0]
    return dict(hit[0])


@pytest.fixture
async def loyalty(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("loyalty",)) as stack:
        async with httpx.AsyncClient(base_url=stack.url("loyalty"), auth=stack.cfg.admin_auth()) as c:
            c.headers["X-Staff"] = TokenIssuer(stack.cfg.staff_keys[0]).issue(
                Principal("H-1", None, None, Role.HQ_ADMIN))
            yield c


def staff(c: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.headers['X-Staff']}"}


async def test_quotes_refuse_huge_integers_nul_and_surrogates_with_the_field(loyalty: httpx.AsyncClient) -> None:
    c = loyalty
    field_error(await c.post("/internal/quotes", json={**GOOD, "lines": [{**LINE, "unit_price": HUGE}]}),
                "lines.0.unit_price")
    field_error(await c.post("/internal/quotes", json={**GOOD, "lines": [{**LINE, "line_no": HUGE}]}),
                "lines.0.line_no")
    field_error(await c.post("/internal/quotes", json={**GOOD, "member_id": "m\x00"}), "member_id")
    field_error(await c.post("/internal/quotes", content=b'{"store_id": "\\ud800", "lines": []}',
                             headers={"Content-Type": "application/json"}), "store_id")
    field_error(await c.post("/internal/quotes", json={**GOOD, "store_id": ""}), "store_id")
    field_error(await c.post("/internal/quotes", json={**GOOD, "lines": [{**LINE, "qty": "1"}]}), "lines.0.qty")
    field_error(await c.post("/internal/quotes", json={**GOOD, "extra": 1}), "extra")
    # every line in bounds, the basket not: its total would not fit an answer or a BIGINT
    big = [{**LINE, "line_no": i, "unit_price": 10**12, "qty": 1_000_000} for i in range(3)]
    e = field_error(await c.post("/internal/quotes", json={**GOOD, "lines": big}), "lines")
    assert e["rule"] == "less_than_equal"
    r = await c.post("/internal/quotes", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    r = await c.post("/internal/quotes", json=GOOD)
    assert r.status_code == 200 and r.json()["total"] == 98800 and r.json()["tier"] is None


async def test_l06_a_bad_quote_in_a_batch_fails_only_itself(loyalty: httpx.AsyncClient) -> None:
    c = loyalty
    big = [{**LINE, "line_no": i, "unit_price": 10**12, "qty": 1_000_000} for i in range(3)]
    quotes = [GOOD, {**GOOD, "lines": [{**LINE, "unit_price": HUGE}]}, {**GOOD, "member_id": "m\x00"},
              {**GOOD, "lines": big}, {**GOOD, "member_id": f"m-{uuid.uuid4()}"}]
    r = await c.post("/internal/quotes:batch", json={"quotes": quotes})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert len(res) == 5
    assert res[0]["total"] == 98800 and "status" not in res[0]
    assert res[4]["total"] == 98800 and res[4]["tier"] is not None  # a member unknown yet: the entry tier
    for bad, field in ((res[1], "lines.0.unit_price"), (res[2], "member_id"), (res[3], "lines")):
        assert bad["status"] == 422 and bad["errors"][0]["field"] == field and bad["errors"][0]["rule"], bad
    surrogate = b'{"quotes": [{"store_id": "IN-1", "lines": [{"line_no": 1, "unit_price": 1}]},' \
                b' {"store_id": "\\ud800", "lines": [{"line_no": 1, "unit_price": 1}]}]}'
    r = await c.post("/internal/quotes:batch", content=surrogate, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["total"] == 1 and r.json()["results"][1]["errors"][0]["field"] == "store_id"
    # the batch's own shape is still the caller's fault as a whole
    field_error(await c.post("/internal/quotes:batch", json={"quotes": []}), "quotes")
    field_error(await c.post("/internal/quotes:batch", json={"quotes": [GOOD], "x": 1}), "x")
    r = await c.post("/internal/quotes:batch", json={"quotes": [GOOD, GOOD]})
    assert r.status_code == 200 and [q["total"] for q in r.json()["results"]] == [98800, 98800]


async def test_accounts_holds_and_redemptions_refuse_bad_ids_and_amounts(loyalty: httpx.AsyncClient) -> None:
    c = loyalty
    field_error(await c.get("/internal/accounts/m%00", params={"store_id": "IN-1"}), "member_id")
    field_error(await c.get("/internal/accounts/m-1", params={"store_id": ""}), "store_id")
    field_error(await c.get("/internal/accounts/m-1", params={"store_id": "a" * 65}), "store_id")
    r = await c.get("/internal/accounts/m-1", params={"store_id": "IN-1"})
    assert r.status_code == 200 and r.json()["points_balance"] == 0
    hold = {"store_id": "IN-1", "receipt_no": "R-1", "member_id": "m-1", "amount": 100}
    field_error(await c.post("/internal/stored-value/holds", json={**hold, "amount": HUGE}), "amount")
    field_error(await c.post("/internal/stored-value/holds", json={**hold, "amount": 2**63}), "amount")
    field_error(await c.post("/internal/stored-value/holds", json={**hold, "receipt_no": "R\x00"}), "receipt_no")
    field_error(await c.post("/internal/stored-value/holds", json={**hold, "member_id": ""}), "member_id")
    e = field_error(await c.post("/internal/stored-value/holds", json=hold), "proof")
    assert e["rule"] == "L-11"  # well-formed, but no member-present proof signed by members
    red = {"store_id": "IN-1", "member_id": "m-1", "points_to_cash": HUGE}
    field_error(await c.post("/internal/redemptions", json=red), "points_to_cash")
    field_error(await c.post("/internal/redemptions", json={**red, "points_to_cash": 100, "reward_id": "\x00"}),
                "reward_id")


async def test_reports_jobs_and_staff_routes_refuse_bad_dates_zones_and_text(loyalty: httpx.AsyncClient) -> None:
    c = loyalty
    field_error(await c.get("/v1/reports/movements", params={"since": "9999-12-31", "until": "9999-12-31"}),
                "since")
    field_error(await c.get("/v1/reports/movements", params={"since": "2026-13-01", "until": "2026-12-01"}),
                "since")
    e = field_error(await c.get("/v1/reports/movements", params={"since": "2026-11-02", "until": "2026-11-01"}),
                    "until")
    assert e["rule"] == "R-03"
    field_error(await c.get("/v1/reports/stored-value", params={"since": "0001-01-01", "until": "2026-11-01"}),
                "since")
    field_error(await c.get("/v1/reports/liability", params={"format": "xml"}), "format")
    r = await c.get("/v1/reports/liability", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    field_error(await c.post("/admin/jobs/expiry", params={"on": "9999-12-31"}), "on")
    field_error(await c.post("/admin/jobs/birthday", params={"on": "2026-11-01", "tz": "Mars/Olympus"}), "tz")
    field_error(await c.post("/admin/jobs/birthday", params={"on": "2026-11-01", "tz": "../../etc/passwd"}), "tz")
    field_error(await c.post("/admin/jobs/nope", params={"on": "2026-11-01"}), "job", status=404)
    field_error(await c.get("/v1/members/m-1/ledger", params={"limit": 1001}), "limit")
    field_error(await c.get("/v1/members/m-1/stored-value-ledger", params={"limit": HUGE}), "limit")
    assert (await c.get("/v1/members/m-1/ledger")).json() == {"member_id": "m-1", "entries": []}

    adj = {"member_id": "m-1", "program": "generic", "points": 10, "reason": "back-filled receipt"}
    field_error(await c.post("/v1/adjustments", json={**adj, "points": HUGE}, headers=staff(c)), "points")
    field_error(await c.post("/v1/adjustments", json={**adj, "reason": "bad\x00reason"}, headers=staff(c)), "reason")
    e = field_error(await c.post("/v1/adjustments", json={**adj, "points": 0}, headers=staff(c)), "points")
    assert e["rule"] == "L-02"
    field_error(await c.post(f"/v1/adjustments/{uuid.uuid4()}/approve", headers=staff(c)), "adjustment_id",
                status=404)
    top = {"member_id": "m-1", "store_id": "IN-1", "pay": HUGE}
    field_error(await c.post("/v1/stored-value/topups", json=top, headers=staff(c)), "pay")
    field_error(await c.get("/v1/stored-value/m-1?store_id=%ED%A0%80", headers=staff(c)), "store_id")
