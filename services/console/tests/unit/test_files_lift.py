"""Gaps of the member-file screens against a stand-in members: lifting a blacklist entry (M-16: a form only where
members would let the person lift, the reason sent, members' refusal shown with its rule), a rejected deletion's
note and its time against the 12-hour target (M-15), and logout revoking the refresh token at members (O-03)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from console import bootstrap
from console.adapters.upstream import Upstream
from console.config import ConsoleSettings
from console.domain.screens import SCREENS
from vipcore.auth import Role

ENTRY = {"full_name": "钱大勇", "mobile": "139****0002", "listed_by": "CS1", "reason": "闹事",
         "since": "2026-11-30T10:00:00+00:00", "lifted_at": None, "lifted_by": None, "lift_reason": None}
LISTED = [{**ENTRY, "entry_id": 7, "store_id": "XA-1"}, {**ENTRY, "entry_id": 8, "store_id": "SZ-9"}]
LIFTED = [{**ENTRY, "entry_id": 5, "store_id": "XA-1", "lifted_at": "2026-12-02T09:00:00+00:00",
           "lifted_by": "HQCS", "lift_reason": "误列，已核实"}]
REJECTED = {"request_id": "R1", "store_id": "XA-1", "member_id": "M1", "raised_by": "CS1", "reason": "顾客要求",
            "status": "rejected", "raised_at": "2026-12-01T00:00:00+00:00", "age_hours": 33.0, "overdue": False,
            "valid_until": None, "reviewer": "HQ1", "routed_to": "HQ1", "account": None, "decided_by": "HQ1",
            "decided_at": "2026-12-01T13:30:00+00:00", "decision_note": "有未结清赊销款，结清后再申请",
            "target_hours": 12, "decided_in_hours": 13.5, "decided_late": True}


class Members:
    """Stands in for members: the blacklist in force and lifted, deletion requests, logout; remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.refuse: dict[str, tuple[int, dict[str, Any]]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, dict(request.url.params), body))
        key = f"{request.method} {request.url.path}"
        if key in self.refuse:
            status, problem = self.refuse[key]
            return httpx.Response(status, json=problem)
        if key == "GET /v1/blacklist":
            rows = LIFTED if request.url.params.get("status") == "lifted" else LISTED
            return httpx.Response(200, json={"total": len(rows), "page": 1, "limit": 20, "entries": rows})
        if key == "GET /v1/deletion-requests":
            return httpx.Response(200, json={"total": 1, "page": 1, "limit": 20, "items": [REJECTED]})
        if key == "POST /v1/auth/logout":
            return httpx.Response(200, json={"logged_out": True})
        return httpx.Response(200, json={})


@pytest.fixture
def members(monkeypatch: pytest.MonkeyPatch) -> Members:
    m = Members()
    monkeypatch.setattr(bootstrap, "Upstream", lambda urls, timeout_s: Upstream(
        urls, timeout_s, transport=httpx.MockTransport(m)))
    return m


@pytest.fixture
async def client(members: Members) -> AsyncIterator[httpx.AsyncClient]:
    app = bootstrap.build(ConsoleSettings(members_url="http://members", page_size=20))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        page = await c.get("/login")
        c.headers["x-csrf"] = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        yield c


def as_role(c: httpx.AsyncClient, role: Role, staff_id: str) -> None:
    token = jwt.encode({"sub": staff_id, "role": role.value, "store": "XA-1", "exp": int(time.time()) + 600},
                       "test-only-key-of-thirty-two-bytes!", algorithm="HS256")
    c.cookies.set("console_session", token)


