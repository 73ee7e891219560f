"""Credit HTTP API: staff routes (staff tokens, O-02), internal routes for the gateway and admin tools."""

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import FieldError, Problem

from ..adapters.tables import limit_raises, receivables
from ..domain.aging import DIMENSIONS, aging, to_csv, to_xlsx
from ..service import accounts as acc
from ..service import authorizations as auth
from ..service import daily, payments, reports, writeoffs
from ..service.context import Credit
from . import models as m

OFFICE = (Role.HQ_ADMIN, Role.HQ_CS, Role.STORE_MANAGER, Role.STORE_CS_MANAGER)
STAFF = (*OFFICE, Role.STAFF)
APPROVERS = (Role.HQ_ADMIN, Role.STORE_MANAGER)  # C-02/C-03/C-06: "approved by a manager"
READERS = (*OFFICE, Role.AUDITOR)
STORE_SCOPED = (Role.STORE_MANAGER, Role.STORE_CS_MANAGER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def staff_router(c: Credit, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["credit"])
    Office = Annotated[Principal, Depends(require(verifier, *OFFICE))]
    Staff = Annotated[Principal, Depends(require(verifier, *STAFF))]
    Approver = Annotated[Principal, Depends(require(verifier, *APPROVERS))]
    Reader = Annotated[Principal, Depends(require(verifier, *READERS, Role.STAFF))]

    @r.post("/accounts", status_code=201)
    async def open_account(body: m.AccountIn, p: Office) -> dict[str, Any]:
        """Open credit for an organisation or individual (C-01), case limit by class (C-02)."""
        return await acc.create_account(c, body.model_dump(), p.staff_id)

    @r.get("/accounts/{customer_id}")
    async def get_account(customer_id: str, p: Reader) -> dict[str, Any]:
        """A credit account with its effective limits, what is outstanding and what is available."""
        return await acc.account_view(c, customer_id)

    @r.post("/accounts/{customer_id}/raises", status_code=201)
    async def apply_for_raise(customer_id: str, body: m.RaiseIn, p: Staff) -> dict[str, Any]:
        """Written application for a temporary raise with an expiry (C-02); waits for a manager."""
        return await acc.request_raise(c, customer_id, body.model_dump(), p.staff_id)

    @r.post("/raises/{raise_id}/decision")
    async def decide_raise(raise_id: str, body: m.DecisionIn, p: Approver) -> dict[str, Any]:
        """A manager approves or rejects a raise (C-02)."""
        return await acc.decide(c, limit_raises, "raise_id", raise_id, body.approve, p.staff_id)

    @r.post("/accounts/{customer_id}/suspension")
    async def suspend(customer_id: str, body: m.SuspendIn, p: Approver) -> dict[str, Any]:
        """Suspend a customer's credit (C-01: credit only with a good record)."""
        await acc.set_suspended(c, customer_id, True, body.reason)
        return {"customer_id": customer_id, "suspended": True}

    @r.delete("/accounts/{customer_id}/suspension")
    async def resume(customer_id: str, p: Approver) -> dict[str, Any]:
        """Lift a suspension."""
        await acc.set_suspended(c, customer_id, False, None)
        return {"customer_id": customer_id, "suspended": False}

    @r.post("/accounts/{customer_id}/payments", status_code=201)
    async def pay(customer_id: str, body: m.PaymentIn, p: Staff) -> dict[str, Any]:
        """Record a payment (C-05), allocated oldest-first or to the named invoice."""
        return await payments.record_payment(c, customer_id, body.model_dump(), p.staff_id)

    @r.post("/payments/{payment_id}/clearing")
    async def cheque_cleared(payment_id: str, p: Approver) -> dict[str, Any]:
        """The bank cleared a pending cheque (C-05)."""
        return await payments.settle_cheque(c, payment_id, True)

    @r.post("/payments/{payment_id}/bounce")
    async def cheque_bounced(payment_id: str, p: Approver) -> dict[str, Any]:
        """A pending cheque bounced: the invoices it paid are open again (C-05)."""
        return await payments.settle_cheque(c, payment_id, False)

    @r.post("/receivables/{receivable_id}/extensions", status_code=201)
    async def apply_for_extension(receivable_id: str, body: m.ExtensionIn, p: Staff) -> dict[str, Any]:
        """Application for a later due date (C-03)."""
        return await payments.request_extension(c, receivable_id, body.new_due_date, body.reason, p.staff_id)

    @r.post("/extensions/{extension_id}/decision")
    async def decide_extension(extension_id: str, body: m.DecisionIn, p: Approver) -> dict[str, Any]:
        """A manager approves or rejects an extension (C-03)."""
        return await payments.decide_extension(c, extension_id, body.approve, p.staff_id)

    @r.post("/receivables/{receivable_id}/writeoffs", status_code=201)
    async def apply_for_writeoff(receivable_id: str, body: m.WriteoffIn, p: Staff) -> dict[str, Any]:
        """Propose writing off a bad debt (C-06)."""
        return await writeoffs.request_writeoff(c, receivable_id, body.reason, p.staff_id)

    @r.post("/writeoffs/{writeoff_id}/decision")
    async def decide_writeoff(writeoff_id: str, body: m.DecisionIn, p: Approver) -> dict[str, Any]:
        """Approve a write-off: 100% charged to the responsible staff member, 10% fine to the line leader (C-06)."""
        return await writeoffs.decide_writeoff(c, writeoff_id, body.approve, p.staff_id)

    @r.get("/staff/{staff_id}/liabilities")
    async def liabilities(staff_id: str, p: Reader) -> dict[str, Any]:
        """A staff member's bad-debt charges and fines (C-06); staff see only their own."""
        if p.role == Role.STAFF and p.staff_id != staff_id:
            raise Problem(403, "Forbidden", "staff see only their own statement",
                          [FieldError("staff_id", "not your statement", "O-02")])
        return await writeoffs.staff_statement(c, staff_id)

    @r.get("/reports/aging", response_model=None)
    async def aging_report(p: Annotated[Principal, Depends(require(verifier, *READERS))],
                           as_of: date | None = None,
                           by: Annotated[str, Query(pattern="^(customer|staff|store|region)$")] = "customer",
                           format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
                           region: str | None = None) -> dict[str, Any] | Response:
        """Aging (C-07, R-04) per customer, staff, store or region; store roles see their own store. Without
        `as_of`, each invoice is aged on today's date in its store's time zone."""
        day = as_of or reports.default_as_of(c)
        items = await reports.open_items(c, (p.store_id or "-") if p.role in STORE_SCOPED else None, region, as_of)
        name = f"aging-{day.isoformat()}"
        if format == "csv":
            return Response(to_csv(aging(items, day, by), by), media_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}-{by}.csv"'})
        if format == "xlsx":
            return Response(to_xlsx({d: aging(items, day, d) for d in DIMENSIONS}, day), media_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
        rows = aging(items, day, by)
        totals = {k: sum(int(x[k]) for x in rows) for k in ("current", "d1_30", "d31_60", "d61_90", "over_90",
                                                             "total")}
        return {"as_of": day.isoformat(), "by": by, "rows": rows, "totals": totals}

    return r


def internal_router(c: Credit, guard: Any) -> APIRouter:
    """Service-to-service (the gateway) and admin tools, with the admin token."""
    r = APIRouter(tags=["internal"], dependencies=[Depends(guard)])

    @r.post("/internal/authorizations", status_code=201)
    async def authorize(body: m.AuthorizationIn) -> dict[str, Any]:
        """C-04: hold against the limit, or 422 with the rule (C-02 limit, C-04 overdue)."""
        return await auth.request_authorization(c, body.store_id, body.customer_id, body.cases, body.amount,
                                                body.responsible_staff_id)

    @r.get("/internal/authorizations/{authorization_id}")
    async def get_authorization(authorization_id: str) -> dict[str, Any]:
        """One authorisation and its state (held, captured, released)."""
        return await auth.get_authorization(c, authorization_id)

    @r.post("/admin/daily-runs")
    async def daily_run(body: m.DailyRunIn) -> dict[str, Any]:
        """Run the credit day for a date (overdue detection, reminders, cheque clearing); idempotent per date and
        time zone (C-07)."""
        return await daily.run_daily(c, body.date, body.timezone)

    @r.post("/admin/authorizations/expiry")
    async def release_expired(body: m.ReleaseIn) -> dict[str, int]:
        """Release holds past their expiry (as of now or the given time)."""
        return {"released": await auth.release_expired(c, body.as_of)}

    @r.get("/v1/receivables")
    async def list_receivables(customer_id: str | None = None, limit: int = 100) -> dict[str, Any]:
        """Receivables, newest first, optionally of one customer."""
        q = sa.select(receivables).order_by(receivables.c.created_at.desc()).limit(min(max(limit, 1), 1000))
        if customer_id:
            q = q.where(receivables.c.customer_id == customer_id)
        async with c.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return {"receivables": [dict(x) for x in rows]}

    return r
