"""Events produced by the gateway from POS calls (topic pos.sales, keyed by member)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..events import EventData, contract

PaymentMethod = Literal[
    "cash", "bank_card", "wechat", "alipay", "stored_value", "points",
    "coupon", "cheque", "transfer", "credit",
]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SaleLine(_Part):
    line_no: int = Field(ge=1)
    sku: str
    qty: int = Field(gt=0)
    unit_price: int = Field(ge=0, description="List price per unit, fen")
    paid: int = Field(ge=0, description="Amount paid for the line, fen")
    special_price: bool = Field(False, description="Special-price items earn nothing (L-01)")


class Payment(_Part):
    method: PaymentMethod
    amount: int = Field(ge=0)
    credit_customer_id: str | None = None
    authorization_id: str | None = None
    coupon_numbers: list[str] | None = Field(
        None, description="C-09: the group-buy coupons a `coupon` payment spends (each once)")


class MemberRef(_Part):
    """How the POS named the member; `member_id` is what the gateway resolved it to."""

    card_no: str | None = None
    by_mobile: bool = False


@contract
class SaleRecorded(EventData):
    """A POS sale, durably accepted by the gateway."""

    TYPE = "pos.sale.recorded"
    sale_id: str
    store_id: str
    terminal_id: str
    receipt_no: str
    occurred_at: datetime
    member_id: str | None = Field(None, examples=["M-6f1c..."])
    member_ref: MemberRef | None = None
    member_status: str | None = Field(
        None, description="The member's state when the gateway accepted the sale (M-08); only approved states "
                          "(active, dormant, public) earn (M-04). Stamped here so no topic race decides it.")
    card_status: str | None = Field(None, description="active | lost | expired | blocked (M-17): only active earns")
    cashier_staff_id: str | None = None
    booked_by_staff_id: str | None = None
    currency: str = "CNY"
    lines: list[SaleLine]
    payments: list[Payment]


class RefundLine(_Part):
    line_no: int = Field(ge=1)
    qty: int = Field(gt=0)
    paid: int = Field(ge=0, description="Amount refunded for the line, fen")
    special_price: bool = False


@contract
class SaleRefunded(EventData):
    """A refund of lines of an earlier sale (L-03)."""

    TYPE = "pos.sale.refunded"
    refund_id: str
    sale_id: str
    store_id: str
    receipt_no: str
    original_receipt_no: str
    occurred_at: datetime
    member_id: str | None = None
    currency: str = "CNY"
    lines: list[RefundLine]
