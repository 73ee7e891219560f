"""The POS API v1 request bodies (docs/pos-api.md), with the checks the contract names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from vipcore.contracts.pos import PaymentMethod


def _aware(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("must be RFC 3339 with an offset, e.g. 2026-11-22T12:30:00+08:00")
    return v


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
MOBILE = r"^1[3-9]\d{9}$"


class MemberIn(BaseModel):
    """A member named by card, or by two facts when the card is forgotten (M-18)."""

    model_config = ConfigDict(extra="forbid")
    card_no: str | None = Field(None, max_length=32, examples=["75500243"])
    mobile: str | None = Field(None, pattern=MOBILE, examples=["13800138000"])
    name: str | None = Field(None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _two_facts(self) -> MemberIn:
        if self.card_no is None and not (self.mobile and self.name):
            raise ValueError("give card_no, or mobile and name together (M-18: two facts)")
        return self


class SaleLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, description="lines need qty > 0")
    unit_price: int = Field(ge=0, description="fen")
    paid: int = Field(ge=0, description="fen actually paid for the line")
    special_price: bool = False


CouponNo = Annotated[str, Field(min_length=1, max_length=32)]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"method": "cash", "amount": 86944},
        {"method": "credit", "amount": 600000, "credit_customer_id": "ORG-1a2b3c4d", "authorization_id": "AUTH-9f…"},
        {"method": "coupon", "amount": 20000, "coupon_numbers": ["GB-000001", "GB-000002"]}]})
    method: PaymentMethod
    amount: int = Field(ge=0)
    credit_customer_id: str | None = Field(
        None, description="the group buyer: required on `credit`; on other methods it attributes the purchase to "
                          "the buyer for rebates (C-08)")
    authorization_id: str | None = None
    coupon_numbers: list[CouponNo] | None = Field(
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


class SaleIn(BaseModel):
    """POST /v1/sales."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "store_id": "XA-001", "terminal_id": "T1", "receipt_no": "20261122-000123",
        "occurred_at": "2026-11-22T12:30:00+08:00", "member": {"card_no": "75500243"},
        "cashier_staff_id": "S-1001", "booked_by_staff_id": "S-1002",
        "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": 98800, "paid": 86944,
                   "special_price": False}],
        "payments": [{"method": "cash", "amount": 86944}]}, {
        "store_id": "XA-001", "terminal_id": "T1", "receipt_no": "20261122-000124",
        "occurred_at": "2026-11-22T12:35:00+08:00", "cashier_staff_id": "S-1001",
        "lines": [{"line_no": 1, "sku": "BAIJIU-6", "qty": 1, "unit_price": 25000, "paid": 25000}],
        "payments": [{"method": "coupon", "amount": 20000, "coupon_numbers": ["GB-000001", "GB-000002"]},
                     {"method": "cash", "amount": 5000}]}]})
    store_id: str = Field(min_length=1, max_length=32)
    terminal_id: str = Field(min_length=1, max_length=32)
    receipt_no: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime
    member: MemberIn | None = None
    cashier_staff_id: str | None = None
    booked_by_staff_id: str | None = None
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    payments: list[PaymentIn] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _totals(self) -> SaleIn:
        nos = [ln.line_no for ln in self.lines]
        if len(set(nos)) != len(nos):
            raise ValueError("line_no must be unique within a receipt")
        if sum(p.amount for p in self.payments) != sum(ln.paid for ln in self.lines):
            raise ValueError("the sum of payments must equal the sum of paid")
        return self


class SalesBatchIn(BaseModel):
    """POST /v1/sales:batch — each sale is validated on its own, so items stay raw here."""

    model_config = ConfigDict(extra="forbid")
    sales: list[dict] = Field(min_length=1, max_length=500)


class RefundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1)
    qty: int = Field(gt=0)
    paid: int = Field(ge=0)


class RefundIn(BaseModel):
    """POST /v1/refunds."""

    model_config = ConfigDict(extra="forbid")
    store_id: str = Field(min_length=1, max_length=32)
    receipt_no: str = Field(min_length=1, max_length=64)
    original_receipt_no: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime
    lines: list[RefundLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique_lines(self) -> RefundIn:
        nos = [ln.line_no for ln in self.lines]
        if len(set(nos)) != len(nos):
            raise ValueError("line_no must be unique within a refund")
        return self


class QuoteLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1)
    sku: str
    qty: int = Field(gt=0)
    unit_price: int = Field(ge=0)
    special_price: bool = False


class QuoteIn(BaseModel):
    """POST /v1/quotes."""

    model_config = ConfigDict(extra="forbid")
    store_id: str
    member: MemberIn | None = None
    id_verified: bool = False
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=500)
