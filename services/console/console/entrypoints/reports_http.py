"""Reports (issue 12): points liability, stored value, movements and KPIs shown as paged tables and downloaded as
CSV (UTF-8 with BOM) or XLSX, every cell neutralised (vipcore.exports); receivables aging stays credit's own
(http.py, /reports/aging). The owning service decides who may read each (O-02)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..adapters.upstream import Upstream
from ..domain import i18n, reports
from ..domain.paging import paginate
from ..service import reports as fetching
from ..service.desk import Session
from .http import HTML, PageNo, Pages

Name = Annotated[str, Path(pattern="^(" + "|".join(reports.REPORTS) + ")$")]
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2200, 12, 31))]
Period = Annotated[str, Query(pattern=r"^(|\d{4}-(0[1-9]|1[0-2]))$")]
StoreId = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]*$")]


def labeller(lang: str) -> Any:
    """A column's label in `lang` (`col.<key>`), or the key itself."""
    t = i18n.translator(lang)

    def label(key: str) -> str:
        text = t("col." + key)
        return key if text.startswith("col.") else text

    return label


def router(up: Upstream, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def window(since: date | None, until: date | None) -> tuple[date, date]:
        today = datetime.now(UTC).date()
        return since or today.replace(day=1), until or today + timedelta(days=1)

    @r.get("/reports", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("reports")  # O-02: plain staff read no report
    async def index(request: Request, s: Session) -> Response:
        """The reports this console offers (those the role's owning services answer), with filters and downloads."""
        return pages.render(request, "reports.html", s, names=reports.REPORTS)

    async def table(s: Session, name: str, since: date | None, until: date | None, period: str,
                    store_id: str) -> tuple[reports.Table, dict[str, str]]:
        """The report's rows from its owning service and the filters used (a refusal: Pages.guarded)."""
        a, b = window(since, until)
        month = period or datetime.now(UTC).strftime("%Y-%m")
        filters = {"since": a.isoformat(), "until": b.isoformat(), "period": month, "store_id": store_id}
        return await fetching.fetch(up, s, name, a, b, month, store_id), filters

    # the download first: "/reports/{name}" would also match "liability.csv"
    @r.get("/reports/{name}.{fmt}", response_class=Response,
           responses={200: {"content": {reports.XLSX: {}, "text/csv": {}}}})
    @pages.guarded()
    async def download(request: Request, s: Session, name: Name, fmt: Annotated[str, Path(pattern="^(csv|xlsx)$")],
                       since: Day = None, until: Day = None, period: Period = "", store_id: StoreId = "") -> Response:
        """The report as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX; text cells never run as formulas."""
        tab, filters = await table(s, name, since, until, period, store_id)
        label = labeller(pages.lang_of(request))
        tail = {"liability": "", "kpi": f"-{filters['period']}"}.get(name, f"-{filters['since']}-{filters['until']}")
        filename = f"{name.replace('_', '-')}{tail}.{fmt}"
        body, ctype = ((reports.to_csv(tab, label), "text/csv; charset=utf-8") if fmt == "csv"
                       else (reports.to_xlsx(tab, label), reports.XLSX))
        return Response(body, media_type=ctype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @r.get("/reports/{name}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def show(request: Request, s: Session, name: Name, since: Day = None, until: Day = None, period: Period = "",
                   store_id: StoreId = "", page: PageNo = 1) -> Response:
        """One report as a paged table, with its filters and the CSV and XLSX of the same rows."""
        tab, filters = await table(s, name, since, until, period, store_id)
        query = "&".join(f"{k}={v}" for k, v in filters.items() if v) + "&"
        return pages.render(request, "report.html", s, report=name, table=tab, filters=filters, query=query,
                            label=labeller(pages.lang_of(request)), page=paginate(tab.rows, page, page_size))

    return r
