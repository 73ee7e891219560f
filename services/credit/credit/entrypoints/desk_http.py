"""Credit's list routes for the desk (issue 12: the console's credit screens, O-02): accounts, a customer's
raises, authorisations, receivables, extensions, payments and cheques, write-offs, rebates, coupon batches,
coupon sales and credit sales refused a receivable (C-04). Every list is confined to what the caller reaches (HQ
and the auditor: the chain; store roles and staff: their store; a regional account: its region; naming another
store or region is 403), filtered and paged (`page`, `limit`, `has_more`). Thin routes over `service/desk.py`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..service import desk
from ..service.context import Credit
from ..service.tenancy import reach, report_scope
from . import schemas as s
from .http import READERS, CustomerId

StoreQ = Annotated[Ident | None, Query(description="one store (store roles: their own)")]
RegionQ = Annotated[Ident | None, Query(description="one region's stores (a regional account: its own)")]
CustomerQ = Annotated[Ident | None, Query(description="one credit customer")]
PageQ = Annotated[s.Page, Query()]
LimitQ = Annotated[s.Limit, Query()]


def desk_router(c: Credit, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["credit desk"], responses=PROBLEM_RESPONSES)
    Reader = Annotated[Principal, Depends(require(verifier, *READERS, Role.STAFF))]  # like GET /v1/accounts/{id}
    Office = Annotated[Principal, Depends(require(verifier, *READERS))]  # like the reports

    @r.get("/accounts")
    async def list_accounts(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                            q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$",
                                                           description="customer id, or part of the name")] = None,
                            overdue: Annotated[bool | None, Query()] = None,
                            suspended: Annotated[bool | None, Query()] = None,
                            page: PageQ = 1, limit: LimitQ = 50) -> s.AccountsOut:
        """Credit accounts in reach (C-01, C-02), newest first; filter by name or id, overdue, suspended."""
        return s.AccountsOut(**await desk.accounts(c, report_scope(p, store_id, region), (q or "").strip() or None,
                                                   overdue, suspended, page, limit))

    @r.get("/accounts/{customer_id}/raises")
    async def list_raises(customer_id: CustomerId, p: Reader, limit: LimitQ = 100) -> s.RaisesOut:
        """A customer's temporary raises with their decision and expiry (C-02), newest first."""
        await reach(c, p, "account", customer_id)
        return s.RaisesOut(**await desk.raises(c, customer_id, limit))

    @r.get("/authorizations")
    async def list_authorizations(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                                  customer_id: CustomerQ = None,
                                  status: Annotated[s.AuthState | None, Query()] = None,
                                  page: PageQ = 1, limit: LimitQ = 50) -> s.AuthorizationsOut:
        """Authorisations per store and customer, held / captured / released (C-04), newest first."""
        return s.AuthorizationsOut(**await desk.authorizations(c, report_scope(p, store_id, region), customer_id,
                                                               status, page, limit))

    @r.get("/receivables")
    async def list_receivables(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                               customer_id: CustomerQ = None,
                               staff_id: Annotated[Ident | None, Query(description="responsible staff member")] = None,
                               open: Annotated[bool, Query(description="only what still owes")] = False,
                               overdue: Annotated[bool, Query(description="open and past due (C-07)")] = False,
                               page: PageQ = 1, limit: LimitQ = 100) -> s.ReceivablesOut:
        """Receivables with due dates and what each owes (C-03), newest first; overdue on the store's date."""
        return s.ReceivablesOut(**await desk.receivables(c, report_scope(p, store_id, region), customer_id, open,
                                                         overdue, staff_id, page, limit))

    @r.get("/extensions")
    async def list_extensions(p: Office, store_id: StoreQ = None, region: RegionQ = None,
                              customer_id: CustomerQ = None, status: Annotated[s.Decision | None, Query()] = None,
                              page: PageQ = 1, limit: LimitQ = 50) -> s.ExtensionsOut:
        """Applications for a later due date with their decision (C-03), newest first."""
        return s.ExtensionsOut(**await desk.extensions(c, report_scope(p, store_id, region), customer_id, status,
                                                       page, limit))

    @r.get("/payments")
    async def list_payments(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                            customer_id: CustomerQ = None, status: Annotated[s.PaymentState | None, Query()] = None,
                            method: Annotated[s.PaymentMethod | None, Query()] = None,
                            page: PageQ = 1, limit: LimitQ = 50) -> s.PaymentsOut:
        """Payments and cheques with who recorded and who settled them (C-05), newest first."""
        return s.PaymentsOut(**await desk.payments(c, report_scope(p, store_id, region), customer_id, status,
                                                   method, page, limit))

    @r.get("/writeoffs")
    async def list_writeoffs(p: Office, store_id: StoreQ = None, region: RegionQ = None,
                             customer_id: CustomerQ = None, status: Annotated[s.Decision | None, Query()] = None,
                             page: PageQ = 1, limit: LimitQ = 50) -> s.WriteoffsOut:
        """Write-off applications with the staff member charged and the line leader fined (C-06)."""
        return s.WriteoffsOut(**await desk.writeoffs(c, report_scope(p, store_id, region), customer_id, status,
                                                     page, limit))

    @r.get("/rebates")
    async def list_rebates(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                           customer_id: CustomerQ = None, period: Annotated[str | None, Query(
                               max_length=40, pattern=r"^[0-9/-]*$",
                               description="start/end as computed, e.g. 2026-11-01/2026-12-01")] = None,
                           status: Annotated[s.RebateState | None, Query()] = None,
                           page: PageQ = 1, limit: LimitQ = 50) -> s.RebatesPage:
        """Rebates with decision, slip and collection (C-08), latest period first; staff (collections) too."""
        return s.RebatesPage(**await desk.rebates(c, report_scope(p, store_id, region), customer_id, period or None,
                                                  status, page, limit))

    @r.get("/credit-refusals")
    async def list_credit_refusals(p: Office, store_id: StoreQ = None, region: RegionQ = None,
                                   customer_id: CustomerQ = None, receipt_no: Annotated[Ident | None, Query()] = None,
                                   page: PageQ = 1, limit: LimitQ = 50) -> s.CreditRefusalsOut:
        """Credit sales that booked no receivable: no authorisation of their store and customer covered them (C-04)."""
        return s.CreditRefusalsOut(**await desk.credit_refusals(c, report_scope(p, store_id, region), customer_id,
                                                                receipt_no, page, limit))

    @r.get("/coupon-batches")
    async def list_batches(p: Office, page: PageQ = 1, limit: LimitQ = 50) -> s.BatchesOut:
        """Coupon batches drawn from finance with their stock in each state (C-09), newest first."""
        return s.BatchesOut(**await desk.batches(c, page, limit))

    @r.get("/coupon-sales")
    async def list_coupon_sales(p: Reader, store_id: StoreQ = None, region: RegionQ = None,
                                cheque_status: Annotated[s.PaymentState | None, Query()] = None,
                                unit: Annotated[str | None, Query(max_length=100,
                                                                  pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
                                page: PageQ = 1, limit: LimitQ = 50) -> s.CouponSalesOut:
        """Coupon sales to organisations, the buyer's phone masked (C-09, N-06), newest first; staff (sellers) too."""
        return s.CouponSalesOut(**await desk.coupon_sales(c, report_scope(p, store_id, region), cheque_status,
                                                          (unit or "").strip() or None, page, limit))

    return r
