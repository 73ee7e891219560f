"""The store desk (issue 12) without the other services: hand-overs (M-12), imports (M-19), revisits (M-20) against a
fake members — who sees which screen (O-02, refused before members is asked), what is sent to members with the
staff member's token, the upload of a spreadsheet's bytes without multipart (CSRF in a header), the live progress
fragment that polls while the import runs and stops when it is done, the rejected rows with a BOM for Excel."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from console.adapters.upstream import Upstream
from console.domain import stores
from console.domain.screens import SCREENS
from console.entrypoints import stores_http
from console.entrypoints.http import Pages
from console.service.desk import Desk
from console.service.stores import StoreDesk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import Role, TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
CSRF = "form-token-of-this-browser"


def token(staff_id: str, role: str, store_id: str = "XA-1") -> str:
    return jwt.encode({"sub": staff_id, "role": role, "store_id": store_id, "exp": int(time.time()) + 600},
                      "k" * 32, algorithm="HS256")


HANDOVER = {"handover_id": "H1", "store_id": "XA-1", "from_staff_id": "S1", "to_staff_id": "S2",
            "type": "same_position", "reason": "离职", "member_ids": ["M1", "M2", "M3"], "state": "confirmed",
            "raised_at": "2026-12-01T08:00:00+00:00",
            "history": [{"step": "request", "state": "requested", "by": "SM1", "at": "2026-12-01T08:00:00+00:00"}],
            "files": [{"member_id": "M1", "rechecked_by": "S2", "rechecked_at": "2026-12-01T09:00:00+00:00",
                       "recheck_note": "核对地址", "approved_by": None, "approved_at": None, "approval_note": None},
                      {"member_id": "M2", "rechecked_by": None, "rechecked_at": None, "recheck_note": None,
                       "approved_by": None, "approved_at": None, "approval_note": None},
                      {"member_id": "M3", "rechecked_by": "S2", "rechecked_at": "2026-12-01T09:00:00+00:00",
                       "recheck_note": None, "approved_by": "SM1", "approved_at": "2026-12-01T10:00:00+00:00",
                       "approval_note": None}]}


def progress(status: str, processed: int) -> dict[str, Any]:
    return {"import_id": "I1", "store_id": "XA-1", "filename": "老客户.xlsx", "status": status, "total": 4,
            "processed": processed, "imported": processed - 1 if processed else 0, "rejected": 1 if processed else 0,
            "started_at": "2026-12-01T08:00:00+00:00", "finished_at": None, "percent": 25.0 * processed,
            "seconds": 1.5, "started_by": "ADM1"}


class FakeMembers:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.import_status = "running"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path, method = request.url.path, request.method
        if path == "/v1/handovers" and method == "GET":
            return httpx.Response(200, json={"handovers": [{k: HANDOVER[k] for k in (
                "handover_id", "store_id", "from_staff_id", "to_staff_id", "type", "reason", "state", "raised_at")}
                | {"files": 3}], "next_before": "H1"})
        if path == "/v1/handovers" and method == "POST":
            return httpx.Response(201, json={"handover_id": "H9", "state": "requested", "member_ids": ["M1"]})
        if path == "/v1/handovers/H1":
            return httpx.Response(200, json=HANDOVER)
        if path == "/v1/handovers/H1/confirm":
            return httpx.Response(409, json={"title": "Conflict", "errors": [
                {"field": "state", "rule": "M-12", "message": "'confirm' applies to a hand-over in 'accepted'"}]})
        if path.startswith("/v1/handovers/H1/"):
            return httpx.Response(200, json={"handover_id": "H1", "member_id": "M1", "file": "approved",
                                             "state": "rechecked"})
        if path == "/v1/imports" and method == "POST":
            return httpx.Response(202, json={"import_id": "I1", "progress": "/v1/imports/I1"})
        if path == "/v1/imports":
            return httpx.Response(200, json={"imports": [progress("done", 4)], "next_before": None})
        if path == "/v1/imports/I1":
            return httpx.Response(200, json=progress(self.import_status, 4 if self.import_status == "done" else 2))
        if path == "/v1/imports/I1/rejected.csv":
            return httpx.Response(200, content="row,reasons,full_name,mobile\r\n3,手机号不正确 (M-02),坏号码,123\r\n"
                                  .encode(), headers={"content-type": "text/csv; charset=utf-8"})
        if path == "/v1/revisits/plan":
            return httpx.Response(200, json={"on": "2026-12-02", "members": [
                {"member_id": "M1", "display_name": "韩*梅", "referrer_staff_id": "S1", "planned": None}],
                "holiday_calls": {"holidays": [], "key_accounts": []},
                "prospects": [{"prospect_id": "P1", "display_name": "王*", "intent": "H", "next_visit": "2026-12-05"}]})
        if path == "/v1/prospects":
            return httpx.Response(201, json={"prospect_id": "P2", "intent": "H", "next_visit": "2026-12-09"})
        if path == "/v1/member-files/M1/revisits":
            return httpx.Response(201, json={"member_id": "M1", "next_date": "2027-12-02"})
        return httpx.Response(404, json={"title": "Not Found"})


@pytest.fixture
async def fake() -> FakeMembers:
    return FakeMembers()


@pytest.fixture
async def client(fake: FakeMembers) -> AsyncIterator[httpx.AsyncClient]:
    up = Upstream({"members": "http://members"}, transport=httpx.MockTransport(fake))
    app = FastAPI()
    app.include_router(stores_http.router(StoreDesk(up), Pages(Desk(up, TokenVerifier(None)),
                                                               Jinja2Templates(directory=TEMPLATES)), 2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)
        yield c


def test_o02_store_desk_screens_mirror_members_matrix() -> None:
    from members.domain.access import MATRIX

    assert SCREENS["handovers"] == MATRIX["handovers.read"]
    assert SCREENS["handover.request"] == MATRIX["handovers.request"]
    assert SCREENS["revisits"] == MATRIX["revisits.plan"] == MATRIX["revisits.log"] == MATRIX["prospects.create"]
    assert SCREENS["imports"] == {Role.HQ_ADMIN}  # members' admin guard (hq_admin)


@pytest.mark.parametrize("role,path", [("auditor", "/handovers"), ("store_manager", "/imports"),
                                       ("hq_cs", "/imports/I1/rejected.csv"), ("hq_admin", "/revisits"),
                                       ("auditor", "/revisits")])
async def test_o02_a_role_without_the_screen_is_refused_before_members_is_asked(
        client: httpx.AsyncClient, fake: FakeMembers, role: str, path: str) -> None:
    client.cookies.set("console_session", token("X1", role))
    r = await client.get(path)
    assert r.status_code == 403 and "O-02" in r.text
    assert fake.seen == []


async def test_m12_list_passes_filters_and_paging_to_members(client: httpx.AsyncClient, fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("HQ1", "hq_cs"))
    r = await client.get("/handovers", params={"state": "confirmed", "store_id": "XA-1", "before": "H7"})
    assert r.status_code == 200
    sent = fake.seen[-1]
    assert sent.headers["authorization"].startswith("Bearer ") and dict(sent.url.params) == {
        "state": "confirmed", "store_id": "XA-1", "before": "H7", "limit": "2"}
    assert 'data-handover="H1"' in r.text and "复核中" in r.text
    assert 'href="/handovers?state=confirmed&amp;store_id=XA-1&amp;before=H1"' in r.text  # next page keeps filters
    assert "data-handover-new" not in r.text  # HQ does not request hand-overs (store leads do)
    assert (await client.get("/handovers", params={"state": "lost"})).status_code == 422


async def test_m12_request_form_names_the_files_and_members_takes_it(client: httpx.AsyncClient,
                                                                    fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("SM1", "store_manager"))
    assert "data-handover-new" in (await client.get("/handovers")).text
    form = {"csrf": CSRF, "from_staff_id": "S1", "to_staff_id": "S2", "type": "same_position", "reason": "离职",
            "member_ids": "M1， M2,M3"}
    r = await client.post("/handovers", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/handovers/H9?done=handover_requested"
    assert json.loads(fake.seen[-1].content) == {"from_staff_id": "S1", "to_staff_id": "S2", "type": "same_position",
                                                 "reason": "离职", "member_ids": ["M1", "M2", "M3"]}
    n = len(fake.seen)
    r = await client.post("/handovers", data=form | {"csrf": "forged"})
    assert r.status_code == 403 and len(fake.seen) == n  # CSRF: members never asked


def test_m12_each_file_shows_its_step_and_who_may_take_it() -> None:
    def steps(role: Role, who: str) -> list[tuple[str, str, bool, bool]]:
        return [(f.member_id, f.step, f.can_recheck, f.can_approve) for f in stores.file_rows(HANDOVER, role, who)]

    assert steps(Role.STAFF, "S2") == [("M1", "rechecked", False, False), ("M2", "to_recheck", True, False),
                                       ("M3", "approved", False, False)]
    assert steps(Role.STAFF, "S1") == [("M1", "rechecked", False, False), ("M2", "to_recheck", False, False),
                                       ("M3", "approved", False, False)]  # only the receiver re-checks
    assert steps(Role.STORE_MANAGER, "SM1") == [("M1", "rechecked", False, True), ("M2", "to_recheck", False, False),
                                                ("M3", "approved", False, False)]
    before = HANDOVER | {"state": "accepted", "files": []}
    assert [f.step for f in stores.file_rows(before, Role.STORE_MANAGER, "SM1")] == ["waiting"] * 3
    assert stores.next_step(before, Role.HQ_CS, "HQ1") == "confirm"
    assert stores.next_step(before | {"state": "hq_approved"}, Role.STAFF, "S2") == "accept"
    assert stores.next_step(before | {"state": "hq_approved"}, Role.STAFF, "S1") is None
    assert stores.next_step(before | {"state": "requested"}, Role.STORE_MANAGER, "SM1") is None
    assert stores.sheet_format("客户.XLSX") == "xlsx" and stores.sheet_format("客户.csv") == "csv"


async def test_m12_file_steps_go_to_members_and_a_refusal_names_the_rule(client: httpx.AsyncClient,
                                                                         fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("SM1", "store_manager"))
    page = (await client.get("/handovers/H1", params={"page": 1})).text
    assert 'data-file="M1" data-step="rechecked"' in page and "data-approve-file" in page and "核对地址" in page
    r = await client.post("/handovers/H1/files/M1/approve", data={"csrf": CSRF, "decision": "reject",
                                                                  "note": "缺工作单位"})
    assert r.status_code == 303 and r.headers["location"] == "/handovers/H1?done=stepped&page=1"
    assert fake.seen[-1].url.path == "/v1/handovers/H1/files/M1/approve"
    assert json.loads(fake.seen[-1].content) == {"decision": "reject", "note": "缺工作单位"}
    client.cookies.set("console_session", token("HQ1", "hq_cs"))
    r = await client.post("/handovers/H1/steps/confirm", data={"csrf": CSRF, "decision": "approve"})
    assert r.status_code == 409 and "M-12" in r.text and "accepted" in r.text
    r = await client.post("/handovers/H1/steps/recheck", data={"csrf": CSRF, "decision": "approve"})
    assert r.status_code == 422  # not a hand-over step


async def test_m19_upload_sends_the_files_bytes_with_the_header_token(client: httpx.AsyncClient,
                                                                      fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("ADM1", "hq_admin"))
    sheet = b"PK\x03\x04 not really a workbook"
    r = await client.post("/imports/upload", params={"store_id": "XA-1", "filename": "老客户.xlsx"}, content=sheet)
    assert r.status_code == 200 and 'data-refusal="403"' in r.text and fake.seen == []  # no token: refused
    r = await client.post("/imports/upload", params={"store_id": "XA-1", "filename": "老客户.xlsx"}, content=sheet,
                          headers={"X-CSRF-Token": CSRF, "Content-Type": "application/octet-stream"})
    assert r.status_code == 204 and r.headers["x-location"] == "/imports/I1"
    sent = fake.seen[-1]
    assert sent.content == sheet and sent.headers["content-type"] == "application/octet-stream"
    assert dict(sent.url.params) == {"store_id": "XA-1", "format": "xlsx", "filename": "老客户.xlsx"}
    page = (await client.get("/imports")).text
    assert 'data-import="I1"' in page and "ADM1" in page and 'id="upload"' in page


async def test_m19_progress_polls_while_running_and_stops_when_done(client: httpx.AsyncClient,
                                                                    fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("ADM1", "hq_admin"))
    running = (await client.get("/imports/I1")).text
    assert 'hx-trigger="every 1s"' in running and 'hx-get="/imports/I1"' in running and "<html" in running
    assert "data-rejected-download" not in running
    fake.import_status = "done"
    done = (await client.get("/imports/I1", headers={"HX-Request": "true"})).text
    assert "<html" not in done and "hx-trigger" not in done and 'data-status="done"' in done
    assert "data-rejected-download" in done
    assert '<dd data-processed>4</dd>' in done


async def test_m19_rejected_rows_download_with_a_bom_for_excel(client: httpx.AsyncClient) -> None:
    client.cookies.set("console_session", token("ADM1", "hq_admin"))
    r = await client.get("/imports/I1/rejected.csv")
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="rejected-I1.csv"'
    assert r.content.startswith("\ufeff".encode()) and "坏号码" in r.content.decode("utf-8-sig")


async def test_m20_revisit_logged_through_members_with_the_plan_paged(client: httpx.AsyncClient,
                                                                      fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("SM1", "store_manager"))
    page = (await client.get("/revisits", params={"on": "2026-12-02"})).text
    assert 'data-due-member="M1"' in page and "韩*梅" in page and "王*" in page
    assert dict(fake.seen[-1].url.params) == {"on": "2026-12-02"}
    r = await client.post("/revisits/M1", data={"csrf": CSRF, "summary": "电话回访，满意", "next_date": "2027-06-01",
                                                "on": "2026-12-02"})
    assert r.status_code == 303 and r.headers["location"] == "/revisits?done=revisit_logged&on=2026-12-02"
    assert json.loads(fake.seen[-1].content) == {"summary": "电话回访，满意", "next_date": "2027-06-01"}
    r = await client.post("/revisits/M1", data={"csrf": CSRF, "summary": "x", "next_date": "tomorrow"})
    assert r.status_code == 422 and "M-20" in r.text


async def test_m20_prospect_added_with_its_intent_level(client: httpx.AsyncClient, fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("S1", "staff"))
    assert "data-add-prospect" in (await client.get("/revisits")).text
    r = await client.post("/revisits/prospects", data={"csrf": CSRF, "full_name": "周敏", "mobile": "13912345678",
                                                       "intent": "H", "note": "婚戒"})
    assert r.status_code == 303 and r.headers["location"] == "/revisits?done=prospect_added&on=2026-12-09"
    assert fake.seen[-1].url.path == "/v1/prospects"
    assert json.loads(fake.seen[-1].content) == {"full_name": "周敏", "mobile": "13912345678", "intent": "H",
                                                 "note": "婚戒"}
    r = await client.post("/revisits/prospects", data={"csrf": CSRF, "full_name": "周敏", "mobile": "13912345678",
                                                       "intent": "HH"})
    assert r.status_code == 422 and len(fake.seen) == 2  # at most one letter: members not asked
