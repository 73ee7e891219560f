"""POS API v1 request and response bodies (docs/pos-api.md), built from vipcore.inputs types.

Every id is bounded printable ASCII, every name is text without control characters or lone surrogates, every
amount is a strict integer that fits BIGINT, every business time carries an offset and lies near now: what the
gateway accepts here, every consumer of pos.sales can store. Field names stay those of v1 (additive only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from vipcore.contracts.pos import PaymentMethod
from vipcore.inputs import (
    BusinessTime,
    Ident,
    Mobile,
    Money,
    Name,
    PositiveMoney,
    PositivePoints,
    Quantity,
    RequestModel,
    ResponseModel,
    ShortIdent,
)

LineNo = Annotated[int, Strict(), Field(ge=1, le=100_000, description="the line's number on the receipt")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])]
StoreId = Annotated[ShortIdent, Field(examples=["XA-001"])]
CardNo = Annotated[ShortIdent, Field(examples=["75500243"])]


SALE_EXAMPLE: dict[str, Any] = {
    "store_id": "XA-001", "terminal_id": "T1", "receipt_no": "20261122-000123",
    "occurred_at": "2026-11-22T12:30:00+08:00", "member": {"card_no": "75500243"},
    "cashier_staff_id": "S-1001", "booked_by_staff_id": "S-1002",
    "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": 98800, "paid": 86944, "special_price": False}],
    "payments": [{"method": "cash", "amount": 86944}]}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


# -- requests ---------------------------------------------------------------------------------------

class MemberIn(RequestModel):
    """A member named by card, or by two facts when the card is forgotten (M-18)."""

    card_no: CardNo | None = None
    mobile: Mobile | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _two_facts(self) -> MemberIn:
        if self.card_no is None and not (self.mobile and self.name):
            raise ValueError("give card_no, or mobile and name together (M-18: two facts)")
        return self


class ProofIn(RequestModel):
    """L-07, L-11 (added in v1): the member proves presence for a spend with the SMS code just received (`otp`,
    from `POST /v1/members/{card_no}/proof-codes`) or the PIN set at the desk (`pin`), as the store's program says.
    Never stored, never part of the idempotency comparison of a sale."""

    model_config = {"json_schema_extra": {"examples": [{"otp": "482913"}, {"pin": "730514"}]}}
    otp: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    pin: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None

    @model_validator(mode="after")
    def _one(self) -> ProofIn:
        if (self.otp is None) == (self.pin is None):
            raise ValueError("give exactly one of otp or pin (L-07, L-11)")
        return self


PROOF_FIELD = Field(None, exclude=True, description=(
    "L-07, L-11 (added in v1): required when points or stored value are spent — the member's SMS code or PIN; "
    "without it, or when it is wrong or expired, the spend is refused (422, or 403 while the member's proofs are "
    "locked after 5 wrong answers) naming the field `proof`"))


class SaleLineIn(RequestModel):
    line_no: LineNo
    sku: Ident
    qty: Quantity = Field(description="lines need qty > 0")
    unit_price: Money = Field(description="fen")
    paid: Money = Field(description="fen actually paid for the line")
    special_price: bool = False


class PaymentIn(RequestModel):
    model_config = {"json_schema_extra": {"examples": [
        {"method": "cash", "amount": 86944},
        {"method": "credit", "amount": 600000, "credit_customer_id": "ORG-1a2b3c4d",
         "authorization_id": "AUTH-9f2c"},
        {"method": "coupon", "amount": 20000, "coupon_numbers": ["GB-000001", "GB-000002"]}]}}
    method: PaymentMethod
    amount: Money
    credit_customer_id: Ident | None = Field(
        None, description="the group buyer: required on `credit`; on other methods it attributes the purchase to "
                          "the buyer for rebates (C-08)")
    authorization_id: Ident | None = None
    coupon_numbers: list[ShortIdent] | None = Field(
        None, min_length=1, max_length=100,
        description="C-09 (added in v1): the group-buy coupons a `coupon` payment spends. Each coupon is spent "
                    "once: a coupon already spent, unknown, expired or paid by an uncleared cheque refuses the "
                    "sale with 422 (rule C-09 / C-05) before it is recorded. `amount` is at most their face value.",
        examples=[["GB-000001", "GB-000002"]])

    @model_validator(mode="after")
    def _credit_names_customer(self) -> PaymentIn:
        if self.method == "credit" and not (self.credit_customer_id and self.authorization_id):
            raise ValueError("a credit payment names credit_customer_id and authorization_id (C-04)")
        if self.coupon_numbers is not None:
            if self.method != "coupon":
                raise ValueError("coupon_numbers belong to a `coupon` payment (C-09)")
            if len(set(self.coupon_numbers)) != len(self.coupon_numbers):
                raise ValueError("a coupon number is listed twice (C-09)")
        return self

    @model_serializer(mode="wrap")
    def _omit_absent_coupons(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A payment without coupon numbers serialises as before the field was added (same idempotency hash)."""
        out: dict[str, Any] = handler(self)
        if out.get("coupon_numbers") is None:
            out.pop("coupon_numbers", None)
        return out


