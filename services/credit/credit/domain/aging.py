"""C-07 / R-04: aging of open receivables — current, 1-30, 31-60, 61-90, > 90 days overdue — per customer,
responsible staff member, store and region."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from vipcore.exports import csv_text, xlsx_append

from .rules import AGING_BUCKETS, aging_bucket

DIMENSIONS = ("customer", "staff", "store", "region")


@dataclass(frozen=True)
class OpenItem:
    customer: str
    staff: str
    store: str
    region: str
    due: date
    outstanding: int
    as_of: date | None = None  # the store's own business date; None: the report's date


def aging(items: Iterable[OpenItem], as_of: date, by: str) -> list[dict[str, int | str]]:
    """One row per key of dimension `by`, with fen per bucket and the total, sorted by key."""
    rows: dict[str, dict[str, int | str]] = {}
    for it in items:
        key = getattr(it, by)
        row = rows.setdefault(key, {by: key, **dict.fromkeys(AGING_BUCKETS, 0), "total": 0})
        b = aging_bucket(it.due, it.as_of or as_of)
        row[b] = int(row[b]) + it.outstanding
        row["total"] = int(row["total"]) + it.outstanding
    return [rows[k] for k in sorted(rows)]


def to_csv(rows: list[dict[str, int | str]], by: str) -> str:
    """Cells that would start a formula are written as text (vipcore.exports)."""
    cols = [by, *AGING_BUCKETS, "total"]
    return csv_text(cols, ([r[c] for c in cols] for r in rows))


def to_xlsx(reports: dict[str, list[dict[str, int | str]]], as_of: date) -> bytes:
    """One sheet per dimension; amounts in yuan with two decimals (fen / 100 shown, fen kept exact)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for by, rows in reports.items():
        ws = wb.create_sheet(by)
        xlsx_append(ws, [f"aging as of {as_of.isoformat()} (fen)"])
        xlsx_append(ws, [by, *AGING_BUCKETS, "total"])
        for r in rows:  # a customer's name is anyone's text: never a live formula (vipcore.exports)
            xlsx_append(ws, [r[by], *(r[b] for b in AGING_BUCKETS), r["total"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
