"""Dashboard tiles per role (O-02) and their summaries; the report files: CSV in UTF-8 with a BOM (Excel shows
Chinese), XLSX that openpyxl reads back, every text cell neutralised (vipcore.exports)."""

from __future__ import annotations

import csv
import io
import re
import time

import httpx
import jwt
from console.domain import reports
from console.domain.screens import TILES, tiles
from console.entrypoints.reports_http import labeller
from console.service import dashboard
from openpyxl import load_workbook
from vipcore.auth import Role


def test_o02_tiles_mirror_who_the_owning_services_answer() -> None:
    from credit.entrypoints.http import READERS
    from loyalty.bootstrap import STATEMENT_READERS  # noqa: F401 - loyalty's reports stay hq_admin's
    from members.domain.access import MATRIX

    assert TILES["today"] == MATRIX["stats.today"]
    assert TILES["reviews"] == MATRIX["files.review_queue"]
    assert TILES["credit"] == frozenset(READERS)
    assert tiles(Role.HQ_ADMIN) == ["today", "reviews", "liability", "stored_value", "sms", "credit"]
    assert tiles(Role.STORE_MANAGER) == ["today", "credit"]
    assert tiles(Role.STORE_CS_MANAGER) == ["today", "reviews", "credit"]
    assert tiles(Role.AUDITOR) == ["today", "credit"]
    assert tiles(Role.STAFF) == [] and tiles(Role.POS) == []


def test_dashboard_summaries() -> None:
    assert dashboard.today({"since": "x", "stores": [
        {"store_id": "A", "new_members": 2, "member_sales": 3, "member_sales_amount": 500},
        {"store_id": "B", "new_members": 1, "member_sales": 0, "member_sales_amount": 0}]},
        {"since": "x", "stores": []})["new_members"] == 3
    q = dashboard.review_queue({"items": [{"age_hours": 2.5, "overdue": False}, {"age_hours": 13.0, "overdue": True}],
                                "total": 2_000, "overdue": 37})  # the counts are members', over the whole queue
    assert (q["waiting"], q["overdue"], q["oldest_hours"]) == (2_000, 37, 13.0)
    assert dashboard.review_queue({"items": []})["oldest_hours"] == 0.0
    li = dashboard.liability({"program": {"jewelry": {"points": 100, "value": 1}, "generic": {"points": 5,
                                                                                             "value": 0}}})
    assert (li["points"], li["value"]) == (105, 1)
    assert dashboard.sms({"counts": {"sent": 2, "delivered": 3, "undelivered": 1, "parked": 4, "queued": 1}}) == {
        "sent": 5, "failed": 1, "parked": 4, "waiting": 1}
    c = dashboard.credit({"as_of": "2026-12-02", "totals": {"current": 100, "over_90": 30, "total": 250}})
    assert (c["overdue"], c["over_90"]) == (150, 30)
    assert dashboard.stored_value({"outstanding": {"program": {"a": 5, "b": 7}}})["outstanding"] == 12


TAB = reports.Table("kpi", ("staff_id", "position"), [["王丽华", "=HYPERLINK(\"http://x\")"], ["-1+1", 3]])


def test_csv_is_utf8_with_bom_and_chinese_and_neutralised() -> None:
    body = reports.to_csv(TAB, labeller("zh"))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["工号", "岗位"] and rows[1][0] == "王丽华"
    assert rows[1][1].startswith("'=") and rows[2][0] == "'-1+1" and rows[2][1] == "3"
    assert b"\r\n" in body
    assert reports.to_csv(TAB, labeller("en")).decode("utf-8-sig").startswith("Staff ID,Position")


def test_xlsx_opens_in_openpyxl_with_numbers_as_numbers() -> None:
    wb = load_workbook(io.BytesIO(reports.to_xlsx(TAB, labeller("zh"))))
    ws = wb["kpi"]
    assert [c.value for c in ws[1]] == ["工号", "岗位"]
    assert ws["B2"].value.startswith("'=") and ws["A3"].value == "'-1+1" and ws["B3"].value == 3