class SaleIn(RequestModel):
    """POST /v1/sales."""

    model_config = {"json_schema_extra": {"examples": [SALE_EXAMPLE, {
        "store_id": "XA-001", "terminal_id": "T1", "receipt_no": "20261122-000124",
        "occurred_at": "2026-11-22T12:35:00+08:00", "cashier_staff_id": "S-1001",
        "lines": [{"line_no": 1, "sku": "BAIJIU-6", "qty": 1, "unit_price": 25000, "paid": 25000}],
        "payments": [{"method": "coupon", "amount": 20000, "coupon_numbers": ["GB-000001", "GB-000002"]},
                     {"method": "cash", "amount": 5000}]}]}}
    store_id: StoreId
    terminal_id: ShortIdent
    receipt_no: Ident
    occurred_at: BusinessTime
    member: MemberIn | None = None
    cashier_staff_id: Ident | None = None
    booked_by_staff_id: Ident | None = None
    currency: Currency = "CNY"
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    payments: list[PaymentIn] = Field(min_length=1, max_length=20)
    proof: ProofIn | None = PROOF_FIELD

    @model_validator(mode="after")
    def _totals(self) -> SaleIn:
        nos = [ln.line_no for ln in self.lines]
        if len(set(nos)) != len(nos):
            raise ValueError("line_no must be unique within a receipt")
        if sum(p.amount for p in self.payments) != sum(ln.paid for ln in self.lines):
            raise ValueError("the sum of payments must equal the sum of paid")
        return self


MAX_BATCH = 500

RawSale = Annotated[Any, WithJsonSchema({"type": "object", "description": "a sale, as the body of POST /v1/sales "
                                                                          "(schema SaleIn)"})]


class SalesBatchIn(RequestModel):
    """POST /v1/sales:batch — at most 500 sales; each is validated on its own, so a malformed one is answered in
    its own result (422) and never fails the upload."""

    model_config = {"json_schema_extra": {"examples": [{"sales": [SALE_EXAMPLE]}]}}
    sales: list[RawSale] = Field(min_length=1, max_length=MAX_BATCH)


class RefundLineIn(RequestModel):
    line_no: LineNo
    qty: Quantity
    paid: Money


