"""The credit screens (issue 12, C-01..C-09) against a fake credit: which roles see which screen and form (O-02,
mirroring credit's role matrix), what each list asks credit (filters, page), what each action sends (money in
fen, no operator of the console's: credit takes it from the token), and refusals shown as pages, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from console.adapters.upstream import Refusal, Upstream
from console.domain.credit import coupon_numbers, to_fen
from console.domain.screens import SCREENS, menu
from console.entrypoints import credit_http
from console.entrypoints.credit_http import back_to
from console.entrypoints.http import Pages
from console.service.credit import CreditDesk
from console.service.desk import Desk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import Role, TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
CSRF = "form-token-of-this-browser"
NOW = "2026-12-02T08:00:00+08:00"


def test_o02_credit_screens_mirror_credits_role_matrix() -> None:
    from credit.entrypoints.http import APPROVERS, OFFICE, READERS, STAFF

    assert SCREENS["credit"] == frozenset({*READERS, Role.STAFF})  # desk_http.py Reader
    assert SCREENS["credit.lists"] == frozenset(READERS)  # desk_http.py Office, the reports
    assert SCREENS["credit.act"] == frozenset(STAFF)  # raises, payments, extensions, write-offs, coupon sales
    assert SCREENS["credit.request"] == frozenset(OFFICE)
    assert SCREENS["credit.decide"] == frozenset(APPROVERS)
    assert SCREENS["credit.finance"] == frozenset({Role.HQ_ADMIN})  # coupons_http.py Finance
    for role in (Role.HQ_ADMIN, Role.HQ_CS, Role.STORE_MANAGER, Role.STORE_CS_MANAGER, Role.AUDITOR, Role.STAFF):
        assert "credit" in menu(role), role
    assert "credit" not in menu(Role.POS)


def test_money_in_yuan_and_coupon_numbers_typed_in_a_box() -> None:
    assert (to_fen("1280.5", "amount"), to_fen(" 12 ", "amount"), to_fen("0.07", "amount")) == (128050, 1200, 7)
    for bad in ("", "1,280", "-3", "1.234", "１２", "12e3"):
        with pytest.raises(Refusal) as e:
            to_fen(bad, "amount")
        assert e.value.errors[0]["field"] == "amount" and e.value.errors[0]["rule"] == "C-05"
    assert coupon_numbers("GB-1, GB-2\nGB-3，GB-4") == ["GB-1", "GB-2", "GB-3", "GB-4"]
    with pytest.raises(Refusal):
        coupon_numbers("GB-1 <script>")
    assert back_to("/credit/payments?status=pending&page=2", "/credit", "decided") == \
        "/credit/payments?status=pending&page=2&done=decided"
    assert back_to("https://evil.example/x", "/credit/rebates", "x") == "/credit/rebates?done=x"
    assert back_to("//evil.example", "/credit/rebates", "x") == "/credit/rebates?done=x"


def token(staff_id: str, role: str, store: str | None = "XA-1") -> str:
    return jwt.encode({"sub": staff_id, "role": role, "store": store, "exp": int(time.time()) + 600}, "k" * 32,
                      algorithm="HS256")


ACCOUNT = {"customer_id": "ORG-1", "name": "西安市高新区管委会", "customer_class": "government",
           "contact_mobile": "139****5678", "store_id": "XA-1", "responsible_staff_id": "S-OP1",
           "line_leader_staff_id": "S-LEAD", "limit_cases": 10, "limit_amount": 10_000_000, "created_by": "S-HQ",
           "member_id": None, "suspended": False, "suspended_reason": None, "overdue": True, "created_at": NOW,
           "effective_limit_cases": 12, "effective_limit_amount": 10_000_000, "outstanding_cases": 2,
           "outstanding_amount": 90_000, "available_cases": 10, "available_amount": 9_910_000}
RAISE = {"raise_id": "RAI-1", "customer_id": "ORG-1", "extra_cases": 2, "extra_amount": 0, "reason": "春节备货",
         "application_ref": "APP-7", "expires_at": NOW, "status": "pending", "requested_by": "S-CSM",
         "decided_by": None, "created_at": NOW}
REC = {"receivable_id": "REC-1", "customer_id": "ORG-1", "sale_id": "S1", "store_id": "XA-1", "receipt_no": "R-1",
       "amount": 90_000, "authorization_id": "A-1", "delivered_at": NOW, "created_at": NOW, "cases": 2, "paid": 0,
       "refunded": 0, "written_off": 0, "due_date": "2026-11-10", "responsible_staff_id": "S-OP1",
       "line_leader_staff_id": "S-LEAD", "region_code": "029", "last_reminded_on": None, "outstanding": 90_000}
PAY = {"payment_id": "PAY-1", "customer_id": "ORG-1", "name": "西安市高新区管委会", "store_id": "XA-1",
       "method": "cheque", "amount": 1000, "reference": None, "status": "pending", "received_on": "2026-12-01",
       "clears_on": "2026-12-04", "allocated": {"REC-1": 1000}, "recorded_by": "S-CSM", "created_at": NOW,
       "settled_by": None, "settled_at": None}
AUTH = {"authorization_id": "A-1", "customer_id": "ORG-1", "store_id": "XA-1", "cases": 2, "amount": 90_000,
        "responsible_staff_id": "S-OP1", "status": "captured", "expires_at": NOW, "sale_id": "S1",
        "released_reason": None, "created_at": NOW, "receipt_no": "R-1"}


class FakeCredit:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.refuse: tuple[int, str] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if self.refuse:
            status, rule = self.refuse
            return httpx.Response(status, json={"title": "Forbidden", "detail": "not yours",
                                                "errors": [{"field": "role", "message": "no", "rule": rule}]})
        if request.method == "POST":
            return httpx.Response(201, json={"ok": True})
        page = int(request.url.params.get("page", "1"))
        lists = {"/v1/accounts": ("accounts", ACCOUNT), "/v1/receivables": ("receivables", REC),
                 "/v1/payments": ("payments", PAY), "/v1/authorizations": ("authorizations", AUTH)}
        if path in lists:
            key, row = lists[path]
            return httpx.Response(200, json={key: [row], "page": page, "has_more": page == 1})
        if path == "/v1/accounts/ORG-1":
            return httpx.Response(200, json=ACCOUNT)
        if path == "/v1/accounts/ORG-1/raises":
            return httpx.Response(200, json={"customer_id": "ORG-1", "raises": [RAISE]})
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


async def test_c01_lists_ask_credit_for_one_filtered_page(client: httpx.AsyncClient, fake: FakeCredit) -> None:
    assert (await client.get("/credit/accounts")).status_code == 303  # no session: the login
    client.cookies.set("console_session", token("S-HQ", "hq_admin", None))
    r = await client.get("/credit/accounts", params={"q": "高新", "overdue": "true", "customer_id": "X", "page": 1})
    assert r.status_code == 200, r.text
    asked = fake.seen[-1]
    assert asked.url.path == "/v1/accounts" and asked.headers["authorization"].startswith("Bearer ")
    assert dict(asked.url.params) == {"q": "高新", "overdue": "true", "page": "1", "limit": "20"}  # not customer_id
    assert 'data-account="ORG-1"' in r.text and "政府机关" in r.text and "data-overdue" in r.text
    assert "data-next" in r.text and "data-prev" not in r.text  # credit said another page follows
    assert "overdue=true&amp;" in r.text  # the filters stay on the pager's links
    r = await client.get("/credit/receivables", params={"overdue": "true", "store_id": "XA-1", "page": 2})
    assert dict(fake.seen[-1].url.params) == {"overdue": "true", "store_id": "XA-1", "page": "2", "limit": "20"}
    assert 'data-receivable="REC-1"' in r.text and "data-prev" in r.text and "data-next" not in r.text
    assert (await client.get("/credit/accounts", params={"overdue": "maybe"})).status_code == 422
    assert (await client.get("/credit/nothing")).status_code == 422  # not a tab


async def test_o02_the_auditor_reads_and_gets_no_form(client: httpx.AsyncClient) -> None:
    client.cookies.set("console_session", token("S-AUD", "auditor", None))
    r = await client.get("/credit/accounts/ORG-1")
    assert r.status_code == 200, r.text
    assert 'data-raise="RAI-1"' in r.text and 'data-payment="PAY-1"' in r.text and 'data-authorization="A-1"' in r.text
    for form in ("data-decide", "data-payment-form", "data-raise-form", "data-suspension", "data-cheque",
                 "data-extension-form", "data-writeoff-form"):
        assert form not in r.text, form
    client.cookies.set("console_session", token("S-GM", "store_manager"))
    r = await client.get("/credit/accounts/ORG-1")
    for form in ("data-decide", "data-payment-form", "data-raise-form", "data-suspension", "data-cheque",
                 "data-extension-form", "data-writeoff-form"):
        assert form in r.text, form
    client.cookies.set("console_session", token("S-CSM", "store_cs_manager"))
    r = await client.get("/credit/accounts/ORG-1")
    assert "data-payment-form" in r.text and "data-decide" not in r.text and "data-cheque" not in r.text


async def test_c05_c06_actions_send_fen_and_no_operator(client: httpx.AsyncClient, fake: FakeCredit) -> None:
    client.cookies.set("console_session", token("S-GM", "store_manager"))
    r = await client.post("/credit/accounts/ORG-1/payments", data={
        "csrf": CSRF, "method": "cheque", "amount": "1280.50", "reference": "", "receivable_id": "REC-1",
        "recorded_by": "someone-else"})
    assert r.status_code == 303 and r.headers["location"] == "/credit/accounts/ORG-1?done=payment_recorded"
    sent = fake.seen[-1]
    assert (sent.method, sent.url.path) == ("POST", "/v1/accounts/ORG-1/payments")
    assert json.loads(sent.content) == {"method": "cheque", "amount": 128050, "receivable_id": "REC-1"}
    r = await client.post("/credit/decisions/writeoffs/WO-1", data={
        "csrf": CSRF, "decision": "approve", "back": "/credit/writeoffs?status=pending&page=1"})
    assert r.headers["location"] == "/credit/writeoffs?status=pending&page=1&done=decided"
    assert (fake.seen[-1].url.path, json.loads(fake.seen[-1].content)) == ("/v1/writeoffs/WO-1/decision",
                                                                           {"approve": True})
    r = await client.post("/credit/payments/PAY-1", data={"csrf": CSRF, "action": "bounce"})
    assert fake.seen[-1].url.path == "/v1/payments/PAY-1/bounce" and r.status_code == 303
    r = await client.post("/credit/accounts/ORG-1/raises", data={
        "csrf": CSRF, "extra_cases": "2", "extra_amount": "0", "reason": "春节备货", "application_ref": "APP-7",
        "expires_on": "2027-02-28"})
    assert json.loads(fake.seen[-1].content) == {"extra_cases": 2, "extra_amount": 0, "reason": "春节备货",
                                                 "application_ref": "APP-7",
                                                 "expires_at": "2027-02-28T23:59:59+08:00"}
    await client.post("/credit/rebate-slips/SLIP-9/collection", data={
        "csrf": CSRF, "coupon_nos": "RB-1\nRB-2", "collected_by": "王会计"})
    assert json.loads(fake.seen[-1].content) == {"coupon_nos": ["RB-1", "RB-2"], "collected_by": "王会计"}
    n = len(fake.seen)
    # refused before credit is asked: no form token, a bad amount, an unknown decision or action
    assert (await client.post("/credit/payments/PAY-1", data={"action": "clear"})).status_code == 403
    bad = await client.post("/credit/accounts/ORG-1/payments", data={"csrf": CSRF, "method": "cash",
                                                                    "amount": "12,80"})
    assert bad.status_code == 422 and "amount" in bad.text and "C-05" in bad.text
    assert (await client.post("/credit/decisions/raises/RAI-1", data={"csrf": CSRF, "decision": "maybe"})) \
        .status_code == 422
    assert (await client.post("/credit/payments/PAY-1", data={"csrf": CSRF, "action": "tear"})).status_code == 422
    assert len(fake.seen) == n


async def test_o02_credits_refusal_is_the_page_not_a_500(client: httpx.AsyncClient, fake: FakeCredit) -> None:
    client.cookies.set("console_session", token("S-AUD", "auditor", None))
    fake.refuse = (403, "O-02")
    r = await client.post("/credit/decisions/raises/RAI-1", data={"csrf": CSRF, "decision": "approve"})
    assert r.status_code == 403 and 'data-refusal="403"' in r.text and "O-02" in r.text and "credit" in r.text
    r = await client.get("/credit/accounts", params={"store_id": "SZ-1"})
    assert r.status_code == 403 and "O-02" in r.text
    fake.refuse = (404, "O-02")
    assert (await client.get("/credit/accounts/ORG-1")).status_code == 404
    client.cookies.set("console_lang", "en")
    fake.refuse = None
    assert "Accounts" in (await client.get("/credit/accounts")).text
