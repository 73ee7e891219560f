"""R-04 reports of credit as use cases: the aging report (C-07) in JSON, CSV or XLSX; the queries are in
`adapters/reports.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..adapters import reports
from ..domain.aging import DIMENSIONS, OpenItem, aging, to_csv, to_xlsx
from ..domain.rules import AGING_BUCKETS
from .context import Credit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ReportFile:
    """A report as a file to download."""

    content: bytes
    media_type: str
    filename: str


async def open_items(c: Credit, store_id: str | None = None, region: str | None = None,
                     as_of: date | None = None) -> list[OpenItem]:
    """Open receivables; without `as_of` each is aged on today's date in its store's time zone (C-07)."""
    async with c.engine.connect() as conn:
        rows = await reports.open_receivables(conn, c.default_tz, store_id, region)
    today = {tz: c.business_date(tz) for tz in {r.tz for r in rows}}
    return [OpenItem(r.customer_id, r.responsible_staff_id or "", r.store_id, r.region_code or "",
                     r.due_date or r.delivered_at.date(), r.o, as_of or today[r.tz]) for r in rows]


def default_as_of(c: Credit) -> date:
    return c.business_date(c.default_tz)


async def aging_report(c: Credit, as_of: date | None, by: str, fmt: str, store_id: str | None,
                       region: str | None) -> dict[str, Any] | ReportFile:
    """C-07 / R-04: aging per customer, staff, store or region (`store_id`: only that store's invoices). Without
    `as_of`, each invoice is aged on today's date in its store's time zone. CSV: one dimension; XLSX: a sheet per
    dimension."""
    day = as_of or default_as_of(c)
    items = await open_items(c, store_id, region, as_of)
    name = f"aging-{day.isoformat()}"
    if fmt == "csv":
        return ReportFile(to_csv(aging(items, day, by), by).encode(), "text/csv; charset=utf-8",
                          f"{name}-{by}.csv")
    if fmt == "xlsx":
        return ReportFile(to_xlsx({d: aging(items, day, d) for d in DIMENSIONS}, day), XLSX, f"{name}.xlsx")
    rows = aging(items, day, by)
    totals = {k: sum(int(x[k]) for x in rows) for k in (*AGING_BUCKETS, "total")}
    return {"as_of": day, "by": by, "rows": rows, "totals": totals}

