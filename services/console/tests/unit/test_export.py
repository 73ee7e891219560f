"""The member-file export screen (issue 12; M-07) against a fake members: shown to the roles holding files.export
(O-02, refused before members is asked), the form sent to members with the staff member's token and without empty
filters, the progress fragment that polls every second while the job runs and stops with the download once done,
the CSV streamed through as members made it, a refusal shown with its rule, this person's exports listed and
paged at members."""

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
from console.domain.screens import SCREENS, menu
from console.entrypoints import export_http
from console.entrypoints.http import Pages
from console.service.desk import Desk
from console.service.export import ExportDesk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import Role, TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
CSRF = "form-token-of-this-browser"
CSV = "\ufeffmember_id,store_id,full_name\r\nM1,XA-1,韩*梅\r\n".encode()


def token(staff_id: str, role: str, store_id: str = "XA-1") -> str:
    return jwt.encode({"sub": staff_id, "role": role, "store": store_id, "exp": int(time.time()) + 600},
                      "k" * 32, algorithm="HS256")


def job(state: str, done: int) -> dict[str, Any]:
    return {"export_id": "E1", "state": state, "total": 4, "done": done, "percent": 25.0 * done,
            "started_by": "SM1", "role": "store_manager", "reason": "季度回访名单",
            "filters": {"store_id": "XA-1", "status": None, "registered_from": "2026-01-01", "registered_to": None,
                        "tz": "Asia/Shanghai"},
            "error": "interrupted: no progress for 120 s" if state == "failed" else None,
            "started_at": "2026-12-01T08:00:00+00:00", "finished_at": None, "expires_at": "2026-12-08T08:00:00+00:00",
            "seconds": 1.5, "file": "/v1/member-file-exports/E1/file" if state == "done" else None}


class FakeMembers:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.state = "running"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path, method = request.url.path, request.method
        if path == "/v1/member-file-exports" and method == "POST":
            if json.loads(request.content).get("store_id") == "XA-2":
                return httpx.Response(403, json={"title": "Forbidden", "errors": [
                    {"field": "store_id", "rule": "M-07", "message": "a store manager exports only store XA-1"}]})
            return httpx.Response(202, json=job("running", 0))
        if path == "/v1/member-file-exports":
            return httpx.Response(200, json={"exports": [job("done", 4), job("failed", 1) | {"export_id": "E0"}],
                                             "next_before": "E0"})
        if path == "/v1/member-file-exports/E1":
            return httpx.Response(200, json=job(self.state, 4 if self.state == "done" else 2))
        if path == "/v1/member-file-exports/E1/file":
            return httpx.Response(200, content=CSV, headers={
                "content-type": "text/csv; charset=utf-8",
                "content-disposition": 'attachment; filename="member-files-E1.csv"'})
        return httpx.Response(404, json={"title": "Not Found"})


@pytest.fixture
async def fake() -> FakeMembers:
    return FakeMembers()


