"""The POS API's edge without a server: inputs a fuzzer found answered 500 are 422 problem details naming the field;
an upload of receipts answers each on its own (207); a bad quote never fails the quotes gathered with it (L-06)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway.entrypoints import credit, http, redemptions
from gateway.entrypoints.limits import PosLimits
from gateway.entrypoints.schemas import SaleIn
from gateway.service.checkout import Checkout
from gateway.service.quotes import QuoteBatcher
from gateway.service.sales import Outcome
from vipcore.errors import RuleViolation
from vipcore.http import install_problem_handlers
from vipcore.httpclient import Reply

STORE = "XA-001"
NOW = datetime.now(UTC).replace(microsecond=0)


def sale(receipt: str, paid: int = 1000, **over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "store_id": STORE, "terminal_id": "T1", "receipt_no": receipt, "occurred_at": NOW.isoformat(),
        "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": paid, "paid": paid}],
        "payments": [{"method": "cash", "amount": paid}]}
    b.update(over)
    return b


def coupon_sale(receipt: str, nos: list[str], paid: int = 1000) -> dict[str, Any]:
    return sale(receipt, paid, payments=[{"method": "coupon", "amount": paid, "coupon_numbers": nos}])


class Keys:
    async def store_of(self, key: str) -> str | None:
        return STORE if key == "good" else None


class Desk:
    """Records in memory; a sale named BOOM makes the whole transaction fail (as a database error would)."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    async def record(self, batch: list[SaleIn], traces: Any = None) -> list[Outcome]:
        if any(s.receipt_no == "BOOM" for s in batch):
            raise RuntimeError("the database refused the transaction")
        self.recorded += [s.receipt_no for s in batch]
        return [Outcome(201, {"sale_id": f"id-{s.receipt_no}", "member_id": None, "status": "accepted"})
                for s in batch]


class Coupons:
    """C-09: spends each coupon once; `SPENT` is already spent."""

    def __init__(self) -> None:
        self.spent: list[str] = []

    async def spend(self, s: SaleIn) -> None:
        nos = [n for p in s.payments for n in p.coupon_numbers or ()]
        if "SPENT" in nos:
            raise RuleViolation("C-09", "payments.coupon_numbers", "SPENT: already spent")
        self.spent += nos


def app(checkout: Checkout | None = None) -> FastAPI:
    a = FastAPI()
    install_problem_handlers(a)
    keys: Any = Keys()
    limits = PosLimits.defaults()
    a.include_router(http.pos_router(checkout or Checkout(Desk()), Desk(), keys, None, None,  # type: ignore[arg-type]
                                     limits))
    a.include_router(credit.credit_router(keys, None, limits))  # type: ignore[arg-type]
    a.include_router(redemptions.redemptions_router(keys, None, limits))  # type: ignore[arg-type]
    return a


def client(a: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=a, raise_app_exceptions=False),
                             base_url="http://gw", headers={"Authorization": "Bearer good"})


def fields(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in r.json()["errors"]}


async def test_m18_lookup_with_an_empty_card_is_422_naming_card_no() -> None:
    async with client(app()) as c:
        assert fields(await c.get("/v1/members/lookup", params={"card_no": ""})) == {"card_no"}
        assert fields(await c.get("/v1/members/lookup", params={"mobile": "02988888888"})) == {"mobile"}


async def test_quotes_and_refunds_with_integers_beyond_64_bits_are_422() -> None:
    huge = 2**70
    async with client(app()) as c:
        r = await c.post("/v1/quotes", json={"store_id": STORE, "lines": [
            {"line_no": 1, "sku": "A", "qty": huge, "unit_price": huge}]})
        assert fields(r) == {"lines.0.qty", "lines.0.unit_price"}
        r = await c.post("/v1/refunds", json={"store_id": STORE, "receipt_no": "RF", "original_receipt_no": "R1",
                                              "occurred_at": NOW.isoformat(),
                                              "lines": [{"line_no": huge, "qty": 1, "paid": huge}]})
        assert fields(r) == {"lines.0.line_no", "lines.0.paid"}


@pytest.mark.parametrize("bad", ["A\x00B", "\ud800"])
async def test_credit_calls_with_nul_or_lone_surrogates_are_422(bad: str) -> None:
    raw = '{"store_id": "XA-001", "customer_id": BAD, "cases": 1, "amount": 100, "responsible_staff_id": "S-1"}'
    esc = '"A\\u0000B"' if bad == "A\x00B" else '"\\ud800"'
    async with client(app()) as c:
        r = await c.post("/v1/credit/authorizations", content=raw.replace("BAD", esc),
                         headers={"content-type": "application/json"})
        assert fields(r) == {"customer_id"}
        r = await c.post("/v1/credit/coupon-redemptions", headers={"content-type": "application/json"},
                         content='{"store_id": "XA-001", "receipt_no": "R1", "coupon_nos": [BAD]}'.replace("BAD", esc))
        assert fields(r) == {"coupon_nos.0"}


async def test_m18_redemption_with_an_empty_card_and_a_mobile_is_422() -> None:
    async with client(app()) as c:
        r = await c.post("/v1/redemptions", json={"store_id": STORE, "member": {"card_no": "", "mobile": "13800138000"},
                                                  "points_to_cash": 100})
        assert fields(r) == {"member.card_no"}


