"""Loyalty screens (issue 12) against fake owning services: the program viewer (HQ only, O-02), the redemption desk
(L-09: the store's members who reached a reward, the code, the claim with ID check and the member's proof, L-07),
the dashboard's today tile (every sale, from the gateway) and SMS tile (today's counts), and member-page sections a
store role may not read shown as that service's refusal, never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from console.adapters.upstream import Upstream
from console.entrypoints import dashboard_http, loyalty_http, member_http
from console.entrypoints.http import Pages
from console.service.desk import Desk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
CSRF = "form-token-of-this-browser"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def token(staff_id: str, role: str, store: str | None = None) -> str:
    return jwt.encode({"sub": staff_id, "role": role, "store": store, "exp": int(time.time()) + 600}, "k" * 32,
                      algorithm="HS256")


def tier(code: str, name: str, single: int | None = None) -> dict[str, Any]:
    return {"code": code, "name": name, "single_receipt_min": single, "rolling_spend_min": None,
            "rolling_months": None, "discount_pct": 12 if single else 0, "earn_multiplier_pct": 100}


def version(v: int, in_force: bool, single: int) -> dict[str, Any]:
    return {"id": "jewelry", "brand": "金饰", "version": v, "effective_from": f"202{v}-01-01", "in_force": in_force,
            "earn": {"points_per_yuan": v, "rounding": "floor", "excluded_kinds": ["special_price"]},
            "tiers": [tier("normal", "普通"), tier("vip", "贵宾", single)],
            "birthday": {"discount_pct": 15, "proof": ["id"], "gift": None}, "downgrade": None,
            "redemption": {"catalogue": [{"id": "care-kit", "name": "护理套装", "points": 2000, "value": 18000,
                                          "desk_claim": True}], "points_per_yuan_cash": 100, "windows_months": []},
            "pending_days": 1, "expiry": {"policy": "per_entry", "months": 12, "notice_days": 30},
            "returns": "floor_at_zero", "stored_value_bonus": [], "spend_proof": ["sms_code", "pin"],
            "carry_points_on_replacement": True}


class Fake:
    """loyalty, gateway, members and notify as the console sees them; every request kept."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        host, path, q = request.url.host, request.url.path, dict(request.url.params)
        role = jwt.decode(request.headers["authorization"][7:], options={"verify_signature": False})["role"]
        hq = role in ("hq_admin", "hq_cs", "auditor")
        if host == "loyalty" and path == "/v1/programs":
            return httpx.Response(200, json={"programs": [
                {"id": "jewelry", "brand": "金饰", "current_version": 2, "versions": 2,
                 "effective_from": "2022-01-01"},
                {"id": "dental", "brand": "齿科", "current_version": 1, "versions": 1,
                 "effective_from": "2000-01-01"}]})
        if host == "loyalty" and path == "/v1/programs/jewelry":
            return httpx.Response(200, json={"id": "jewelry", "versions": [version(2, True, 68000),
                                                                          version(1, False, 50000)]})
        if host == "loyalty" and path == "/v1/desk/rewards":
            after = q.get("after")
            members = [{"member_id": "M2", "points_balance": 2500, "reached": ["care-kit"]}] if after else [
                {"member_id": "M1", "points_balance": 3000, "reached": ["care-kit"]}]
            return httpx.Response(200, json={"store_id": q["store_id"], "program": "jewelry",
                                             "rewards": version(2, True, 1)["redemption"]["catalogue"],
                                             "members": members, "next_after": None if after else "M1"})
        if host == "gateway" and path == "/v1/desk/proof-codes":
            return httpx.Response(201, json={"member_id": "M1", "sent": True})
        if host == "gateway" and path == "/v1/desk/claims":
            body = json.loads(request.content)
            if not body["id_checked"]:
                return httpx.Response(422, json={"title": "Refused by a rule", "errors": [
                    {"field": "id_checked", "rule": "L-09", "message": "ID first"}]})
            return httpx.Response(201, json={"claim_id": body["claim_id"], "member_id": "M1", "reward_id":
                                             body["reward_id"], "points_spent": 2000, "balance_after": 1000,
                                             "handed_out_by": "S-1"})
        if host == "members" and path == "/v1/stats/today":
            return httpx.Response(200, json={"since": "x", "stores": [
                {"store_id": "XA-1", "new_members": 2, "member_sales": 1, "member_sales_amount": 5000}]})
        if host == "gateway" and path == "/v1/stats/sales-today":
            return httpx.Response(200, json={"since": "x", "stores": [
                {"store_id": "XA-1", "sales": 7, "amount": 90000, "member_sales": 1},
                {"store_id": "XA-2", "sales": 3, "amount": 1500, "member_sales": 0}]})
        if host == "notify" and path == "/v1/message-counts":
            return httpx.Response(200, json={"since": q["since"], "counts": {"sent": 4, "undelivered": 1,
                                                                             "parked": 2}})
        if host in ("loyalty", "notify") and path.startswith("/v1/members/") and not hq:
            return httpx.Response(403, json={"title": "Forbidden", "detail": f"role {role} may not do this",
                                             "errors": [{"field": "role", "message": "needs hq", "rule": "O-02"}]})
        return httpx.Response(404, json={"title": "Not Found"})


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
async def client(fake: Fake) -> AsyncIterator[httpx.AsyncClient]:
    up = Upstream({s: f"http://{s}" for s in ("members", "loyalty", "credit", "notify", "gateway")},
                  transport=httpx.MockTransport(fake))
    pages = Pages(Desk(up, TokenVerifier(None)), Jinja2Templates(directory=TEMPLATES))
    app = FastAPI()
    app.include_router(loyalty_http.router(up, pages, 1))
    app.include_router(dashboard_http.router(up, pages))
    app.include_router(member_http.router(up, pages, 20))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)
        yield c


