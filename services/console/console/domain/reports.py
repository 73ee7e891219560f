"""The reports the console downloads (issue 12): liability, stored value, movements, aging and KPIs, each made a
plain table out of its owning service's answer, then written as CSV (UTF-8 with a byte-order mark, so Excel shows
Chinese) or XLSX. Every cell goes through vipcore.exports: text that a spreadsheet would run as a formula is written
as text. Pure: no I/O. (Receivables aging is downloaded as credit makes it: /reports/aging.xlsx|csv.)"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from vipcore.exports import csv_text, xlsx_append

BOM = "\ufeff"
REPORTS = ("liability", "stored_value", "movements", "kpi")  # aging: credit makes its own files (C-07)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    """A report as rows: header keys (labels in the user's language at writing time) and cell values."""

    name: str
    header: tuple[str, ...]
    rows: list[list[Any]]


def yuan(fen: int | None) -> float | None:
    return None if fen is None else round(int(fen) / 100, 2)


def liability(ans: dict[str, Any]) -> Table:
    """Outstanding points and their money value per program, store and region (loyalty, R-03)."""
    rows = [[scope, key, int(v["points"]), yuan(v["value"])]
            for scope in ("program", "store", "region") for key, v in sorted(ans[scope].items())]
    return Table("liability", ("scope", "key", "points", "value_yuan"), rows)


def stored_value(ans: dict[str, Any]) -> Table:
    """Stored value owed per program, store and region, and each program's period reconciled (loyalty, L-11).
    `imported_yuan`: prepaid balances brought in by member imports in the period (M-19) — owed, no top-up."""
    rows: list[list[Any]] = [["outstanding", scope, key, yuan(v), None, None, None, None, None, None, None]
                             for scope in ("program", "store", "region")
                             for key, v in sorted(ans["outstanding"][scope].items())]
    for pid, m in sorted(ans["programs"].items()):
        rows.append(["period", "program", pid, None, yuan(m["opening"]), yuan(m["top_ups"]), yuan(m["bonus"]),
                     yuan(m.get("imported", 0)), yuan(m["spend"]), yuan(m["refunds"]), yuan(m["closing"])])
    return Table("stored_value", ("part", "scope", "key", "outstanding_yuan", "opening_yuan", "top_ups_yuan",
                                  "bonus_yuan", "imported_yuan", "spend_yuan", "refunds_yuan", "closing_yuan"), rows)


def movements(ans: dict[str, Any]) -> Table:
    """Points earned, reversed, redeemed, expired and adjusted per program in the period (loyalty, R-03)."""
    rows = [[pid, kind, int(v["entries"]), int(v["points"])]
            for pid, kinds in sorted(ans["programs"].items()) for kind, v in sorted(kinds.items())]
    return Table("movements", ("program", "kind", "entries", "points"), rows)


def kpi(ans: dict[str, Any]) -> Table:
    """Members held per staff member against their target, and members lost in the month (members, M-21)."""
    rows = [[s["staff_id"], s["position"], s["month_in_position"], s["target"], s["held"], s["lost_this_month"],
             s["met"], s["short_by"]] for s in ans["staff"]]
    return Table("kpi", ("staff_id", "position", "month_in_position", "target", "held", "lost_this_month", "met",
                         "short_by"), rows)


def to_csv(table: Table, label: Callable[[str], str]) -> bytes:
    """CSV, UTF-8 with a BOM (Excel then reads Chinese right), CRLF rows; every cell neutralised."""
    return (BOM + csv_text([label(h) for h in table.header], table.rows, lineterminator="\r\n")).encode("utf-8")


def to_xlsx(table: Table, label: Callable[[str], str]) -> bytes:
    """A workbook of one sheet named after the report; numbers stay numbers, text cells neutralised."""
    wb = Workbook()
    ws = wb.active
    ws.title = table.name
    xlsx_append(ws, [label(h) for h in table.header])
    for row in table.rows:
        xlsx_append(ws, row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