async def post(c: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    return await c.post(path, data={**form, "csrf": c.headers["x-csrf"]})


def lift_forms(html: str) -> list[str]:
    return re.findall(r'action="/blacklist/(\d+)/lift" data-lift', html)


def test_o02_lifting_is_shown_to_the_roles_members_lets_lift() -> None:
    from members.domain.access import MATRIX

    assert SCREENS["blacklist.lift"] == MATRIX["blacklist.lift"] == {Role.STORE_CS_MANAGER, Role.HQ_CS}


async def test_m16_the_lift_form_is_the_listing_stores_or_hq_cs_and_sends_the_reason(
        client: httpx.AsyncClient, members: Members) -> None:
    as_role(client, Role.STORE_CS_MANAGER, "CS1")  # of store XA-1
    r = await client.get("/blacklist")
    assert r.status_code == 200 and lift_forms(r.text) == ["7"]  # not SZ-9's listing
    assert members.calls[-1][2]["status"] == "listed"
    as_role(client, Role.HQ_CS, "HQCS")
    assert lift_forms((await client.get("/blacklist")).text) == ["7", "8"]
    as_role(client, Role.STORE_MANAGER, "GM1")
    assert lift_forms((await client.get("/blacklist")).text) == []
    n = len(members.calls)
    r = await post(client, "/blacklist/7/lift", {"reason": "已和解"})
    assert r.status_code == 403 and "O-02" in r.text and len(members.calls) == n  # not asked: the role never may

    as_role(client, Role.STORE_CS_MANAGER, "CS1")
    r = await post(client, "/blacklist/7/lift", {"reason": ""})
    assert r.status_code == 422 and "reason" in r.text and len(members.calls) == n  # a reason is required
    r = await post(client, "/blacklist/7/lift", {"reason": " 误列：同名不同人 "})
    assert r.status_code == 303 and r.headers["location"] == "/blacklist?status=lifted&done=lifted"
    assert members.calls[-1] == ("POST", "/v1/blacklist/7/lift", {}, {"reason": "误列：同名不同人"})
    # members refuses another store's listing: its rule and field on the page, never a 500
    members.refuse["POST /v1/blacklist/8/lift"] = (403, {
        "title": "Forbidden", "status": 403, "detail": "entry 8 was listed by store SZ-9",
        "errors": [{"field": "store_id", "rule": "O-02", "message": "entry 8 was listed by store SZ-9"}]})
    r = await post(client, "/blacklist/8/lift", {"reason": "已和解"})
    assert r.status_code == 403 and "O-02" in r.text and "store_id" in r.text and "members" in r.text
    # the lifted ones: kept, with who lifted them and why
    r = await client.get("/blacklist", params={"status": "lifted", "done": "lifted"})
    assert members.calls[-1][2]["status"] == "lifted" and 'data-done="lifted"' in r.text
    assert "<td data-lifted-by>HQCS 2026-12-02T09:00</td>" in r.text and "误列，已核实" in r.text
    assert lift_forms(r.text) == []
    assert (await client.get("/blacklist", params={"status": "gone"})).status_code == 422


async def test_m15_a_rejection_needs_a_note_and_the_store_reads_it_with_the_time_against_the_target(
        client: httpx.AsyncClient, members: Members) -> None:
    as_role(client, Role.HQ_CS, "HQ1")
    n = len(members.calls)
    r = await post(client, "/deletions/R1", {"decision": "reject", "note": " "})
    assert r.status_code == 422 and "M-15" in r.text and len(members.calls) == n
    r = await post(client, "/deletions/R1", {"decision": "reject", "note": "有未结清赊销款，结清后再申请"})
    assert r.status_code == 303 and r.headers["location"] == "/deletions?done=deletion_rejected"
    assert members.calls[-1][3] == {"decision": "reject", "note": "有未结清赊销款，结清后再申请"}
    await post(client, "/deletions/R1", {"decision": "approve"})
    assert members.calls[-1][3] == {"decision": "approve"}
    as_role(client, Role.STORE_CS_MANAGER, "CS1")
    r = await client.get("/deletions", params={"status": "rejected"})
    note = re.search(r"<div data-decision-note>(.*?)</div>", r.text)
    assert note and "有未结清赊销款，结清后再申请" in note.group(1)
    age = re.search(r"<td data-age>(.*?)</td>", r.text, re.S)
    assert age and "用时 13.5 小时" in age.group(1) and "超时处理" in age.group(1) and "目标 12 小时" in age.group(1)


def staff_token(expires_in_s: int) -> str:
    return jwt.encode({"sub": "CS1", "role": "store_cs_manager", "store": "XA-1",
                       "exp": int(time.time()) + expires_in_s}, "test-only-key-of-thirty-two-bytes!", algorithm="HS256")


async def test_o03_logout_revokes_the_refresh_token_at_members_then_drops_the_cookies(
        client: httpx.AsyncClient, members: Members) -> None:
    # the staff token about to lapse: logout does not renew it first, it revokes the refresh token it has
    client.cookies.set("console_session", staff_token(5))
    client.cookies.set("console_refresh", "rt-one")
    r = await post(client, "/logout", {})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert [c[:2] for c in members.calls] == [("POST", "/v1/auth/logout")]
    assert members.calls[-1][3] == {"refresh_token": "rt-one"}
    cleared = r.headers.get_list("set-cookie")
    assert any(c.startswith("console_refresh=") and "Max-Age=0" in c for c in cleared)
    assert any(c.startswith("console_session=") and "Max-Age=0" in c for c in cleared)
    # members unreachable: the console still forgets the session (the token then lapses at its expiry)
    members.refuse["POST /v1/auth/logout"] = (503, {"title": "Unavailable", "status": 503})
    client.cookies.set("console_session", staff_token(600))
    client.cookies.set("console_refresh", "rt-two")
    r = await post(client, "/logout", {})
    assert r.status_code == 303 and members.calls[-1][3] == {"refresh_token": "rt-two"}