def login(c: httpx.AsyncClient, staff_id: str, role: str, store: str | None = None) -> None:
    c.cookies.set("console_session", token(staff_id, role, store))


async def test_o02_program_viewer_is_hqs_and_shows_every_version(client: httpx.AsyncClient, fake: Fake) -> None:
    login(client, "S-1", "staff", "XA-1")
    r = await client.get("/programs")
    assert r.status_code == 403 and 'data-refusal="403"' in r.text and "O-02" in r.text
    assert not fake.seen  # hidden from a store role before loyalty is asked (loyalty refuses it too)
    login(client, "H-1", "hq_cs")
    r = await client.get("/programs")  # a page of one (page size 1 here): paged and filterable
    assert r.status_code == 200 and 'data-program="jewelry"' in r.text and "data-pager" in r.text
    r = await client.get("/programs", params={"q": "齿科"})
    assert 'data-program="dental"' in r.text and 'data-program="jewelry"' not in r.text
    r = await client.get("/programs/jewelry")
    assert r.status_code == 200 and 'data-shown-version="2"' in r.text and "data-in-force" in r.text
    assert 'data-tier="vip"' in r.text and "680.00" in r.text and 'data-reward="care-kit"' in r.text
    r = await client.get("/programs/jewelry", params={"v": 1})
    assert 'data-shown-version="1"' in r.text and "500.00" in r.text and "data-in-force" not in r.text
    r = await client.get("/programs/jewelry", params={"v": 9})
    assert r.status_code == 404 and 'data-refusal="404"' in r.text
    assert all(x.headers["authorization"] == f"Bearer {client.cookies['console_session']}" for x in fake.seen)


async def test_l09_desk_lists_members_of_the_staff_members_store_paged_at_loyalty(client: httpx.AsyncClient,
                                                                                 fake: Fake) -> None:
    login(client, "H-1", "hq_admin")
    r = await client.get("/desk")
    assert r.status_code == 403 and "O-02" in r.text and not fake.seen  # the desk is a store's
    login(client, "S-1", "staff", "XA-1")
    r = await client.get("/desk", params={"reward": "care-kit"})
    assert r.status_code == 200 and 'data-ready-member="M1"' in r.text and "data-next" in r.text
    asked = dict(fake.seen[-1].url.params)
    assert asked == {"store_id": "XA-1", "limit": "20", "reward_id": "care-kit"}  # the token's store, not a form's
    r = await client.get("/desk", params={"reward": "care-kit", "after": "M1"})
    assert 'data-ready-member="M2"' in r.text and "data-next" not in r.text
    assert dict(fake.seen[-1].url.params)["after"] == "M1"


