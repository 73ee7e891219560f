"""Request bodies of the credit API (money in fen, counts of cases as integers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("a time zone offset is required")
    return v


Aware = Annotated[datetime, AfterValidator(_aware)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountIn(_In):
    customer_id: Id | None = None
    name: str = Field(min_length=2, max_length=100)
    customer_class: str | None = Field(
        None, description="M-14: government | soe (state_owned) | enterprise_institution | group_company | "
                          "small_business | individual; taken from the member file when member_id is given")
    member_id: Id | None = Field(None, description="the account is for this member: its class is the file's (M-14)")
    contact_mobile: str | None = Field(None, pattern=r"^1[3-9]\d{9}$")
    store_id: Id
    responsible_staff_id: Id
    line_leader_staff_id: Id | None = None
    limit_cases: int | None = Field(None, gt=0, description="C-02: at most the class limit (10 or 5)")
    limit_amount: int = Field(gt=0, description="fen")


class RaiseIn(_In):
    extra_cases: int = Field(ge=0)
    extra_amount: int = Field(ge=0)
    reason: str = Field(min_length=2, max_length=500)
    application_ref: str = Field(min_length=1, max_length=64, description="the written application's number")
    expires_at: Aware


class DecisionIn(_In):
    approve: bool


class SuspendIn(_In):
    reason: str = Field(min_length=2, max_length=500)


class AuthorizationIn(_In):
    store_id: Id
    customer_id: Id
    cases: int = Field(gt=0)
    amount: int = Field(gt=0)
    responsible_staff_id: Id


class PaymentIn(_In):
    method: str = Field(description="C-05: cash | cheque | transfer | wire")
    amount: int = Field(gt=0)
    reference: str | None = Field(None, max_length=64)
    receivable_id: Id | None = Field(None, description="pay this invoice first; otherwise oldest first")


class ExtensionIn(_In):
    new_due_date: date
    reason: str = Field(min_length=2, max_length=500)


class WriteoffIn(_In):
    reason: str = Field(min_length=2, max_length=500)


def _zone(v: str | None) -> str | None:
    if v is not None:
        try:
            ZoneInfo(v)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError("an IANA time zone, e.g. Asia/Urumqi") from None
    return v


class DailyRunIn(_In):
    date: date
    timezone: Annotated[str | None, AfterValidator(_zone)] = Field(
        None, description="run the day of the stores in this time zone only (the scheduler's way); "
                          "default: every store")


class ReleaseIn(_In):
    as_of: Aware | None = None


CouponNos = Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]], Field(min_length=1, max_length=500)]


class CouponBatchIn(_In):
    prefix: str = Field(pattern=r"^[A-Z0-9-]{1,16}$", description="numbers are prefix + 6 digits")
    face_value: int = Field(gt=0, description="fen")
    count: int = Field(gt=0, le=10_000)
    expires_on: date


class CouponSaleIn(_In):
    """C-09: date (now), unit, contact, phone, amount (from the coupons), payment method, numbers, expiry."""

    store_id: Id
    unit: str = Field(min_length=2, max_length=100)
    contact: str = Field(min_length=2, max_length=40)
    phone: str = Field(pattern=r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
    payment_method: str = Field(description="C-05: cash | cheque | transfer | wire")
    coupon_nos: CouponNos


class RedemptionIn(_In):
    store_id: Id
    receipt_no: Id
    coupon_nos: CouponNos
    amount: int | None = Field(None, ge=0, description="the payment the coupons cover: at most their face value")


class TierIn(_In):
    min_purchases: int = Field(ge=0, description="fen over the period")
    rate_bp: int = Field(gt=0, le=10_000, description="basis points of the purchases")


class TiersIn(_In):
    tiers: list[TierIn] = Field(max_length=50)


class RebateRunIn(_In):
    start: date
    end: date


class CollectionIn(_In):
    coupon_nos: CouponNos
    collected_by: str = Field(min_length=2, max_length=40, description="who collected for the customer")


class CloseIn(_In):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])
