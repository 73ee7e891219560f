"""Credit HTTP API: staff routes (staff tokens, O-02), internal routes for the gateway and admin tools. Thin
routes: each validates its input (schemas.py), calls one use case and answers its response model."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..adapters.tables import limit_raises
from ..service import accounts as acc
from ..service import authorizations as auth
from ..service import daily, payments, reports, writeoffs
from ..service.context import Credit
from ..service.tenancy import reach, reach_store, report_scope
from . import schemas as s

OFFICE = (Role.HQ_ADMIN, Role.HQ_CS, Role.STORE_MANAGER, Role.STORE_CS_MANAGER)
STAFF = (*OFFICE, Role.STAFF)
APPROVERS = (Role.HQ_ADMIN, Role.STORE_MANAGER)  # C-02/C-03/C-06: "approved by a manager"
READERS = (*OFFICE, Role.AUDITOR)
STORE_SCOPED = (Role.STORE_MANAGER, Role.STORE_CS_MANAGER)
XLSX = reports.XLSX

CustomerId = Annotated[Ident, Path(description="the credit customer's id")]
PathId = Annotated[Ident, Path()]

AGING_FILES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}}},
    "description": "the aging report: JSON, or a file with `format=csv|xlsx`"}}


def staff_router(c: Credit, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["credit"], responses=PROBLEM_RESPONSES)
    Office = Annotated[Principal, Depends(require(verifier, *OFFICE))]
    Staff = Annotated[Principal, Depends(require(verifier, *STAFF))]
    Approver = Annotated[Principal, Depends(require(verifier, *APPROVERS))]
    Reader = Annotated[Principal, Depends(require(verifier, *READERS, Role.STAFF))]

    @r.post("/accounts", status_code=201)
    async def open_account(body: s.AccountIn, p: Office) -> s.AccountOut:
        """Open credit (C-01) with the class's case limit (C-02); store roles for their own store (O-02)."""
        await reach_store(c, p, body.store_id)
        return s.AccountOut(**await acc.create_account(c, body.model_dump(), p.staff_id))

    @r.get("/accounts/{customer_id}")
    async def get_account(customer_id: CustomerId, p: Reader) -> s.AccountView:
        """A credit account with its effective limits, what is outstanding and what is available (O-02: in scope)."""
        await reach(c, p, "account", customer_id)
        return s.AccountView(**await acc.account_view(c, customer_id))

    @r.post("/accounts/{customer_id}/raises", status_code=201)
    async def apply_for_raise(customer_id: CustomerId, body: s.RaiseIn, p: Staff) -> s.RaiseOut:
        """Written application for a temporary raise with an expiry (C-02); waits for a manager."""
        await reach(c, p, "account", customer_id)
        return s.RaiseOut(**await acc.request_raise(c, customer_id, body.model_dump(), p.staff_id))

    @r.post("/raises/{raise_id}/decision")
    async def decide_raise(raise_id: PathId, body: s.DecisionIn, p: Approver) -> s.RaiseDecisionOut:
        """A manager approves or rejects a raise (C-02) of a customer in their scope (O-02)."""
        await reach(c, p, "raise", raise_id)
        return s.RaiseDecisionOut(**await acc.decide(c, limit_raises, "raise_id", raise_id, body.approve,
                                                     p.staff_id))

    @r.post("/accounts/{customer_id}/suspension")
    async def suspend(customer_id: CustomerId, body: s.SuspendIn, p: Approver) -> s.SuspensionOut:
        """Suspend a customer's credit (C-01: credit only with a good record)."""
        await reach(c, p, "account", customer_id)
        await acc.set_suspended(c, customer_id, True, body.reason, p.staff_id)
        return s.SuspensionOut(customer_id=customer_id, suspended=True)

    @r.delete("/accounts/{customer_id}/suspension")
    async def resume(customer_id: CustomerId, p: Approver) -> s.SuspensionOut:
        """Lift a suspension (C-01)."""
        await reach(c, p, "account", customer_id)
        await acc.set_suspended(c, customer_id, False, None, p.staff_id)
        return s.SuspensionOut(customer_id=customer_id, suspended=False)

    @r.post("/accounts/{customer_id}/payments", status_code=201)
    async def pay(customer_id: CustomerId, body: s.PaymentIn, p: Staff) -> s.PaymentOut:
        """Record a payment (C-05), allocated oldest-first or to the named invoice."""
        await reach(c, p, "account", customer_id)
        return s.PaymentOut(**await payments.record_payment(c, customer_id, body.model_dump(), p.staff_id))

    @r.post("/payments/{payment_id}/clearing")
    async def cheque_cleared(payment_id: PathId, p: Approver) -> s.ChequeOut:
        """The bank cleared a pending cheque (C-05)."""
        await reach(c, p, "payment", payment_id)
        return s.ChequeOut(**await payments.settle_cheque(c, payment_id, True, p.staff_id))

    @r.post("/payments/{payment_id}/bounce")
    async def cheque_bounced(payment_id: PathId, p: Approver) -> s.ChequeOut:
        """A pending cheque bounced: the invoices it paid are open again (C-05)."""
        await reach(c, p, "payment", payment_id)
        return s.ChequeOut(**await payments.settle_cheque(c, payment_id, False, p.staff_id))

    @r.post("/receivables/{receivable_id}/extensions", status_code=201)
    async def apply_for_extension(receivable_id: PathId, body: s.ExtensionIn, p: Staff) -> s.ExtensionOut:
        """Application for a later due date (C-03)."""
        await reach(c, p, "receivable", receivable_id)
        return s.ExtensionOut(**await payments.request_extension(c, receivable_id, body.new_due_date, body.reason,
                                                                 p.staff_id))

    @r.post("/extensions/{extension_id}/decision")
    async def decide_extension(extension_id: PathId, body: s.DecisionIn, p: Approver) -> s.ExtensionDecisionOut:
        """A manager approves or rejects an extension (C-03)."""
        await reach(c, p, "extension", extension_id)
        return s.ExtensionDecisionOut(**await payments.decide_extension(c, extension_id, body.approve, p.staff_id))

    @r.post("/receivables/{receivable_id}/writeoffs", status_code=201)
    async def apply_for_writeoff(receivable_id: PathId, body: s.WriteoffIn, p: Staff) -> s.WriteoffOut:
        """Propose writing off a bad debt (C-06)."""
        await reach(c, p, "receivable", receivable_id)
        return s.WriteoffOut(**await writeoffs.request_writeoff(c, receivable_id, body.reason, p.staff_id))

    @r.post("/writeoffs/{writeoff_id}/decision")
    async def decide_writeoff(writeoff_id: PathId, body: s.DecisionIn, p: Approver) -> s.WriteoffDecisionOut:
        """Approve a write-off: 100% charged to the responsible staff member, 10% fine to the line leader (C-06)."""
        await reach(c, p, "writeoff", writeoff_id)
        return s.WriteoffDecisionOut(**await writeoffs.decide_writeoff(c, writeoff_id, body.approve, p.staff_id))

    @r.get("/staff/{staff_id}/liabilities")
    async def liabilities(staff_id: PathId, p: Reader) -> s.StatementOut:
        """A staff member's bad-debt charges and fines (C-06); staff see only their own (O-02)."""
        own_only = p.staff_id if p.role == Role.STAFF else None
        if own_only is None:
            await reach(c, p, "staff", staff_id)  # O-02: managers read the statements of their store's staff
        return s.StatementOut(**await writeoffs.staff_statement(c, staff_id, own_only))

    @r.get("/reports/aging", response_model=s.AgingReport, responses=AGING_FILES)
    async def aging_report(p: Annotated[Principal, Depends(require(verifier, *READERS))],
                           as_of: Annotated[s.Day | None, Query()] = None,
                           by: Annotated[s.AgingBy, Query()] = "customer",
                           format: Annotated[s.ReportFormat, Query()] = "json",
                           region: Annotated[Ident | None, Query()] = None) -> Any:
        """Aging (C-07, R-04) per customer, staff, store or region as JSON, CSV or XLSX; store roles see theirs."""
        out = await reports.aging_report(c, as_of, by, format, *report_scope(p, None, region))
        if isinstance(out, reports.ReportFile):
            return Response(out.content, media_type=out.media_type,
                            headers={"Content-Disposition": f'attachment; filename="{out.filename}"'})
        return out

    return r


