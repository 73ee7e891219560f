"""Stored value (L-11): top-ups with the program's bonus table, spending never below zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from loyalty.domain.program import load_books
from loyalty.domain.stored_value import check_hold, refund_back, spend, top_up
from vipcore.errors import RuleViolation

GENERIC = load_books(Path(__file__).resolve().parents[4] / "programs")["generic"].current


def test_l11_pay_1000_get_1100_and_the_highest_step_applies() -> None:
    assert top_up(GENERIC, 100000).amount == 110000
    assert top_up(GENERIC, 500000).bonus == 80000  # not 10,000 + 80,000
    assert top_up(GENERIC, 99999).bonus == 0
    with pytest.raises(ValueError):
        top_up(GENERIC, 0)


def test_l11_spending_takes_what_the_balance_holds_and_records_the_shortfall() -> None:
    assert spend(110000, 30000).amount == -30000
    mv = spend(1000, 3000)
    assert mv.amount == -1000 and mv.shortfall == 2000


def test_l11_a_hold_is_refused_when_the_balance_less_other_holds_is_short() -> None:
    check_hold(110000, 0, 110000)
    check_hold(110000, 80000, 30000)
    with pytest.raises(RuleViolation) as e:
        check_hold(110000, 80000, 30001)
    assert e.value.rule == "L-11" and e.value.field == "amount"
    with pytest.raises(RuleViolation):
        check_hold(0, 0, 1)  # no stored value at all


def test_l11_a_sale_without_a_hold_never_spends_what_other_terminals_hold() -> None:
    mv = spend(50000, 30000, held=40000)
    assert mv.amount == -10000 and mv.shortfall == 20000


def test_l11_a_refund_gives_back_at_most_what_the_receipt_paid_with_stored_value() -> None:
    assert refund_back(spent=30000, returned=0, refunded=10000).amount == 10000
    assert refund_back(spent=30000, returned=25000, refunded=10000).amount == 5000
    assert refund_back(spent=30000, returned=30000, refunded=10000).amount == 0