class RefundIn(RequestModel):
    """POST /v1/refunds."""

    model_config = {"json_schema_extra": {"examples": [{
        "store_id": "XA-001", "receipt_no": "20261122-000200", "original_receipt_no": "20261122-000123",
        "occurred_at": "2026-11-22T15:00:00+08:00", "lines": [{"line_no": 1, "qty": 1, "paid": 86944}]}]}}
    store_id: StoreId
    receipt_no: Ident
    original_receipt_no: Ident
    occurred_at: BusinessTime
    lines: list[RefundLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique_lines(self) -> RefundIn:
        nos = [ln.line_no for ln in self.lines]
        if len(set(nos)) != len(nos):
            raise ValueError("line_no must be unique within a refund")
        return self


class QuoteLineIn(RequestModel):
    line_no: LineNo
    sku: Ident
    qty: Quantity
    unit_price: Money
    special_price: bool = False


class QuoteIn(RequestModel):
    """POST /v1/quotes."""

    model_config = {"json_schema_extra": {"examples": [{
        "store_id": "XA-001", "member": {"card_no": "75500243"}, "id_verified": True,
        "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": 98800, "special_price": False}]}]}}
    store_id: StoreId
    member: MemberIn | None = None
    id_verified: bool = False
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=500)


class RedemptionIn(RequestModel):
    """POST /v1/redemptions."""

    model_config = {"json_schema_extra": {"examples": [
        {"store_id": "XA-001", "member": {"card_no": "75500243"}, "reward_id": "R-500", "id_verified": True,
         "cashier_staff_id": "S-1001", "proof": {"otp": "482913"}},
        {"store_id": "XA-001", "member": {"mobile": "13800138000", "name": "王小明"}, "points_to_cash": 1000,
         "proof": {"pin": "730514"}}]}}
    store_id: StoreId
    member: MemberIn
    reward_id: Ident | None = None
    points_to_cash: PositivePoints | None = Field(None, description="points converted to money (L-07)")
    id_verified: bool = Field(False, description="the member's ID was checked at the desk (L-09 threshold "
                                                 "rewards); counts only with `cashier_staff_id`, who is recorded")
    redemption_id: uuid.UUID | None = Field(None, description="optional: the same id again returns the first answer")
    cashier_staff_id: Ident | None = Field(None, description="added in v1: the cashier, recorded with every proof "
                                                             "attempt and ID check")
    proof: ProofIn | None = PROOF_FIELD

    @model_validator(mode="after")
    def _one_kind(self) -> RedemptionIn:
        if (self.reward_id is None) == (self.points_to_cash is None):
            raise ValueError("give exactly one of reward_id or points_to_cash (L-07)")
        return self


class ProofCodeIn(RequestModel):
    """POST /v1/members/{card_no}/proof-codes (added in v1)."""

    model_config = {"json_schema_extra": {"examples": [{"store_id": "XA-001", "cashier_staff_id": "S-1001"}]}}
    store_id: StoreId
    cashier_staff_id: Ident | None = None


class CreditAuthorizationIn(RequestModel):
    """A credit sale asks before the goods leave: customer, cases, amount (fen), who operates the bill."""

    model_config = {"json_schema_extra": {"examples": [{
        "store_id": "XA-001", "customer_id": "ORG-1a2b3c4d", "cases": 3, "amount": 600000,
        "responsible_staff_id": "S-1001"}]}}
    store_id: StoreId
    customer_id: Ident
    cases: Quantity
    amount: PositiveMoney
    responsible_staff_id: Ident


class CouponRedemptionIn(RequestModel):
    """Group-buy coupons offered as payment at the till (C-09)."""

    model_config = {"json_schema_extra": {"examples": [{
        "store_id": "XA-001", "receipt_no": "20261122-000124", "coupon_nos": ["GB-000001", "GB-000002"],
        "amount": 20000}]}}
    store_id: StoreId
    receipt_no: Ident
    coupon_nos: list[ShortIdent] = Field(min_length=1, max_length=100)
    amount: Money | None = Field(None, description="added in v1: the payment the coupons cover (fen); refused "
                                                   "when more than their face value")


# -- responses --------------------------------------------------------------------------------------

class FieldErrorOut(ResponseModel):
    field: str
    rule: str | None = None
    message: str