async def test_sales_a_consumer_could_not_store_are_refused_at_the_edge() -> None:
    """Amounts above BIGINT, NUL in ids, times that overflow in UTC: 422 before anything is recorded."""
    desk = Desk()
    async with client(app(Checkout(desk))) as c:
        r = await c.post("/v1/sales", json=sale("R1", 2**63))
        assert fields(r) == {"lines.0.unit_price", "lines.0.paid", "payments.0.amount"}
        assert fields(await c.post("/v1/sales", json=sale("R\x002"))) == {"receipt_no"}
        assert fields(await c.post("/v1/sales", json=sale("R3", cashier_staff_id="S\x001"))) == {"cashier_staff_id"}
        r = await c.post("/v1/sales", json=sale("R4", occurred_at="9999-12-31T23:59:59-23:59"))
        assert fields(r) == {"occurred_at"}
        r = await c.post("/v1/sales", json=sale("R5", occurred_at=(NOW - timedelta(days=3650)).isoformat()))
        assert fields(r) == {"occurred_at"}
    assert desk.recorded == []


async def test_batch_answers_207_each_receipt_on_its_own_and_a_bad_one_spends_nothing() -> None:
    desk, coupons = Desk(), Coupons()
    checkout = Checkout(desk, coupons=coupons)  # type: ignore[arg-type]
    malformed = coupon_sale("B2", ["C-2"])
    malformed["lines"][0]["qty"] = 0
    async with client(app(checkout)) as c:
        r = await c.post("/v1/sales:batch", json={"sales": [
            coupon_sale("B1", ["C-1"]),        # recorded
            malformed,                          # 422: its coupon C-2 is never spent
            coupon_sale("B3", ["SPENT"]),       # 422 C-09 from credit
            sale("B4", 2**64),                  # 422: beyond BIGINT, its own entry
            "not a sale",                       # 422 without a receipt number
            {**sale("B5"), "store_id": "XA-999"},  # 403 (O-02)
            sale("B6"),                         # recorded
        ]})
    assert r.status_code == 207, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == [201, 422, 422, 422, 422, 403, 201]
    assert [x["receipt_no"] for x in res] == ["B1", "B2", "B3", "B4", None, "B5", "B6"]
    assert res[1]["errors"][0]["field"] == "lines.0.qty"
    assert res[2]["errors"] == [{"field": "payments.coupon_numbers", "rule": "C-09", "message": "SPENT: already spent"}]
    assert res[0]["sale_id"] == "id-B1" and "errors" not in res[0]
    assert coupons.spent == ["C-1"]
    assert desk.recorded == ["B1", "B6"]


async def test_batch_the_same_receipt_twice_is_paid_once() -> None:
    """A receipt repeated in one upload (or repeated with another body) spends its coupons once; the desk answers the
    repeat (200 or 409)."""
    desk, coupons = Desk(), Coupons()
    async with client(app(Checkout(desk, coupons=coupons))) as c:  # type: ignore[arg-type]
        r = await c.post("/v1/sales:batch", json={"sales": [coupon_sale("B1", ["C-1"]), coupon_sale("B1", ["C-1"]),
                                                             coupon_sale("B1", ["C-9"])]})
    assert r.status_code == 207
    assert coupons.spent == ["C-1"]


async def test_batch_a_receipt_the_database_refuses_fails_alone() -> None:
    desk = Desk()
    async with client(app(Checkout(desk))) as c:
        r = await c.post("/v1/sales:batch", json={"sales": [sale("B1"), sale("BOOM"), sale("B3")]})
    assert r.status_code == 207
    assert [x["status"] for x in r.json()["results"]] == [201, 503, 201]
    assert desk.recorded == ["B1", "B3"]


async def test_batch_size_is_still_checked_on_the_request() -> None:
    async with client(app()) as c:
        r = await c.post("/v1/sales:batch", json={"sales": [sale(f"B{i}") for i in range(501)]})
        assert fields(r) == {"sales"}
        assert fields(await c.post("/v1/sales:batch", json={"sales": []})) == {"sales"}


class Loyalty:
    """Loyalty refusing a whole shared call when one of its quotes is bad, as it does today."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def post(self, path: str, body: dict[str, Any], links: Any = None) -> Reply:
        self.calls.append(path)
        quotes = body["quotes"] if path.endswith(":batch") else [body]
        if any(q["store_id"] == "BAD" for q in quotes):
            return Reply(422, {"title": "Invalid request", "status": 422,
                               "errors": [{"field": "store_id", "rule": None, "message": "unknown store"}]})
        priced = [{"total": q["lines"][0]["unit_price"], "store": q["store_id"]} for q in quotes]
        return Reply(200, {"results": priced} if path.endswith(":batch") else priced[0])


async def test_l06_a_bad_quote_never_fails_the_quotes_gathered_with_it() -> None:
    loyalty = Loyalty()
    batcher = QuoteBatcher(loyalty)  # type: ignore[arg-type]
    replies = await asyncio.gather(*(batcher.price({"store_id": s, "lines": [{"unit_price": p}]})
                                     for s, p in (("S-1", 100), ("BAD", 200), ("S-3", 300))))
    assert loyalty.calls[0] == "/internal/quotes:batch"  # they were gathered into one call
    assert [r.status for r in replies] == [200, 422, 200]
    assert replies[0].body == {"total": 100, "store": "S-1"} and replies[2].body == {"total": 300, "store": "S-3"}
    assert replies[1].body["errors"][0]["field"] == "store_id"


async def test_l06_gathered_quotes_share_one_call_when_all_are_good() -> None:
    loyalty = Loyalty()
    batcher = QuoteBatcher(loyalty)  # type: ignore[arg-type]
    replies = await asyncio.gather(*(batcher.price({"store_id": f"S-{i}", "lines": [{"unit_price": i}]})
                                     for i in range(3)))
    assert loyalty.calls == ["/internal/quotes:batch"]
    assert [r.body["total"] for r in replies] == [0, 1, 2]
