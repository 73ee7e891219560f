"""Dashboard tiles per role (O-02) and their summaries; the report files: CSV in UTF-8 with a BOM (Excel shows
Chinese), XLSX that openpyxl reads back, every text cell neutralised (vipcore.exports)."""

from __future__ import annotations

import csv
import io

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