class SaleAccepted(ResponseModel):
    """201 (or 200 for a replay of the same body): the sale is durably recorded and on its way."""

    model_config = {"json_schema_extra": {"examples": [{
        "sale_id": "0b6f1c1e-5d1a-4c55-9a63-2f1f1f0a8b11", "member_id": "m-1f2e3d", "status": "accepted",
        "trace_id": TRACE_ID}]}}
    sale_id: str
    member_id: str | None = None
    status: Literal["accepted"] = "accepted"
    trace_id: str | None = None


class BatchResult(ResponseModel):
    """One receipt of an upload: its own status (201 new, 200 replay, 403 other store, 409 conflict, 422 refused,
    503 retry)."""

    receipt_no: str | None = Field(None, description="null when the item carried no usable receipt number")
    status: int = Field(examples=[201])
    sale_id: str | None = None
    member_id: str | None = None
    errors: list[FieldErrorOut] | None = None


class SalesBatchOut(ResponseModel):
    """207: one result per sale, in the order of the upload."""

    model_config = {"json_schema_extra": {"examples": [{"results": [
        {"receipt_no": "20261122-000123", "status": 201, "sale_id": "0b6f1c1e-5d1a-4c55-9a63-2f1f1f0a8b11",
         "member_id": "m-1f2e3d"},
        {"receipt_no": "20261122-000124", "status": 422, "errors": [
            {"field": "lines.0.qty", "rule": "greater_than", "message": "Input should be greater than 0"}]}],
        "trace_id": TRACE_ID}]}}
    results: list[BatchResult]
    trace_id: str | None = None


class RefundAccepted(ResponseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "refund_id": "6a0d2b8e-64a0-4a39-9a0f-3b2f0b4f9c10", "sale_id": "0b6f1c1e-5d1a-4c55-9a63-2f1f1f0a8b11",
        "member_id": "m-1f2e3d", "status": "accepted", "trace_id": TRACE_ID}]}}
    refund_id: str
    sale_id: str
    member_id: str | None = None
    status: Literal["accepted"] = "accepted"
    trace_id: str | None = None


class BlacklistOut(ResponseModel):
    store_id: str = Field(description="the store that listed the phone (M-16)")
    since: str = Field(description="RFC 3339")


class MemberLookupOut(ResponseModel):
    """A member found by card or two facts; or, for a blacklisted phone, the flag alone (M-16)."""

    model_config = {"json_schema_extra": {"examples": [{
        "member_id": "m-1f2e3d", "display_name": "王*明", "tier": "vip", "points_balance": 1200,
        "points_available": 1000, "card_status": "active", "status": "active", "blacklisted": None,
        "birthday_today": False, "trace_id": TRACE_ID}]}}
    member_id: str | None = None
    display_name: str | None = Field(None, description="masked")
    tier: str | None = None
    points_balance: int | None = None
    points_available: int | None = Field(None, description="spendable now (L-14)")
    card_status: str | None = None
    status: str | None = None
    blacklisted: BlacklistOut | None = None
    birthday_today: bool = False
    trace_id: str | None = None


class QuoteLineOut(ResponseModel):
    line_no: int
    unit_price: int
    member_price: int
    discount_rule: str | None = None


class QuoteOut(ResponseModel):
    """Member price per line, totals and points to earn (L-06)."""

    model_config = {"json_schema_extra": {"examples": [{
        "lines": [{"line_no": 1, "unit_price": 98800, "member_price": 86944, "discount_rule": "L-06 tier"}],
        "total": 98800, "member_total": 86944, "points_to_earn": 869, "benefit": "tier", "tier": "vip",
        "member_id": "m-1f2e3d", "trace_id": TRACE_ID}]}}
    lines: list[QuoteLineOut]
    total: int
    member_total: int
    points_to_earn: int
    benefit: str | None = Field(None, description="`tier`, `birthday` or null")
    tier: str | None = None
    member_id: str | None = None
    trace_id: str | None = None


