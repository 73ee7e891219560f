"""The member-file screens (issue 12) against a stand-in members: each screen shown only to the roles members lets
act (O-02), the edit form sending only what changed (M-13), lists paged at members (M-16, M-15), a refusal shown
with members' field and rule — never a 500."""

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
from console.domain import files
from console.domain.screens import SCREENS, may, menu
from vipcore.auth import Role

FILE = {"member_id": "M1", "store_id": "XA-1", "referrer_staff_id": "S1", "full_name": "周*", "mobile": "139****0001",
        "id_card": None, "status": "active", "stage": 2, "card_no": "75500001", "card_status": "active",
        "gender": "female", "birth_date": "--03-08", "address": "西安市雁塔区高新路25号3栋1201室",
        "work_unit": "西安某科技公司", "position": "经理", "customer_class": "enterprise_institution",
        "account_size": "key", "created_at": "2026-12-01T08:00:00+00:00", "review_note": None}


class Members:
    """Stands in for members: answers what the screens ask and remembers every call."""

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
        if key == "GET /v1/member-files/M1":
            return httpx.Response(200, json=FILE)
        if key == "PATCH /v1/member-files/M1":
            return httpx.Response(200, json={"member_id": "M1", "status": "pending_review", "stage": 2, "missing": []})
        if key == "GET /v1/member-files/M1/changes":
            return httpx.Response(200, json={"member_id": "M1", "status": "pending_review", "total": 1, "page": 1,
                                             "limit": 20, "changes": [{
                                                 "id": 7, "at": "2026-12-02T07:00:00+00:00", "by": "S1",
                                                 "kind": "changed", "from_status": "active",
                                                 "to_status": "pending_review", "note": None, "fields": [
                                                     {"field": "address", "before": "甲", "after": "乙"}]}]})
        if key == "GET /v1/blacklist":
            return httpx.Response(200, json={"total": 45, "page": int(request.url.params.get("page", 1)),
                                             "limit": 20, "entries": [{
                                                 "store_id": "SZ-9", "full_name": "钱大勇", "mobile": "139****0002",
                                                 "listed_by": "CS9", "reason": "闹事", "since": "2026-11-30T10:00"}]})
        if key == "GET /v1/deletion-requests":
            return httpx.Response(200, json={"total": 1, "page": 1, "limit": 20, "items": [{
                "request_id": "R1", "store_id": "XA-1", "member_id": "M1", "raised_by": "CS1", "reason": "顾客要求",
                "status": "pending", "raised_at": "2026-12-02T00:00:00+00:00", "age_hours": 13.5, "overdue": True,
                "valid_until": None, "reviewer": "HQ1", "routed_to": "HQ1", "account": None}]})
        return httpx.Response(201 if request.method == "POST" else 200, json={})


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


def as_role(c: httpx.AsyncClient, role: Role, staff_id: str = "X1") -> None:
    token = jwt.encode({"sub": staff_id, "role": role.value, "store": "XA-1", "exp": int(time.time()) + 600},
                       "test-only-key-of-thirty-two-bytes!", algorithm="HS256")
    c.cookies.set("console_session", token)


