"""The credit screens (issue 12, C-01..C-09): accounts with limits and temporary raises, authorisations,
receivables with due dates, extensions, payments and cheques, write-offs with staff liability, rebates with slips,
coupon batches and sales, the 17:00 tally and the monthly reconciliation. Thin routes: every list is one page of
credit's desk routes (filtered and paged there), every action is credit's (it refuses a role or store that may
not, O-02, and records the operator from the token); the console only hides what a role could never use
(domain/screens.py). The aging report stays in http.py (/reports/aging)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain.credit import (
    NAV,
    PAYMENT_METHODS,
    TABS,
    TIER_ROWS,
    coupon_numbers,
    decision,
    tiers_from_form,
    to_fen,
    yuan,
)
from ..domain.paging import paginate
from ..domain.screens import may
from ..service.credit import CreditDesk
from ..service.desk import Session
from .forms import read_form
from .http import HTML, PageNo, Pages

TabName = Annotated[str, Path(pattern="^(" + "|".join(TABS) + ")$")]
Text = Annotated[str, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]
Id = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9._:@-]*$")]
Flag = Annotated[str, Query(pattern="^(|true|false)$")]
State = Annotated[str, Query(pattern="^(|[a-z_]{1,20})$")]
PeriodQ = Annotated[str, Query(max_length=40, pattern=r"^[0-9/-]*$")]
Done = Annotated[str, Query(pattern="^(|[a-z_]{1,30})$")]
Kind = Annotated[str, Path(pattern="^(raises|extensions|writeoffs|rebates)$")]
PathId = Annotated[Ident, Path()]
MonthQ = Annotated[str, Query(pattern=r"^(|\d{4}-(0[1-9]|1[0-2]))$")]
DayQ = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2199, 12, 31))]
DAY = r"^\d{4}-\d{2}-\d{2}$"


def back_to(back: str, default: str, done: str) -> str:
    """Where an action returns (a credit page only: no open redirect), with what was done."""
    where = back if back.startswith("/credit") and not back.startswith("//") and "\\" not in back else default
    return f"{where}{'&' if '?' in where else '?'}done={done}"


def _day(value: str, field: str, rule: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise Refusal("console", 422, "invalid form", errors=[
            {"field": field, "message": "a date (YYYY-MM-DD)", "rule": rule}]) from None


def _count(value: str, field: str, rule: str) -> int:
    v = value.strip()
    if not v.isdigit() or len(v) > 6:
        raise Refusal("console", 422, "invalid form", errors=[{"field": field, "message": "a whole number",
                                                               "rule": rule}])
    return int(v)


def _choice(value: str, field: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise Refusal("console", 422, "invalid form", errors=[{"field": field, "message": " or ".join(options)}])
    return value


def router(credit: CreditDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def render(request: Request, name: str, s: Session, **ctx: Any) -> HTMLResponse:
        return pages.render(request, name, s, yuan=yuan, tabs=TABS, nav=NAV, methods=PAYMENT_METHODS, **ctx)

    async def act(request: Request, fields: dict[str, int], required: tuple[str, ...],
                  do: Callable[[Session, dict[str, str]], Awaitable[Any]], default: str, done: str,
                  staff_default: str | None = None) -> Response:
        """A credit action from a posted form (CSRF-checked): credit decides and records who; then back (to
        `staff_default` for a role that may not read the `default` list, O-02)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            f = await read_form(request, {**fields, "back": 300}, required)
            await do(s, f)
        except Refusal as e:
            return pages.refused(request, s, e)
        if staff_default and not may(s.who.role, "credit.lists"):
            default = staff_default
        return RedirectResponse(back_to(f["back"], default, done), status_code=303)

    @r.get("/credit", response_class=RedirectResponse)
    async def start() -> Response:
        return RedirectResponse("/credit/accounts", status_code=303)

    @r.get("/credit/accounts/{customer_id}", response_class=HTMLResponse, responses=HTML)
    async def account(request: Request, customer_id: PathId, done: Done = "") -> Response:
        """An account: limits, what is outstanding and available, raises with their decision, authorisations,
        receivables, payments and cheques, and the forms of what this person may do (C-01..C-06)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            data = await credit.account(s, customer_id, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)
        return render(request, "credit_account.html", s, tab="accounts", done=done, back=request.url.path,
                      today=date.today().isoformat(), **data)

    @r.get("/credit/staff", response_class=HTMLResponse, responses=HTML)
    async def staff(request: Request, staff_id: Id = "", page: PageNo = 1) -> Response:
        """A staff member's bad-debt charges and fines (C-06)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        statement = None
        if not staff_id and not may(s.who.role, "credit.lists"):
            staff_id = s.who.staff_id  # staff read their own statement only (C-06, O-02)
        if staff_id:
            try:
                statement = await credit.liabilities(s, staff_id)
            except Refusal as e:
                return pages.refused(request, s, e)
        return render(request, "credit_staff.html", s, tab="staff", staff_id=staff_id, statement=statement,
                      page=paginate(statement["entries"] if statement else [], page, page_size))

    @r.get("/credit/tally", response_class=HTMLResponse, responses=HTML)
    async def tally(request: Request, day: Annotated[date | None, Query(alias="date", ge=date(2000, 1, 1),
                                                                         le=date(2199, 12, 31))] = None,
                    store_id: Id = "", page: PageNo = 1) -> Response:
        """The 17:00 tally of coupon sales of a day (C-09)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        the_day = day or date.today()
        try:
            data = await credit.tally(s, the_day, store_id)
        except Refusal as e:
            return pages.refused(request, s, e)
        return render(request, "credit_tally.html", s, tab="tally", day=the_day, store_id=store_id,
                      page=paginate(data["tally"]["sales"], page, page_size), **data)

    @r.get("/credit/reconciliation", response_class=HTMLResponse, responses=HTML)
    async def reconciliation(request: Request, month: MonthQ = "", done: Done = "") -> Response:
        """The monthly coupon reconciliation with finance (C-08): opening, issued, sold, returned, rebates,
        closing; finance closes a month that is over."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        the_month = month or date.today().strftime("%Y-%m")
        try:
            rec = await credit.reconciliation(s, the_month)
        except Refusal as e:
            return pages.refused(request, s, e)
        return render(request, "credit_reconciliation.html", s, tab="reconciliation", month=the_month, rec=rec,
                      done=done)

    @r.get("/credit/{tab}", response_class=HTMLResponse, responses=HTML)
    async def tab_page(request: Request, tab: TabName, q: Text = "", store_id: Id = "", customer_id: Id = "",
                       status: State = "", cheque_status: State = "", overdue: Flag = "", suspended: Flag = "",
                       open: Flag = "", period: PeriodQ = "", unit: Text = "", receipt_no: Id = "",
                       coupon_no: Id = "", page: PageNo = 1, done: Done = "") -> Response:
        """One page of a credit list, filtered and paged by credit (its `page`, `has_more`)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        given = {"q": q, "store_id": store_id, "customer_id": customer_id, "status": status, "overdue": overdue,
                 "suspended": suspended, "open": open, "period": period, "unit": unit,
                 "cheque_status": cheque_status, "receipt_no": receipt_no, "coupon_no": coupon_no}
        try:
            data = await credit.tab(s, tab, given, page, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)
        kept = {k: v for k, v in given.items() if v and k in TABS[tab].filters}
        query = "".join(f"{k}={quote(v)}&" for k, v in kept.items())
        here = f"/credit/{tab}?{query}page={data['page']}"
        return render(request, f"credit_{tab}.html", s, tab=tab, f=given, data=data, query=query, back=here,
                      done=done, today=date.today().isoformat(), tier_rows=TIER_ROWS)

    # -- actions ------------------------------------------------------------------------------------------------

    @r.post("/credit/accounts/{customer_id}/raises", response_class=HTMLResponse, responses=HTML)
    async def apply_raise(request: Request, customer_id: PathId) -> Response:
        """A written application for a temporary raise with an expiry (C-02); a manager decides."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.apply_raise(s, customer_id, {
                "extra_cases": _count(f["extra_cases"] or "0", "extra_cases", "C-02"),
                "extra_amount": to_fen(f["extra_amount"] or "0", "extra_amount", "C-02"),
                "reason": f["reason"].strip(), "application_ref": f["application_ref"].strip(),
                "expires_at": _day(f["expires_on"], "expires_on", "C-02") + "T23:59:59+08:00"})
        return await act(request, {"extra_cases": 6, "extra_amount": 16, "reason": 500, "application_ref": 64,
                                   "expires_on": 10}, ("reason", "application_ref", "expires_on"), do,
                         f"/credit/accounts/{customer_id}", "raise_requested")

    @r.post("/credit/accounts/{customer_id}/suspension", response_class=HTMLResponse, responses=HTML)
    async def suspension(request: Request, customer_id: PathId) -> Response:
        """Suspend (with a reason) or resume a customer's credit (C-01)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            if _choice(f["action"], "action", ("suspend", "resume")) == "suspend" and not f["reason"].strip():
                raise Refusal("console", 422, "invalid form", errors=[
                    {"field": "reason", "message": "required", "rule": "C-01"}])
            return await credit.suspend(s, customer_id, f["reason"].strip() if f["action"] == "suspend" else None)
        return await act(request, {"action": 10, "reason": 500}, ("action",), do,
                         f"/credit/accounts/{customer_id}", "suspension_changed")

    @r.post("/credit/accounts/{customer_id}/payments", response_class=HTMLResponse, responses=HTML)
    async def pay(request: Request, customer_id: PathId) -> Response:
        """Record a payment, oldest invoice first or to the named one; a cheque stays pending until it clears
        (C-05)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            body: dict[str, Any] = {"method": f["method"], "amount": to_fen(f["amount"], "amount")}
            if f["reference"].strip():
                body["reference"] = f["reference"].strip()
            if f["receivable_id"].strip():
                body["receivable_id"] = f["receivable_id"].strip()
            return await credit.pay(s, customer_id, body)
        return await act(request, {"method": 32, "amount": 16, "reference": 64, "receivable_id": 64},
                         ("method", "amount"), do, f"/credit/accounts/{customer_id}", "payment_recorded")

    @r.post("/credit/payments/{payment_id}", response_class=HTMLResponse, responses=HTML)
    async def cheque(request: Request, payment_id: PathId) -> Response:
        """The bank cleared a pending cheque, or it bounced and reopens what it paid (C-05)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            cleared = _choice(f["action"], "action", ("clear", "bounce")) == "clear"
            return await credit.settle_cheque(s, payment_id, cleared)
        return await act(request, {"action": 10}, ("action",), do, "/credit/payments", "cheque_settled")

    @r.post("/credit/receivables/{receivable_id}/extensions", response_class=HTMLResponse, responses=HTML)
    async def extension(request: Request, receivable_id: PathId) -> Response:
        """Apply for a later due date (C-03); a manager decides."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.apply_extension(s, receivable_id, _day(f["new_due_date"], "new_due_date", "C-03"),
                                                f["reason"].strip())
        return await act(request, {"new_due_date": 10, "reason": 500}, ("new_due_date", "reason"), do,
                         "/credit/extensions", "extension_requested", "/credit/receivables")

    @r.post("/credit/receivables/{receivable_id}/writeoffs", response_class=HTMLResponse, responses=HTML)
    async def writeoff(request: Request, receivable_id: PathId) -> Response:
        """Propose writing off a bad debt (C-06); a manager decides."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.apply_writeoff(s, receivable_id, f["reason"].strip())
        return await act(request, {"reason": 500}, ("reason",), do, "/credit/writeoffs", "writeoff_requested",
                         "/credit/receivables")

    @r.post("/credit/decisions/{kind}/{ident}", response_class=HTMLResponse, responses=HTML)
    async def decide(request: Request, kind: Kind, ident: PathId) -> Response:
        """A manager approves or rejects a raise (C-02), an extension (C-03), a write-off (C-06: charged to the
        responsible staff member, 10% fine to the line leader) or a rebate (C-08: a numbered slip)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.decide(s, kind, ident, decision(f["decision"]))
        return await act(request, {"decision": 10}, ("decision",), do, f"/credit/{kind}", "decided")

    @r.post("/credit/rebate-runs", response_class=HTMLResponse, responses=HTML)
    async def rebate_run(request: Request) -> Response:
        """Compute the rebates of a period (C-08); each waits for a manager."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.run_rebates(s, _day(f["start"], "start", "C-08"), _day(f["end"], "end", "C-08"))
        return await act(request, {"start": 10, "end": 10}, ("start", "end"), do, "/credit/rebates", "rebates_run")

    @r.post("/credit/rebate-slips/{slip_no}/collection", response_class=HTMLResponse, responses=HTML)
    async def collect(request: Request, slip_no: PathId) -> Response:
        """Record that the customer collected a rebate as coupons against its slip (C-08)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.collect(s, slip_no, coupon_numbers(f["coupon_nos"], rule="C-08"),
                                        f["collected_by"].strip())
        return await act(request, {"coupon_nos": 20_000, "collected_by": 40}, ("coupon_nos", "collected_by"), do,
                         "/credit/rebates", "collected")

    @r.post("/credit/coupon-batches", response_class=HTMLResponse, responses=HTML)
    async def draw(request: Request) -> Response:
        """Draw a batch of numbered coupons from finance (C-09)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.draw_batch(s, {
                "prefix": f["prefix"].strip(), "face_value": to_fen(f["face_value"], "face_value", "C-09"),
                "count": _count(f["count"], "count", "C-09"),
                "expires_on": _day(f["expires_on"], "expires_on", "C-09")})
        return await act(request, {"prefix": 16, "face_value": 16, "count": 6, "expires_on": 10},
                         ("prefix", "face_value", "count", "expires_on"), do, "/credit/batches", "batch_drawn")

    @r.post("/credit/coupon-sales", response_class=HTMLResponse, responses=HTML)
    async def sell(request: Request) -> Response:
        """Sell numbered coupons to an organisation (C-09); by cheque they are held until it clears (C-05)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.sell_coupons(s, {
                "store_id": f["store_id"].strip() or (s.who.store_id or ""), "unit": f["unit"].strip(),
                "contact": f["contact"].strip(), "phone": f["phone"].strip(), "payment_method": f["payment_method"],
                "coupon_nos": coupon_numbers(f["coupon_nos"])})
        return await act(request, {"store_id": 32, "unit": 100, "contact": 40, "phone": 20, "payment_method": 32,
                                   "coupon_nos": 20_000}, ("unit", "contact", "phone", "payment_method",
                                                           "coupon_nos"), do, "/credit/coupon_sales", "coupons_sold")

    @r.post("/credit/coupon-sales/{coupon_sale_id}", response_class=HTMLResponse, responses=HTML)
    async def coupon_cheque(request: Request, coupon_sale_id: PathId) -> Response:
        """The cheque paying a coupon sale cleared (coupons released) or bounced (back in stock) (C-05)."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            cleared = _choice(f["action"], "action", ("clear", "bounce")) == "clear"
            return await credit.settle_coupon_cheque(s, coupon_sale_id, cleared)
        return await act(request, {"action": 10}, ("action",), do, "/credit/coupon_sales", "cheque_settled")

    @r.post("/credit/rebate-tiers", response_class=HTMLResponse, responses=HTML)
    async def tiers(request: Request) -> Response:
        """Finance sets a new version of the rebate tiers from a date (C-08); the versions before stay."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            start = f["effective_from"].strip()  # empty: from credit's today (HQ's zone, not this server's)
            return await credit.set_tiers(s, tiers_from_form(f),
                                          _day(start, "effective_from", "C-08") if start else None)
        fields = {f"{k}_{i}": 16 for i in range(1, TIER_ROWS + 1) for k in ("floor", "rate")}
        return await act(request, {**fields, "effective_from": 10}, (), do, "/credit/tiers", "tiers_set")

    @r.post("/credit/reconciliation-closes", response_class=HTMLResponse, responses=HTML)
    async def close(request: Request) -> Response:
        """Finance closes a month that is over (C-08): it keeps its figures."""
        async def do(s: Session, f: dict[str, str]) -> Any:
            return await credit.close_month(s, f["month"].strip())
        return await act(request, {"month": 7}, ("month",), do, "/credit/reconciliation", "month_closed")

    return r
