"""The credit screens' gaps (issue 12): every credit form and tab is shown to exactly the roles credit's own routes
let act or read (checked against the roles each credit route requires, O-02); plain staff get the actions credit
lets them take (C-06: whoever operated the bill applies, never decides); the rebate tiers' versions with finance's
form (C-08: yuan and percent sent as fen and basis points, no operator); the coupon conflicts (C-09) and the
refused credit sales (C-04) as lists paged and filtered by credit. Against a fake credit."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from console.adapters.upstream import Refusal, Upstream
from console.domain.credit import NAV, TABS, tiers_from_form
from console.domain.screens import SCREENS
from console.entrypoints import credit_http
from console.entrypoints.http import Pages
from console.service.credit import CreditDesk
from console.service.desk import Desk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import Role, TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
CSRF = "form-token-of-this-browser"
NOW = "2026-12-02T08:00:00+08:00"

# what the console sends to credit for each of its forms, and the screen (domain/screens.py) that shows the form
FORMS: dict[tuple[str, str], str] = {
    ("POST", "/v1/accounts/{customer_id}/raises"): "credit.act",
    ("POST", "/v1/accounts/{customer_id}/payments"): "credit.act",
    ("POST", "/v1/receivables/{receivable_id}/extensions"): "credit.act",
    ("POST", "/v1/receivables/{receivable_id}/writeoffs"): "credit.act",
    ("POST", "/v1/coupon-sales"): "credit.act",
    ("POST", "/v1/rebate-slips/{slip_no}/collection"): "credit.act",
    ("POST", "/v1/raises/{raise_id}/decision"): "credit.decide",
    ("POST", "/v1/extensions/{extension_id}/decision"): "credit.decide",
    ("POST", "/v1/writeoffs/{writeoff_id}/decision"): "credit.decide",
    ("POST", "/v1/rebates/{rebate_id}/decision"): "credit.decide",
    ("POST", "/v1/accounts/{customer_id}/suspension"): "credit.decide",
    ("DELETE", "/v1/accounts/{customer_id}/suspension"): "credit.decide",
    ("POST", "/v1/payments/{payment_id}/clearing"): "credit.decide",
    ("POST", "/v1/payments/{payment_id}/bounce"): "credit.decide",
    ("POST", "/v1/coupon-sales/{coupon_sale_id}/clearing"): "credit.decide",
    ("POST", "/v1/coupon-sales/{coupon_sale_id}/bounce"): "credit.decide",
    ("POST", "/v1/rebate-runs"): "credit.request",
    ("POST", "/v1/coupon-batches"): "credit.finance",
    ("PUT", "/v1/rebate-tiers"): "credit.finance",
    ("POST", "/v1/reconciliation-closes"): "credit.finance",
    ("GET", "/v1/accounts/{customer_id}"): "credit",
    ("GET", "/v1/accounts/{customer_id}/raises"): "credit",
    ("GET", "/v1/staff/{staff_id}/liabilities"): "credit",
    ("GET", "/v1/reports/coupon-tally"): "credit.lists",
    ("GET", "/v1/reports/coupon-reconciliation"): "credit.lists",
    ("GET", "/v1/reports/aging"): "aging",
}
NAV_PATHS = {"staff": "/v1/staff/{staff_id}/liabilities", "tally": "/v1/reports/coupon-tally",
             "reconciliation": "/v1/reports/coupon-reconciliation"}


def credit_route_roles() -> dict[tuple[str, str], frozenset[Role]]:
    """The roles each of credit's staff routes requires (vipcore.auth.require), read from credit's own routers."""
    from credit.entrypoints import coupons_http, desk_http, http

    def required(dep: Any) -> Iterator[frozenset[Role]]:
        for sub in dep.dependencies:
            if getattr(sub.call, "__qualname__", "").startswith("require."):
                cells = dict(zip(sub.call.__code__.co_freevars, (c.cell_contents for c in sub.call.__closure__),
                                 strict=True))
                yield frozenset(cells["allowed"])
            yield from required(sub)

    v, out = TokenVerifier(None), {}
    for router in (http.staff_router(None, v), coupons_http.coupons_router(None, v),  # type: ignore[arg-type]
                   desk_http.desk_router(None, v)):  # type: ignore[arg-type]
        for route in router.routes:
            (roles,) = required(route.dependant)  # type: ignore[attr-defined]
            for method in route.methods:  # type: ignore[attr-defined]
                out[(method, route.path)] = roles  # type: ignore[attr-defined]
    return out


def test_o02_every_credit_form_and_tab_is_shown_to_exactly_the_roles_credit_lets_act_or_read() -> None:
    roles = credit_route_roles()
    for (method, path), screen in FORMS.items():
        assert SCREENS[screen] == roles[(method, path)], (method, path, screen)
    for tab, screen in NAV:
        path = TABS[tab].path if tab in TABS else NAV_PATHS[tab]
        assert SCREENS[screen] == roles[("GET", path)], (tab, screen)
    assert {tab for tab, _ in NAV} == {*TABS, *NAV_PATHS}  # every tab is in the navigation
    # what staff may do at credit, they find in the console (C-06: whoever operated the bill)
    staff_may = {k for k, r in roles.items() if Role.STAFF in r}
    assert {("POST", "/v1/accounts/{customer_id}/raises"), ("POST", "/v1/accounts/{customer_id}/payments"),
            ("POST", "/v1/receivables/{receivable_id}/extensions"), ("POST", "/v1/coupon-sales"),
            ("POST", "/v1/receivables/{receivable_id}/writeoffs"),
            ("POST", "/v1/rebate-slips/{slip_no}/collection")} <= staff_may


def test_c08_tiers_typed_in_yuan_and_percent() -> None:
    assert tiers_from_form({"floor_1": "10000", "rate_1": "1.5", "floor_2": "", "rate_2": "",
                            "floor_3": "50000", "rate_3": "3%"}) == [
        {"min_purchases": 1_000_000, "rate_bp": 150}, {"min_purchases": 5_000_000, "rate_bp": 300}]
    for bad in ({"floor_1": "10000", "rate_1": ""}, {"floor_1": "", "rate_1": "2"},
                {"floor_1": "10000", "rate_1": "1.234"}, {"floor_1": "1万", "rate_1": "1"}):
        with pytest.raises(Refusal) as e:
            tiers_from_form(bad)
        assert e.value.errors[0]["rule"] == "C-08"


def token(staff_id: str, role: str, store: str | None = "XA-1") -> str:
    return jwt.encode({"sub": staff_id, "role": role, "store": store, "exp": int(time.time()) + 600}, "k" * 32,
                      algorithm="HS256")


ACCOUNT = {"customer_id": "ORG-1", "name": "西安市高新区管委会", "customer_class": "government",
           "contact_mobile": "139****5678", "store_id": "XA-1", "responsible_staff_id": "S-OP1",
           "line_leader_staff_id": "S-LEAD", "limit_cases": 10, "limit_amount": 10_000_000, "created_by": "S-HQ",
           "member_id": None, "suspended": False, "suspended_reason": None, "overdue": False, "created_at": NOW,
           "effective_limit_cases": 10, "effective_limit_amount": 10_000_000, "outstanding_cases": 2,
           "outstanding_amount": 90_000, "available_cases": 8, "available_amount": 9_910_000}
RAISE = {"raise_id": "RAI-1", "customer_id": "ORG-1", "extra_cases": 2, "extra_amount": 0, "reason": "春节备货",
         "application_ref": "APP-7", "expires_at": NOW, "status": "pending", "requested_by": "S-OP1",
         "decided_by": None, "created_at": NOW}
REC = {"receivable_id": "REC-1", "customer_id": "ORG-1", "sale_id": "S1", "store_id": "XA-1", "receipt_no": "R-1",
       "amount": 90_000, "authorization_id": "A-1", "delivered_at": NOW, "created_at": NOW, "cases": 2, "paid": 0,
       "refunded": 0, "written_off": 0, "due_date": "2026-11-10", "responsible_staff_id": "S-OP1",
       "line_leader_staff_id": "S-LEAD", "region_code": "029", "last_reminded_on": None, "outstanding": 90_000}
PAY = {"payment_id": "PAY-1", "customer_id": "ORG-1", "name": "西安市高新区管委会", "store_id": "XA-1",
       "method": "cheque", "amount": 1000, "reference": None, "status": "pending", "received_on": "2026-12-01",
       "clears_on": "2026-12-04", "allocated": {"REC-1": 1000}, "recorded_by": "S-OP1", "created_at": NOW,
       "settled_by": None, "settled_at": None}
REBATE = {"rebate_id": "RB-1", "customer_id": "ORG-1", "name": "西安市高新区管委会", "store_id": "XA-1",
          "period": "2026-11-01/2026-11-30", "purchases": 7_000_000, "rate_bp": 300, "amount": 210_000,
          "status": "approved", "slip_no": "SLIP-000001", "requested_by": "S-CSM", "decided_by": "S-GM",
          "collected_by": None, "collected_at": None, "coupon_nos": None, "collection_recorded_by": None,
          "tier_version": 1}
V1 = {"version": 1, "effective_from": "2026-11-01", "tiers": [{"min_purchases": 1_000_000, "rate_bp": 100}],
      "set_by": "S-FIN", "set_at": NOW, "in_force": True}
V2 = {"version": 2, "effective_from": "2027-01-01", "tiers": [{"min_purchases": 5_000_000, "rate_bp": 500}],
      "set_by": "S-FIN2", "set_at": NOW, "in_force": False}
CONFLICT = {"sale_id": "SALE-9", "coupon_no": "GB-1", "store_id": "XA-1", "receipt_no": "R-9",
            "reason": "no such coupon", "at": NOW}
REFUSED = {"sale_id": "SALE-8", "customer_id": "ORG-1", "authorization_id": "", "store_id": "XA-1",
           "receipt_no": "R-8", "amount": 1000, "rule": "C-04", "reason": "no such authorisation", "at": NOW}


class FakeCredit:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if request.method != "GET":
            return httpx.Response(201, json={"ok": True})
        page = int(request.url.params.get("page", "1"))
        lists: dict[str, tuple[str, list[dict[str, Any]]]] = {
            "/v1/accounts": ("accounts", [ACCOUNT]), "/v1/receivables": ("receivables", [REC]),
            "/v1/payments": ("payments", [PAY]), "/v1/authorizations": ("authorizations", []),
            "/v1/rebates": ("rebates", [REBATE]), "/v1/coupon-sales": ("sales", []),
            "/v1/rebate-tiers": ("versions", [V2, V1]), "/v1/reports/coupon-conflicts": ("conflicts", [CONFLICT]),
            "/v1/credit-refusals": ("refusals", [REFUSED])}
        if path in lists:
            key, rows = lists[path]
            extra = {"in_force": 1} if key == "versions" else {}
            return httpx.Response(200, json={key: rows, "page": page, "has_more": page == 1, **extra})
        if path == "/v1/accounts/ORG-1":
            return httpx.Response(200, json=ACCOUNT)
        if path == "/v1/reports/coupon-tally":
            return httpx.Response(200, json={"date": "2026-12-02", "from": NOW, "to": NOW, "sales": [],
                                             "coupons_sold": 0, "amount": 0, "by_method": {}, "coupons_redeemed": 0,
                                             "redeemed_amount": 0})
        if path == "/v1/accounts/ORG-1/raises":
            return httpx.Response(200, json={"customer_id": "ORG-1", "raises": [RAISE]})
        if path.startswith("/v1/staff/"):
            return httpx.Response(200, json={"staff_id": path.split("/")[3], "total": 0, "entries": []})
        return httpx.Response(404, json={"title": "Not Found"})


@pytest.fixture
def fake() -> FakeCredit:
    return FakeCredit()


@pytest.fixture
async def client(fake: FakeCredit) -> AsyncIterator[httpx.AsyncClient]:
    up = Upstream({"credit": "http://credit", "members": "http://members"}, transport=httpx.MockTransport(fake))
    app = FastAPI()
    pages = Pages(Desk(up, TokenVerifier(None)), Jinja2Templates(directory=TEMPLATES))
    app.include_router(credit_http.router(CreditDesk(up), pages, 20))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)
        yield c


async def test_c06_o02_staff_get_the_forms_credit_lets_them_use_and_only_the_tabs_they_may_read(
        client: httpx.AsyncClient, fake: FakeCredit) -> None:
    client.cookies.set("console_session", token("S-OP1", "staff"))
    r = await client.get("/credit/accounts/ORG-1")
    assert r.status_code == 200, r.text
    for form in ("data-raise-form", "data-payment-form", "data-extension-form", "data-writeoff-form"):
        assert form in r.text, form
    for form in ('data-decide="', "data-suspension", "data-cheque"):
        assert form not in r.text, form
    tabs = {t for t, _ in NAV}
    for tab in ("accounts", "authorizations", "receivables", "payments", "staff", "rebates", "coupon_sales"):
        assert f'data-tab="{tab}"' in r.text, tab
    for tab in tabs - {"accounts", "authorizations", "receivables", "payments", "staff", "rebates", "coupon_sales"}:
        assert f'data-tab="{tab}"' not in r.text, tab
    assert 'data-tab="aging"' not in r.text  # credit refuses staff the aging
    r = await client.get("/credit/coupon_sales")
    assert "data-sell" in r.text and fake.seen[-1].url.path == "/v1/coupon-sales"
    r = await client.get("/credit/rebates")
    assert "data-collect" in r.text and "data-rebate-run" not in r.text and 'data-decide="' not in r.text
    # their own liability statement, unasked (C-06)
    await client.get("/credit/staff")
    assert fake.seen[-1].url.path == "/v1/staff/S-OP1/liabilities"
    # an application lands where staff may look: the receivables (they may not read the extensions list)
    r = await client.post("/credit/receivables/REC-1/extensions", data={
        "csrf": CSRF, "new_due_date": "2027-01-31", "reason": "节后付款", "requested_by": "S-BOSS"})
    assert r.status_code == 303 and r.headers["location"] == "/credit/receivables?done=extension_requested"
    assert json.loads(fake.seen[-1].content) == {"new_due_date": "2027-01-31", "reason": "节后付款"}  # no operator
    client.cookies.set("console_session", token("S-CSM", "store_cs_manager"))
    r = await client.post("/credit/receivables/REC-1/writeoffs", data={"csrf": CSRF, "reason": "注销"})
    assert r.headers["location"] == "/credit/writeoffs?done=writeoff_requested"  # office reads the list


async def test_c08_rebate_tier_versions_and_finances_new_version(client: httpx.AsyncClient,
                                                                  fake: FakeCredit) -> None:
    client.cookies.set("console_session", token("S-FIN", "hq_admin", None))
    r = await client.get("/credit/tiers", params={"page": 2})
    assert r.status_code == 200, r.text
    asked = fake.seen[-1]
    assert (asked.url.path, dict(asked.url.params)) == ("/v1/rebate-tiers", {"page": "2", "limit": "20"})
    assert 'data-tier-version="2"' in r.text and 'data-tier-version="1" data-in-force' in r.text
    assert "S-FIN2" in r.text and "data-tiers-form" in r.text and "data-prev" in r.text
    assert 'name="floor_1" inputmode="decimal" maxlength="16" value="10000.00"' in r.text  # today's tiers offered
    r = await client.post("/credit/rebate-tiers", data={
        "csrf": CSRF, "effective_from": "2027-01-01", "floor_1": "10000", "rate_1": "1.5", "floor_2": "50000",
        "rate_2": "3", "set_by": "S-SOMEONE"})
    assert r.status_code == 303 and r.headers["location"] == "/credit/tiers?done=tiers_set"
    sent = fake.seen[-1]
    assert (sent.method, sent.url.path) == ("PUT", "/v1/rebate-tiers")
    assert json.loads(sent.content) == {"effective_from": "2027-01-01", "tiers": [
        {"min_purchases": 1_000_000, "rate_bp": 150}, {"min_purchases": 5_000_000, "rate_bp": 300}]}
    await client.post("/credit/rebate-tiers", data={"csrf": CSRF, "effective_from": "", "floor_1": "1", "rate_1": "1"})
    assert json.loads(fake.seen[-1].content) == {"tiers": [{"min_purchases": 100, "rate_bp": 100}]}  # credit's today
    n = len(fake.seen)
    bad = await client.post("/credit/rebate-tiers", data={"csrf": CSRF, "effective_from": "2027-01-01",
                                                          "floor_1": "10000", "rate_1": "x"})
    assert bad.status_code == 422 and "rate_1" in bad.text and "C-08" in bad.text and len(fake.seen) == n
    client.cookies.set("console_session", token("S-GM", "store_manager"))
    r = await client.get("/credit/tiers")
    assert 'data-tier-version="1"' in r.text and "data-tiers-form" not in r.text  # reads, finance sets


async def test_c04_c09_conflicts_and_refused_credit_sales_are_one_filtered_page_of_credit(
        client: httpx.AsyncClient, fake: FakeCredit) -> None:
    client.cookies.set("console_session", token("S-GM", "store_manager"))
    r = await client.get("/credit/conflicts", params={"store_id": "XA-1", "receipt_no": "R-9", "customer_id": "x"})
    assert r.status_code == 200, r.text
    assert (fake.seen[-1].url.path, dict(fake.seen[-1].url.params)) == (
        "/v1/reports/coupon-conflicts", {"store_id": "XA-1", "receipt_no": "R-9", "page": "1", "limit": "20"})
    assert 'data-conflict="SALE-9"' in r.text and "data-next" in r.text and "receipt_no=R-9&amp;" in r.text
    r = await client.get("/credit/refusals", params={"customer_id": "ORG-1", "page": 2})
    assert (fake.seen[-1].url.path, dict(fake.seen[-1].url.params)) == (
        "/v1/credit-refusals", {"customer_id": "ORG-1", "page": "2", "limit": "20"})
    assert 'data-refusal-row="SALE-8"' in r.text and "C-04" in r.text and "data-prev" in r.text
    n = len(fake.seen)
    r = await client.get("/credit/tally", params={"date": "2026-12-02"})
    assert [q.url.path for q in fake.seen[n:]] == ["/v1/reports/coupon-tally"]  # conflicts: their own tab
    assert r.status_code == 200 and "data-to-conflicts" in r.text