async def post(c: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    return await c.post(path, data={**form, "csrf": c.headers["x-csrf"]})


def test_o02_screens_mirror_the_members_role_matrix() -> None:
    from members.domain.access import MATRIX

    assert SCREENS["file.edit"] == MATRIX["files.update"]
    assert SCREENS["file.changes"] == MATRIX["files.read"]
    assert SCREENS["file.merge"] == MATRIX["files.merge"] == MATRIX["files.duplicates"]
    assert SCREENS["blacklist"] == MATRIX["blacklist.read"] and SCREENS["blacklist.add"] == MATRIX["blacklist.add"]
    assert SCREENS["deletions"] == MATRIX["deletions.queue"]
    assert SCREENS["deletion.request"] == MATRIX["deletions.request"]
    assert SCREENS["deletion.decide"] == MATRIX["deletions.decide"]
    assert "blacklist" in menu(Role.STORE_MANAGER) and "deletions" not in menu(Role.STORE_MANAGER)
    assert {"blacklist", "deletions"} <= set(menu(Role.HQ_CS)) and not may(Role.AUDITOR, "blacklist")


def test_m13_the_form_sends_only_what_changed_and_never_a_masked_value() -> None:
    was = files.form_values(FILE)
    assert was["full_name"] == "" and was["mobile"] == "" and was["address"] == FILE["address"]  # masked: empty
    form = {**was, "address": "西安市碑林区南大街8号2单元502室", "work_unit": " 西安某科技公司 "}
    assert files.changed(form, was) == {"address": "西安市碑林区南大街8号2单元502室"}
    assert files.changed({**was, "mobile": "13900000009"}, was) == {"mobile": "13900000009"}
    assert files.changed(was, was) == {}
    page = files.served_page([1, 2], 3, 20, 45)
    assert (page.number, page.pages, page.total, page.has_prev, page.has_next) == (3, 3, 45, True, False)


async def test_m13_edit_posts_the_change_to_members_and_an_empty_change_is_refused_here(
        client: httpx.AsyncClient, members: Members) -> None:
    as_role(client, Role.STORE_MANAGER)
    r = await client.get("/members/M1/edit")
    assert r.status_code == 200 and 'name="address" value="西安市雁塔区高新路25号3栋1201室"' in r.text
    assert 'name="full_name" value=""' in r.text and 'placeholder="周*"' in r.text  # masked: shown, not resent
    was = {f"was_{k}": v for k, v in files.form_values(FILE).items()}
    r = await post(client, "/members/M1/edit", {**was, **files.form_values(FILE), "position": "总经理"})
    assert r.status_code == 303 and r.headers["location"].startswith("/members/M1?done=changed")
    assert members.calls[-1] == ("PATCH", "/v1/member-files/M1", {}, {"position": "总经理"})
    n = len(members.calls)
    r = await post(client, "/members/M1/edit", {**was, **files.form_values(FILE)})
    assert r.status_code == 422 and "M-13" in r.text and len(members.calls) == n  # nothing sent
    # the change record: the fragment from members, the operator and each field before → after
    r = await client.get("/members/M1/changes")
    assert 'data-change="changed" data-by="S1"' in r.text and "甲" in r.text and "乙" in r.text


async def test_screens_follow_the_role_on_the_member_page(client: httpx.AsyncClient) -> None:
    as_role(client, Role.STORE_CS_MANAGER)
    page = (await client.get("/members/M1")).text
    assert "data-edit-file" in page and 'hx-get="/members/M1/duplicates"' in page and "data-request-deletion" in page
    as_role(client, Role.STORE_MANAGER)
    page = (await client.get("/members/M1")).text
    assert "data-edit-file" in page and "duplicates" not in page and "data-request-deletion" not in page
    as_role(client, Role.HQ_CS)
    page = (await client.get("/members/M1")).text
    assert "data-edit-file" not in page and 'hx-get="/members/M1/changes"' in page


async def test_m16_blacklist_is_paged_and_filtered_at_members_and_a_phone_is_flagged(
        client: httpx.AsyncClient, members: Members) -> None:
    as_role(client, Role.STORE_MANAGER)
    r = await client.get("/blacklist", params={"mobile": "13900000002", "page": 2})
    assert r.status_code == 200
    assert members.calls[-1][:3] == ("GET", "/v1/blacklist", {"mobile": "13900000002", "status": "listed", "page": "2",
                                                                "limit": "20"})
    assert "data-flag" in r.text and "SZ-9" in r.text and "第 2 / 3 页，共 45 条" in r.text
    assert "data-blacklist-add" not in r.text  # a store manager reads it; the CS manager lists (M-16)
    as_role(client, Role.STORE_CS_MANAGER)
    r = await client.get("/blacklist")
    assert "data-blacklist-add" in r.text and "data-flag" not in r.text
    r = await post(client, "/blacklist", {"mobile": "13900000003", "full_name": "赵二虎", "reason": "多次闹事"})
    assert r.status_code == 303 and r.headers["location"] == "/blacklist?done=blacklisted"
    assert members.calls[-1] == ("POST", "/v1/blacklist", {}, {"mobile": "13900000003", "full_name": "赵二虎",
                                                                "reason": "多次闹事"})


async def test_m15_refusals_show_members_rule_and_field_never_a_500(
        client: httpx.AsyncClient, members: Members) -> None:
    as_role(client, Role.HQ_CS, "HQ2")
    r = await client.get("/deletions")
    assert r.status_code == 200 and 'data-deletion="R1"' in r.text and "data-approve" in r.text
    members.refuse["POST /v1/deletion-requests/R1/decision"] = (403, {
        "title": "Forbidden", "status": 403, "detail": "request R1 is with HQ1",
        "errors": [{"field": "reviewer", "rule": "O-03", "message": "request R1 is with HQ1"}]})
    r = await post(client, "/deletions/R1", {"decision": "approve"})
    assert r.status_code == 403 and "O-03" in r.text and "members" in r.text
    assert members.calls[-1][3] == {"decision": "approve"}
    as_role(client, Role.STORE_CS_MANAGER)
    r = await client.get("/deletions")
    assert 'data-deletion="R1"' in r.text and "data-approve" not in r.text  # HQ customer service decides
    r = await post(client, "/members/M1/deletion", {"reason": "顾客本人要求注销"})
    assert r.status_code == 303 and members.calls[-1] == ("POST", "/v1/deletion-requests", {}, {
        "member_id": "M1", "reason": "顾客本人要求注销"})
    r = await post(client, "/members/M1/merge", {"duplicate_member_id": "M2", "referrer_staff_id": "", "reason": ""})
    assert r.status_code == 422 and "referrer_staff_id" in r.text
    assert (await client.get("/deletions", params={"status": "gone"})).status_code == 422
