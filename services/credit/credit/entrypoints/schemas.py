"""Every request and response model of the credit HTTP API, built from the shared input types
(`vipcore.inputs`): money in fen as bounded strict integers, identifiers as bounded printable ASCII, text
without control characters or lone surrogates, times with an offset, dates within a sane range."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, Strict
from vipcore.inputs import (
    AwareTime,
    Count,
    Ident,
    IdentOf,
    Mobile,
    Money,
    PositiveMoney,
    RequestModel,
    ResponseModel,
    ShortIdent,
    TextOf,
)

# -- credit's own input types ------------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)


def _day(v: date) -> date:
    if not FIRST_DAY <= v <= LAST_DAY:
        raise ValueError("must lie between 1970-01-01 and 2199-12-31")
    return v


Day = Annotated[date, AfterValidator(_day)]
"""A calendar date (business date, due date, expiry) between 1970 and 2199."""
Month = Annotated[str, Field(pattern=r"^(19[7-9][0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])$", examples=["2026-10"],
                             description="a calendar month YYYY-MM (1970-2199)")]
PositiveCount = Annotated[Count, Field(gt=0)]
"""Cases of goods, coupons in a batch: a strict integer above zero that fits INTEGER."""
Limit = Annotated[int, Field(ge=1, le=1000, description="at most this many rows (1-1000)")]
"""A query-string page size (query strings are text, so not strict)."""


def _zone(v: str | None) -> str | None:
    if v is not None:
        try:
            ZoneInfo(v)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError("an IANA time zone, e.g. Asia/Urumqi") from None
    return v


Reason = Annotated[str, TextOf(500, min_length=2)]
ContactName = Annotated[str, TextOf(40, min_length=2)]
OrgName = Annotated[str, TextOf(100, min_length=2)]
Reference = Annotated[str, TextOf(64)]
CustomerClass = Annotated[str, IdentOf(40), Field(description="M-14: government | soe (state_owned) | "
                                                              "enterprise_institution | group_company | "
                                                              "small_business | individual")]
PaymentMethod = Annotated[str, IdentOf(32), Field(description="C-05: cash | cheque | transfer | wire")]
TimeZone = Annotated[str, IdentOf(64), AfterValidator(_zone)]
"""An IANA time zone name, e.g. Asia/Shanghai."""

CouponNos = Annotated[list[ShortIdent], Field(min_length=1, max_length=500)]
AgingBy = Literal["customer", "staff", "store", "region"]
ReportFormat = Literal["json", "csv", "xlsx"]


# -- requests --------------------------------------------------------------------------------------

class AccountIn(RequestModel):
    """C-01: open credit for an organisation or an individual."""

    customer_id: Ident | None = None
    name: OrgName
    customer_class: CustomerClass | None = Field(
        None, description="M-14 class; taken from the member file when member_id is given")
    member_id: Ident | None = Field(None, description="the account is for this member: its class is the file's (M-14)")
    contact_mobile: Mobile | None = None
    store_id: Ident
    responsible_staff_id: Ident
    line_leader_staff_id: Ident | None = None
    limit_cases: PositiveCount | None = Field(None, description="C-02: at most the class limit (10 or 5)")
    limit_amount: PositiveMoney


class RaiseIn(RequestModel):
    """C-02: a written application for a temporary raise with an expiry."""

    extra_cases: Count
    extra_amount: Money
    reason: Reason
    application_ref: Ident = Field(description="the written application's number")
    expires_at: AwareTime


class DecisionIn(RequestModel):
    approve: bool


class SuspendIn(RequestModel):
    reason: Reason


class AuthorizationIn(RequestModel):
    """C-04: a credit sale asks before the goods leave."""

    store_id: Ident
    customer_id: Ident
    cases: PositiveCount
    amount: PositiveMoney
    responsible_staff_id: Ident


class ClaimIn(RequestModel):
    """C-04: the till is about to record a credit sale naming this authorisation."""

    store_id: Ident
    receipt_no: Ident
    customer_id: Ident
    amount: PositiveMoney = Field(description="what the sale's credit payments naming it add up to")


class PaymentIn(RequestModel):
    method: PaymentMethod
    amount: PositiveMoney
    reference: Reference | None = None
    receivable_id: Ident | None = Field(None, description="pay this invoice first; otherwise oldest first")


class ExtensionIn(RequestModel):
    new_due_date: Day
    reason: Reason


class WriteoffIn(RequestModel):
    reason: Reason


class DailyRunIn(RequestModel):
    date: Day
    timezone: TimeZone | None = Field(
        None, description="run the day of the stores in this time zone only (the scheduler's way); "
                          "default: every store")


class ReleaseIn(RequestModel):
    as_of: AwareTime | None = None


class CouponBatchIn(RequestModel):
    prefix: str = Field(pattern=r"^[A-Z0-9-]{1,16}$",
                        description="numbers are prefix + 12 random digits + a check digit")
    face_value: PositiveMoney
    count: Annotated[PositiveCount, Field(le=10_000)]
    expires_on: Day


class CouponSaleIn(RequestModel):
    """C-09: date (now), unit, contact, phone, amount (from the coupons), payment method, numbers, expiry."""

    store_id: Ident
    unit: OrgName
    contact: ContactName
    phone: str = Field(pattern=r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$",
                       description="a mobile or a landline with its area code")
    payment_method: PaymentMethod
    coupon_nos: CouponNos


class RedemptionIn(RequestModel):
    """C-09: coupons offered as payment at the till for one receipt."""

    store_id: Ident
    receipt_no: Ident
    coupon_nos: CouponNos
    amount: Money | None = Field(None, description="the payment the coupons cover: at most their face value")


class TierIn(RequestModel):
    min_purchases: Money = Field(description="fen over the period")
    rate_bp: Annotated[int, Strict(), Field(gt=0, le=10_000, description="basis points of the purchases")]


class TiersIn(RequestModel):
    tiers: list[TierIn] = Field(max_length=50)
    effective_from: Day | None = Field(None, description="first day (HQ zone) of the periods these tiers apply to; "
                                                         "today or later, default today")


class RebateRunIn(RequestModel):
    start: Day
    end: Day


class CollectionIn(RequestModel):
    coupon_nos: CouponNos
    collected_by: ContactName = Field(description="who collected for the customer")


class CloseIn(RequestModel):
    month: Month


# -- responses -------------------------------------------------------------------------------------

class AccountOut(ResponseModel):
    """A credit account as opened; the contact mobile is masked (N-06)."""

    customer_id: str
    name: str
    customer_class: str
    contact_mobile: str | None = None
    store_id: str
    responsible_staff_id: str
    line_leader_staff_id: str | None = None
    limit_cases: int
    limit_amount: int
    created_by: str
    member_id: str | None = None


class AccountView(AccountOut):
    """An account with its effective limits (approved raises), what is outstanding and what is available."""

    suspended: bool
    suspended_reason: str | None = None
    overdue: bool
    created_at: datetime
    effective_limit_cases: int
    effective_limit_amount: int
    outstanding_cases: int
    outstanding_amount: int
    available_cases: int
    available_amount: int


class RaiseOut(ResponseModel):
    raise_id: str
    customer_id: str
    extra_cases: int
    extra_amount: int
    reason: str
    application_ref: str
    expires_at: datetime
    status: str
    requested_by: str


class _Decided(ResponseModel):
    status: Literal["approved", "rejected"]
    decided_by: str


class RaiseDecisionOut(_Decided):
    raise_id: str


class ExtensionDecisionOut(_Decided):
    extension_id: str


class WriteoffDecisionOut(_Decided):
    writeoff_id: str


class RebateDecisionOut(_Decided):
    rebate_id: str
    slip_no: str | None = Field(None, description="the numbered slip of an approved rebate")


class SuspensionOut(ResponseModel):
    customer_id: str
    suspended: bool


class PaymentOut(ResponseModel):
    payment_id: str
    status: Literal["pending", "cleared"]
    allocated: dict[str, int] = Field(description="receivable id -> fen")
    clears_on: date | None = Field(None, description="a cheque clears on this date unless it bounces (C-05)")


class ChequeOut(ResponseModel):
    payment_id: str
    status: Literal["cleared", "bounced"]


class ExtensionOut(ResponseModel):
    extension_id: str
    receivable_id: str
    new_due_date: date
    reason: str
    status: str
    requested_by: str


class WriteoffOut(ResponseModel):
    writeoff_id: str
    receivable_id: str
    customer_id: str
    amount: int
    reason: str
    status: str
    requested_by: str


class LiabilityOut(ResponseModel):
    writeoff_id: str
    staff_id: str
    kind: str = Field(description="charge (100%) | fine (10% to the line leader)")
    amount: int
    receivable_id: str
    created_at: datetime


class StatementOut(ResponseModel):
    staff_id: str
    entries: list[LiabilityOut]
    total: int


class AgingReport(ResponseModel):
    as_of: date
    by: AgingBy
    rows: list[dict[str, int | str]] = Field(description="per key of `by`: current, d1_30, d31_60, d61_90, "
                                                         "over_90 and total, in fen")
    totals: dict[str, int]


class AuthorizationOut(ResponseModel):
    authorization_id: str
    approved: bool
    expires_at: datetime
    available_cases: int
    available_amount: int


class ClaimOut(ResponseModel):
    authorization_id: str
    store_id: str
    receipt_no: str
    customer_id: str
    amount: int
    status: Literal["claimed"]


class AuthorizationView(ResponseModel):
    authorization_id: str
    customer_id: str
    store_id: str
    cases: int
    amount: int
    responsible_staff_id: str
    status: str = Field(description="held | captured | released")
    expires_at: datetime
    sale_id: str | None = None
    released_reason: str | None = None
    created_at: datetime
    receipt_no: str | None = Field(None, description="the receipt that claimed it at the till (C-04)")


class DailyRunOut(ResponseModel):
    run_date: date
    timezone: str
    overdue_invoices: int
    reminders: int
    cheques_cleared: int
    already_ran: bool
    ran_at: datetime | None = None


class ReleasedOut(ResponseModel):
    released: int


class ReceivableOut(ResponseModel):
    receivable_id: str
    customer_id: str
    sale_id: str
    store_id: str
    receipt_no: str
    amount: int
    authorization_id: str | None = None
    delivered_at: datetime
    created_at: datetime
    cases: int
    paid: int
    refunded: int
    written_off: int
    due_date: date | None = None
    responsible_staff_id: str | None = None
    line_leader_staff_id: str | None = None
    region_code: str | None = None
    last_reminded_on: date | None = None


class ReceivableRow(ReceivableOut):
    outstanding: int = Field(0, description="what it still owes (fen)")


class ReceivablesOut(ResponseModel):
    receivables: list[ReceivableRow]
    page: int = 1
    has_more: bool = False


class CouponBatchOut(ResponseModel):
    batch_id: str
    first_no: str = Field(description="the first of `coupon_nos`")
    last_no: str = Field(description="the last of `coupon_nos`")
    count: int
    coupon_nos: list[str] = Field(description="the batch's numbers: prefix + 12 random digits + a check digit "
                                              "(C-09: not guessable from one another)")


class CouponSaleOut(ResponseModel):
    coupon_sale_id: str
    amount: int
    expires_on: date
    coupons: str = Field(description="released, or held until the cheque clears")


class CouponChequeOut(ResponseModel):
    coupon_sale_id: str
    cheque_status: Literal["cleared", "bounced"]


class CouponSaleRow(ResponseModel):
    coupon_sale_id: str
    store_id: str
    sold_at: datetime
    unit: str
    contact: str
    phone: str = Field(description="masked (N-06)")
    amount: int
    payment_method: str
    coupon_nos: list[str]
    expires_on: date
    cheque_status: str | None = None
    clears_on: date | None = None
    sold_by: str


class TallyOut(ResponseModel):
    model_config = ConfigDict(populate_by_name=True)

    date: Day
    from_: str = Field(alias="from")
    to: str
    sales: list[CouponSaleRow]
    coupons_sold: int
    amount: int
    by_method: dict[str, int]
    coupons_redeemed: int
    redeemed_amount: int


class ConflictOut(ResponseModel):
    sale_id: str
    coupon_no: str
    store_id: str
    receipt_no: str
    reason: str
    at: datetime


class TierOut(ResponseModel):
    min_purchases: int
    rate_bp: int


class TiersOut(ResponseModel):
    """C-08: one version of the rebate tiers."""

    version: int
    effective_from: date = Field(description="periods whose last day is on or after it use this version (HQ zone)")
    tiers: list[TierOut]
    set_by: str | None = Field(description="the staff member who set it (none: tiers set before versions)")
    set_at: datetime
    in_force: bool = Field(description="the version in force today")


class RebateOut(ResponseModel):
    rebate_id: str
    customer_id: str
    period: str
    purchases: int
    rate_bp: int
    amount: int
    status: str
    slip_no: str | None = None
    requested_by: str
    decided_by: str | None = None
    collected_by: str | None = None
    collected_at: datetime | None = None
    coupon_nos: list[str] | None = None
    collection_recorded_by: str | None = Field(None, description="the staff member who recorded the collection")
    tier_version: int | None = Field(None, description="the rebate tiers' version it was computed with (C-08)")


class RebatesOut(ResponseModel):
    rebates: list[RebateOut]


class CollectionOut(ResponseModel):
    slip_no: str
    rebate_id: str
    coupon_value: int
    status: str


class ClosedBy(ResponseModel):
    by: str
    at: datetime


class ReconciliationOut(ResponseModel):
    """C-08: coupon stock at face value (fen) for a month."""

    month: str
    opening: int
    issued: int
    sold: int
    returned: int
    rebates: int
    closing: int
    balanced: bool
    stock_on_hand: int | None = Field(None, description="the running month only: coupons in stock now")
    closed: ClosedBy | None = None


class RedemptionOut(ResponseModel):
    store_id: str
    receipt_no: str
    coupon_nos: list[str]
    amount: int = Field(description="the face value of the coupons (fen)")


class ReleasedSpend(ResponseModel):
    coupon_no: str
    store_id: str | None = None
    receipt_no: str | None = None
    spent_at: datetime


class ReleasedSpendsOut(ResponseModel):
    released: int
    coupons: list[ReleasedSpend]



# -- desk lists (issue 12: the console's credit screens) ----------------------------------------------

Page = Annotated[int, Field(ge=1, le=100_000, description="1-based page of `limit` rows")]
AuthState = Literal["held", "captured", "released"]
Decision = Literal["pending", "approved", "rejected"]
PaymentState = Literal["pending", "cleared", "bounced"]
RebateState = Literal["pending", "approved", "rejected", "collected"]


class Paged(ResponseModel):
    page: int
    has_more: bool = Field(description="another page follows")


class AccountRow(ResponseModel):
    customer_id: str
    name: str
    customer_class: str
    store_id: str
    responsible_staff_id: str
    line_leader_staff_id: str | None = None
    limit_cases: int
    limit_amount: int
    suspended: bool
    suspended_reason: str | None = None
    overdue: bool
    created_by: str
    created_at: datetime
    member_id: str | None = None


class AccountsOut(Paged):
    accounts: list[AccountRow]


class RaiseRow(RaiseOut):
    decided_by: str | None = None
    created_at: datetime


class RaisesOut(ResponseModel):
    customer_id: str
    raises: list[RaiseRow]


class AuthorizationsOut(Paged):
    authorizations: list[AuthorizationView]


class ExtensionRow(ExtensionOut):
    customer_id: str
    store_id: str
    due_date: date | None = Field(None, description="the invoice's due date now")
    outstanding: int
    decided_by: str | None = None
    created_at: datetime


class ExtensionsOut(Paged):
    extensions: list[ExtensionRow]


class PaymentRow(ResponseModel):
    payment_id: str
    customer_id: str
    name: str
    store_id: str
    method: str
    amount: int
    reference: str | None = None
    status: PaymentState
    received_on: date
    clears_on: date | None = None
    allocated: dict[str, int]
    recorded_by: str
    created_at: datetime
    settled_by: str | None = Field(None, description="who cleared or bounced the cheque (none: the daily run)")
    settled_at: datetime | None = None


class PaymentsOut(Paged):
    payments: list[PaymentRow]


class WriteoffRow(WriteoffOut):
    store_id: str
    responsible_staff_id: str | None = Field(None, description="charged in full when approved (C-06)")
    line_leader_staff_id: str | None = Field(None, description="fined 10% when approved (C-06)")
    decided_by: str | None = None
    created_at: datetime


class WriteoffsOut(Paged):
    writeoffs: list[WriteoffRow]


class RebateRow(RebateOut):
    store_id: str
    name: str


class RebatesPage(Paged):
    rebates: list[RebateRow]


class BatchRow(ResponseModel):
    batch_id: str
    prefix: str
    face_value: int
    count: int
    expires_on: date
    drawn_by: str
    drawn_at: datetime
    in_stock: int
    held: int
    sold: int
    redeemed: int


class BatchesOut(Paged):
    batches: list[BatchRow]


class CouponSaleListRow(CouponSaleRow):
    cheque_settled_by: str | None = None
    cheque_settled_at: datetime | None = None


class CouponSalesOut(Paged):
    sales: list[CouponSaleListRow]


class ConflictsOut(Paged):
    """C-09: sales that named coupons they could not spend."""

    conflicts: list[ConflictOut]


class CreditRefusalRow(ResponseModel):
    sale_id: str
    customer_id: str
    authorization_id: str = Field(description="as the sale named it (empty: none)")
    store_id: str
    receipt_no: str
    amount: int
    rule: str
    reason: str
    at: datetime


class CreditRefusalsOut(Paged):
    """C-04: credit sales that booked no receivable."""

    refusals: list[CreditRefusalRow]


class TierVersionsOut(Paged):
    """C-08: the rebate tiers' versions, latest start first."""

    in_force: int | None = Field(description="the version in force today (none: no tiers yet)")
    versions: list[TiersOut]