class RedemptionOut(ResponseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "redemption_id": "3f1a1d4e-9f3e-4a57-8d55-1a0f2c3b4d5e", "points_spent": 500, "balance_after": 700,
        "reward_id": "R-500", "member_id": "m-1f2e3d", "trace_id": TRACE_ID}]}}
    redemption_id: str
    points_spent: int
    balance_after: int | None = None
    reward_id: str | None = None
    cash_value: int | None = Field(None, description="fen, for points_to_cash")
    replayed: bool | None = None
    member_id: str | None = None
    trace_id: str | None = None


class ProofCodeOut(ResponseModel):
    """201: a one-time code is on its way to the member's registered mobile (valid 5 minutes, used once)."""

    model_config = {"json_schema_extra": {"examples": [{
        "method": "sms_code", "sent_to": "138****8000", "expires_at": "2026-11-22T12:35:00+00:00",
        "member_id": "m-1f2e3d", "trace_id": TRACE_ID}]}}
    method: Literal["sms_code"] = "sms_code"
    sent_to: str = Field(description="the registered mobile, masked")
    expires_at: str
    member_id: str | None = None
    trace_id: str | None = None


class CreditAuthorizationOut(ResponseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "authorization_id": "AUTH-9f2c", "approved": True, "expires_at": "2026-11-22T14:30:00+00:00",
        "available_cases": 7, "available_amount": 1400000, "trace_id": TRACE_ID}]}}
    authorization_id: str
    approved: bool
    expires_at: str
    available_cases: int
    available_amount: int
    trace_id: str | None = None


class CouponRedemptionOut(ResponseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "store_id": "XA-001", "receipt_no": "20261122-000124", "coupon_nos": ["GB-000001", "GB-000002"],
        "amount": 20000, "trace_id": TRACE_ID}]}}
    store_id: str
    receipt_no: str
    coupon_nos: list[str]
    amount: int | None = Field(None, description="face value of the coupons (fen)")
    trace_id: str | None = None


class ApiKeyOut(ResponseModel):
    store_id: str
    api_key: str = Field(description="shown only in this answer")


# -- staff routes (issue 12: entrypoints/desk.py) -------------------------------------------------------------

class DeskCodeIn(RequestModel):
    """POST /v1/desk/proof-codes: text the card holder a one-time code for a claim at this desk (L-07, L-09)."""

    card_no: CardNo


class DeskClaimIn(RequestModel):
    """POST /v1/desk/claims: a threshold reward handed out at the desk of the staff member's store (L-09)."""

    model_config = {"json_schema_extra": {"examples": [{
        "claim_id": "5b1f0d0e-2b8c-4f57-9d43-0c9a7d3f2a10", "card_no": "75500243", "reward_id": "care-kit",
        "id_checked": True, "proof": {"otp": "482913"}}]}}
    claim_id: uuid.UUID = Field(description="the same id again returns the first answer (a double click claims once)")
    card_no: CardNo
    reward_id: Ident
    id_checked: bool = Field(description="the member's ID was checked at the desk by the logged-in staff member "
                                         "(L-09); refused without it")
    proof: ProofIn = Field(description="L-07: the SMS code the member just received, or the PIN set at the desk")


class DeskClaimOut(ResponseModel):
    claim_id: str
    member_id: str
    reward_id: str | None = None
    points_spent: int
    balance_after: int | None = Field(None, description="absent on a replay")
    replayed: bool | None = None
    handed_out_by: str = Field(description="the staff member of the token, recorded as the one who checked the ID")


class StoreSales(ResponseModel):
    store_id: str
    sales: int = Field(description="receipts recorded today, members' and not")
    amount: int = Field(description="fen paid on them")
    member_sales: int = Field(description="of which named a member")


class SalesTodayOut(ResponseModel):
    since: str = Field(description="local midnight of `tz`, the start of today")
    stores: list[StoreSales]
