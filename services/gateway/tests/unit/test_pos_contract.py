"""POS API request rules (docs/pos-api.md) checked without any server."""

from __future__ import annotations

import pytest
from gateway.domain.refunds import refund_errors
from gateway.entrypoints.schemas import MemberIn, RefundIn, SaleIn
from pydantic import ValidationError


def body(**over: object) -> dict:
    b = {"store_id": "XA-001", "terminal_id": "T1", "receipt_no": "R1",
         "occurred_at": "2026-11-22T12:30:00+08:00",
         "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": 98800, "paid": 86944}],
         "payments": [{"method": "cash", "amount": 86944}]}
    b.update(over)
    return b


def test_valid_sale() -> None:
    assert SaleIn.model_validate(body()).lines[0].paid == 86944


def test_payments_must_equal_paid() -> None:
    with pytest.raises(ValidationError, match="sum of payments must equal the sum of paid"):
        SaleIn.model_validate(body(payments=[{"method": "cash", "amount": 1}]))


def test_qty_must_be_positive() -> None:
    with pytest.raises(ValidationError) as e:
        SaleIn.model_validate(body(lines=[{"line_no": 1, "sku": "A", "qty": 0, "unit_price": 1, "paid": 0}],
                                   payments=[{"method": "cash", "amount": 0}]))
    assert e.value.errors()[0]["loc"] == ("lines", 0, "qty")


def test_time_needs_an_offset() -> None:
    with pytest.raises(ValidationError, match="offset"):
        SaleIn.model_validate(body(occurred_at="2026-11-22T12:30:00"))


def test_c04_credit_payment_names_customer_and_authorization() -> None:
    with pytest.raises(ValidationError, match="C-04"):
        SaleIn.model_validate(body(payments=[{"method": "credit", "amount": 86944}]))


def test_m18_member_needs_card_or_two_facts() -> None:
    assert MemberIn(card_no="75500243").card_no
    assert MemberIn(mobile="13800138000", name="王小明").mobile
    with pytest.raises(ValidationError, match="M-18"):
        MemberIn(mobile="13800138000")


def test_landline_is_not_a_mobile() -> None:
    with pytest.raises(ValidationError):
        MemberIn(mobile="02988888888", name="王小明")


def test_l03_refund_more_than_sold_is_refused_per_line() -> None:
    sold = {1: {"qty": 2, "paid": 2000, "special_price": False}}
    assert refund_errors(sold, {}, [{"line_no": 1, "qty": 1, "paid": 1000}]) == []
    errs = refund_errors(sold, {1: {"qty": 1, "paid": 1000}}, [{"line_no": 1, "qty": 2, "paid": 1001}])
    assert {(e.field, e.rule) for e in errs} == {("lines.0.qty", "L-03"), ("lines.0.paid", "L-03")}
    assert refund_errors(sold, {}, [{"line_no": 9, "qty": 1, "paid": 1}])[0].field == "lines.0.line_no"


def test_refund_lines_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        RefundIn.model_validate({"store_id": "S", "receipt_no": "RF", "original_receipt_no": "R1",
                                 "occurred_at": "2026-11-22T12:30:00+08:00",
                                 "lines": [{"line_no": 1, "qty": 1, "paid": 1}] * 2})


def test_c09_coupon_numbers_belong_to_a_coupon_payment_and_are_unique() -> None:
    ok = SaleIn.model_validate(body(payments=[{"method": "coupon", "amount": 86944,
                                               "coupon_numbers": ["GB-000001", "GB-000002"]}]))
    assert ok.payments[0].coupon_numbers == ["GB-000001", "GB-000002"]
    with pytest.raises(ValidationError, match="belong to a `coupon` payment"):
        SaleIn.model_validate(body(payments=[{"method": "cash", "amount": 86944, "coupon_numbers": ["GB-1"]}]))
    with pytest.raises(ValidationError, match="listed twice"):
        SaleIn.model_validate(body(payments=[{"method": "coupon", "amount": 86944,
                                              "coupon_numbers": ["GB-1", "GB-1"]}]))


def test_c09_a_sale_without_coupon_numbers_hashes_as_before_the_field_was_added() -> None:
    """Idempotency (pos-api.md): a receipt recorded before v1 gained `coupon_numbers` replays with 200, not 409."""
    from gateway.service.sales import body_hash

    dumped = SaleIn.model_validate(body()).model_dump(mode="json")
    assert dumped["payments"] == [{"method": "cash", "amount": 86944, "credit_customer_id": None,
                                   "authorization_id": None}]
    # the hash this body had before the field existed (commit 1dcccf4)
    assert body_hash(SaleIn.model_validate(body())) == \
        "eb4c2903272069faf316906a31e83248a6d12516548c6e06682c0dd5f9771750"