async def test_l09_l07_claim_needs_the_members_proof_and_sends_the_id_check(client: httpx.AsyncClient,
                                                                           fake: Fake) -> None:
    login(client, "S-1", "staff", "XA-1")
    r = await client.post("/desk/code", content=f"csrf={CSRF}&card_no=02900001".encode(), headers=FORM)
    assert r.status_code == 303 and "done=code_sent" in r.headers["location"]
    sent = fake.seen[-1]
    assert sent.url.host == "gateway" and json.loads(sent.content) == {"card_no": "02900001"}
    claim = "5b1f0d0e-2b8c-4f57-9d43-0c9a7d3f2a10"
    base = f"csrf={CSRF}&claim_id={claim}&card_no=02900001&reward_id=care-kit"
    n = len(fake.seen)
    r = await client.post("/desk/claim", content=f"{base}&id_checked=yes".encode(), headers=FORM)
    assert r.status_code == 422 and "L-07" in r.text and len(fake.seen) == n  # no code, no PIN: nothing asked
    r = await client.post("/desk/claim", content=f"{base}&otp=12345x&id_checked=yes".encode(), headers=FORM)
    assert r.status_code == 422 and len(fake.seen) == n
    r = await client.post("/desk/claim", content=f"{base}&otp=123456".encode(), headers=FORM)
    assert r.status_code == 422 and "L-09" in r.text and 'data-refusal="422"' in r.text  # the gateway's refusal
    assert json.loads(fake.seen[-1].content)["id_checked"] is False
    r = await client.post("/desk/claim", content=f"{base}&otp=123456&id_checked=yes".encode(), headers=FORM)
    assert r.status_code == 303
    body = json.loads(fake.seen[-1].content)
    assert body == {"claim_id": claim, "card_no": "02900001", "reward_id": "care-kit", "id_checked": True,
                    "proof": {"otp": "123456"}}  # no operator field: the gateway takes the staff id from the token
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q == {"done": ["claimed"], "got": ["care-kit"], "spent": ["2000"], "balance": ["1000"]}
    r = await client.get(r.headers["location"])
    assert 'data-done="claimed"' in r.text and "data-balance-after" in r.text
    r = await client.post("/desk/claim", content=f"{base}&otp=123456&id_checked=yes".encode())  # no CSRF cookie match
    assert r.status_code in (403, 415, 422)


async def test_today_counts_every_sale_and_sms_counts_today_only(client: httpx.AsyncClient, fake: Fake) -> None:
    login(client, "H-1", "hq_admin")
    r = await client.get("/dashboard")
    assert r.status_code == 200
    assert '<span data-figure="sales">10</span>' in r.text and '<span data-figure="new_members">2</span>' in r.text
    assert 'data-store="XA-2"' in r.text  # a store with no member sales still shows its sales
    assert '<span data-figure="sent">4</span>' in r.text and '<span data-figure="failed">1</span>' in r.text
    counts = next(x for x in fake.seen if x.url.path == "/v1/message-counts")
    since = datetime.fromisoformat(counts.url.params["since"])
    assert (since.hour, since.minute, since.utcoffset().total_seconds()) == (0, 0, 8 * 3600)  # type: ignore[union-attr]
    assert not any(x.url.path == "/v1/messages" for x in fake.seen)  # not the whole history


async def test_o02_store_roles_get_the_owning_services_refusal_in_loyalty_and_notify_sections(
        client: httpx.AsyncClient) -> None:
    login(client, "SM-1", "store_manager", "XA-1")
    for name in ("ledger", "redemptions", "tiers", "stored_value", "messages"):
        r = await client.get(f"/members/M1/sections/{name}", headers={"HX-Request": "true"})
        assert r.status_code == 200, (name, r.status_code)  # htmx swaps the fragment: the refusal, not a 500
        assert f'data-section="{name}"' in r.text and 'data-refusal="403"' in r.text and "O-02" in r.text, name


def test_o02_desk_is_for_store_roles_and_programs_for_hq() -> None:
    from console.domain.screens import menu
    from vipcore.auth import Role

    assert [m for m in menu(Role.STAFF) if m in ("desk", "programs")] == ["desk"]
    assert [m for m in menu(Role.STORE_MANAGER) if m in ("desk", "programs")] == ["desk"]
    assert [m for m in menu(Role.HQ_CS) if m in ("desk", "programs")] == ["programs"]
    assert [m for m in menu(Role.AUDITOR) if m in ("desk", "programs")] == []