@pytest.fixture
async def client(fake: FakeMembers) -> AsyncIterator[httpx.AsyncClient]:
    up = Upstream({"members": "http://members"}, transport=httpx.MockTransport(fake))
    app = FastAPI()
    app.include_router(export_http.router(ExportDesk(up), Pages(Desk(up, TokenVerifier(None)),
                                                                Jinja2Templates(directory=TEMPLATES)), 2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)
        yield c


def test_o02_export_screen_mirrors_members_files_export_and_is_in_the_menu() -> None:
    from members.domain.access import MATRIX

    assert SCREENS["exports"] == MATRIX["files.export"]
    assert "exports" in menu(Role.HQ_ADMIN) and "exports" in menu(Role.STORE_MANAGER)
    assert "exports" not in menu(Role.STAFF) and "exports" not in menu(Role.HQ_CS)


@pytest.mark.parametrize("role", ["staff", "store_cs_manager", "hq_cs", "auditor"])
async def test_o02_a_role_without_files_export_is_refused_before_members_is_asked(
        client: httpx.AsyncClient, fake: FakeMembers, role: str) -> None:
    client.cookies.set("console_session", token("X1", role))
    for r in (await client.get("/exports"), await client.get("/exports/E1"), await client.get("/exports/E1/file"),
              await client.post("/exports", data={"csrf": CSRF, "reason": "x"})):
        assert r.status_code == 403 and "O-02" in r.text
    assert fake.seen == []


async def test_m07_start_sends_the_filters_given_and_the_reason_with_the_staff_token(
        client: httpx.AsyncClient, fake: FakeMembers) -> None:
    tok = token("SM1", "store_manager")  # minted once: its issue time is part of it
    client.cookies.set("console_session", tok)
    page = (await client.get("/exports")).text
    assert "data-export-form" in page and "data-own-store" in page and 'name="store_id"' not in page  # HQ's field
    assert "导出会员档案" in page and "季度回访名单" in page and 'data-export="E1"' in page
    r = await client.post("/exports", data={"csrf": CSRF, "store_id": "", "status": "active",
                                            "registered_from": "2026-01-01", "registered_to": "", "reason": " 回访 "})
    assert r.status_code == 303 and r.headers["location"] == "/exports/E1"
    sent = fake.seen[-1]
    assert (sent.method, sent.url.path) == ("POST", "/v1/member-file-exports")
    assert sent.headers["authorization"] == f"Bearer {tok}"
    assert json.loads(sent.content) == {"status": "active", "registered_from": "2026-01-01", "reason": "回访"}
    n = len(fake.seen)
    r = await client.post("/exports", data={"csrf": CSRF, "reason": ""})
    assert r.status_code == 422 and len(fake.seen) == n  # the reason is required (M-07 logs it)
    r = await client.post("/exports", data={"csrf": "forged", "reason": "x"})
    assert r.status_code == 403 and len(fake.seen) == n  # CSRF: members never asked
    # members' refusal shown with its field and rule
    r = await client.post("/exports", data={"csrf": CSRF, "store_id": "XA-2", "reason": "x"})
    assert r.status_code == 403 and "M-07" in r.text and "store_id" in r.text


async def test_m07_list_is_this_persons_exports_paged_at_members(client: httpx.AsyncClient,
                                                                 fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("ADM1", "hq_admin", "HQ"))
    page = (await client.get("/exports", params={"state": "done", "before": "E5"})).text
    assert 'name="store_id"' in page  # HQ names a store, or exports every store
    assert dict(fake.seen[-1].url.params) == {"started_by": "ADM1", "state": "done", "before": "E5", "limit": "2"}
    assert 'href="/exports?state=done&amp;before=E0"' in page and "data-next" in page
    assert 'href="/exports/E1/file"' in page and 'data-state="failed"' in page


async def test_progress_polls_every_second_while_running_then_offers_the_download(
        client: httpx.AsyncClient, fake: FakeMembers) -> None:
    client.cookies.set("console_session", token("SM1", "store_manager"))
    page = (await client.get("/exports/E1")).text
    assert 'hx-trigger="every 1s"' in page and 'data-state="running"' in page and "data-download" not in page
    assert "<html" in page.lower()
    fragment = (await client.get("/exports/E1", headers={"HX-Request": "true"})).text
    assert "<html" not in fragment.lower() and 'hx-trigger="every 1s"' in fragment and "2</span> / <span" in fragment
    fake.state = "done"
    fragment = (await client.get("/exports/E1", headers={"HX-Request": "true"})).text
    assert "hx-trigger" not in fragment and 'href="/exports/E1/file"' in fragment and "data-download" in fragment
    fake.state = "failed"
    fragment = (await client.get("/exports/E1", headers={"HX-Request": "true"})).text
    assert "hx-trigger" not in fragment and "interrupted" in fragment and "data-download" not in fragment


async def test_m07_the_file_is_streamed_as_members_made_it(client: httpx.AsyncClient, fake: FakeMembers) -> None:
    tok = token("SM1", "store_manager")
    client.cookies.set("console_session", tok)
    r = await client.get("/exports/E1/file")
    assert r.status_code == 200 and r.content == CSV and r.content.decode("utf-8-sig").count("韩*梅") == 1
    assert r.headers["content-disposition"] == 'attachment; filename="member-files-E1.csv"'
    assert r.headers["content-type"].startswith("text/csv")
    assert fake.seen[-1].headers["authorization"] == f"Bearer {tok}"
    r = await client.get("/exports/E9/file")
    assert r.status_code == 404  # members' answer, shown as the page's refusal