def test_reports_are_tables_of_the_owning_services_answers() -> None:
    li = reports.liability({"program": {"jewelry": {"points": 1200, "value": 1200}},
                            "store": {"XA-1": {"points": 1200, "value": 1200}}, "region": {}})
    assert li.rows == [["program", "jewelry", 1200, 12.0], ["store", "XA-1", 1200, 12.0]]
    mv = reports.movements({"programs": {"jewelry": {"earn": {"entries": 2, "points": 700}}}})
    assert mv.rows == [["jewelry", "earn", 2, 700]]
    sv = reports.stored_value({"outstanding": {"program": {"j": 1000}, "store": {}, "region": {}}, "programs": {
        "j": {"opening": 0, "top_ups": 1000, "bonus": 0, "spend": 0, "refunds": 0, "closing": 1000,
              "reconciled": True}}})
    assert sv.rows[0][:4] == ["outstanding", "program", "j", 10.0] and sv.rows[1][-1] == 10.0
    k = reports.kpi({"staff": [{"staff_id": "K1", "position": "rep", "month_in_position": 2, "target": 4,
                                "held": 3, "lost_this_month": 1, "met": False, "short_by": 1}]})
    assert k.rows == [["K1", "rep", 2, 4, 3, 1, False, 1]]


class _Chain:
    """Owning services behind a mock transport: the gateway and notify are down (no answer), credit refuses."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if host in ("gateway", "notify"):
            raise httpx.ConnectError("connection refused", request=request)
        if host == "credit":
            return httpx.Response(403, json={"title": "Forbidden", "errors": [
                {"field": "role", "message": "not a reader", "rule": "O-02"}]})
        answers = {
            "/v1/stats/today": {"since": "x", "stores": [
                {"store_id": "XA-1", "new_members": 4, "member_sales": 2, "member_sales_amount": 5000}]},
            "/v1/review-queue": {"items": [], "total": 0, "overdue": 0},
            "/v1/reports/liability": {"program": {"jewelry": {"points": 700, "value": 700}}},
            "/v1/reports/stored-value": {"outstanding": {"program": {"jewelry": 1200}}}}
        return httpx.Response(200, json=answers[path])


async def test_a_service_that_does_not_answer_leaves_its_tile_unavailable_and_the_others_render() -> None:
    """The gateway down: the today tile keeps members' figures, its sales shown as unavailable naming the gateway
    (as the ops page shows a stopped service), not a refusal; notify down: the SMS tile unavailable; a refusal
    (credit, O-02) is still a refusal; the other tiles render."""
    from console.adapters.upstream import Upstream
    from console.bootstrap import HERE
    from console.entrypoints import dashboard_http
    from console.entrypoints.http import Pages
    from console.service.desk import Desk
    from fastapi import FastAPI
    from fastapi.templating import Jinja2Templates
    from vipcore.auth import TokenVerifier

    up = Upstream({s: f"http://{s}" for s in ("members", "gateway", "loyalty", "notify", "credit")},
                  transport=httpx.MockTransport(_Chain()))
    app = FastAPI()
    app.include_router(dashboard_http.router(up, Pages(Desk(up, TokenVerifier(None)),
                                                       Jinja2Templates(directory=HERE / "templates"))))
    tok = jwt.encode({"sub": "HQ-1", "role": "hq_admin", "exp": int(time.time()) + 600}, "k" * 32,
                     algorithm="HS256")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_session", tok)
        r = await c.get("/dashboard")
    assert r.status_code == 200, r.text
    tile = {m.group(1): m.group(2) for m in re.finditer(r'data-tile="(\w+)">(.*?)</section>', r.text, re.S)}
    assert set(tile) == {"today", "reviews", "liability", "stored_value", "sms", "credit"}
    today = tile["today"]
    assert 'data-unavailable="gateway"' in today and "暂不可用" in today and "data-refusal" not in today
    assert '<span data-figure="new_members">4</span>' in today and '<tr data-store="XA-1">' in today
    assert '<span class="muted" data-figure="sales">—</span>' in today and "data-figure=\"sales_amount\"" not in today
    assert 'data-unavailable="notify"' in tile["sms"] and "data-refusal" not in tile["sms"]
    assert 'data-refusal="403"' in tile["credit"] and "data-unavailable" not in tile["credit"]
    assert '<span data-figure="points">700</span>' in tile["liability"] and "data-unavailable" not in tile["liability"]
    assert "12.00" in tile["stored_value"]