def internal_router(c: Credit, guard: Any) -> APIRouter:
    """Service-to-service (the gateway's service token) and admin tools (an hq_admin staff token)."""
    r = APIRouter(tags=["internal"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/internal/authorizations", status_code=201)
    async def authorize(body: s.AuthorizationIn) -> s.AuthorizationOut:
        """C-04: hold against the limit, or 422 with the rule (C-02 limit, C-04 overdue, C-01 no account)."""
        return s.AuthorizationOut(**await auth.request_authorization(
            c, body.store_id, body.customer_id, body.cases, body.amount, body.responsible_staff_id))

    @r.post("/internal/authorizations/{authorization_id:path}/claims")  # the id may hold any printable ASCII
    async def claim_authorization(authorization_id: PathId, body: s.ClaimIn) -> s.ClaimOut:
        """C-04: check and claim for a receipt an authorisation of this store and customer covering the amount."""
        return s.ClaimOut(**await auth.claim_authorization(c, authorization_id, body.store_id, body.receipt_no,
                                                           body.customer_id, body.amount))

    @r.get("/internal/authorizations/{authorization_id}")
    async def get_authorization(authorization_id: PathId) -> s.AuthorizationView:
        """One authorisation and its state (held, captured, released)."""
        return s.AuthorizationView(**await auth.get_authorization(c, authorization_id))

    @r.post("/admin/daily-runs")
    async def daily_run(body: s.DailyRunIn) -> s.DailyRunOut:
        """Run the credit day for a date and time zone (overdue, reminders, cheque clearing); idempotent (C-07)."""
        return s.DailyRunOut(**await daily.run_daily(c, body.date, body.timezone))

    @r.post("/admin/authorizations/expiry")
    async def release_expired(body: s.ReleaseIn) -> s.ReleasedOut:
        """Release holds past their expiry, as of now or the given time (C-04)."""
        return s.ReleasedOut(released=await auth.release_expired(c, body.as_of))

    return r
