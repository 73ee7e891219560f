"""Stored value (L-11): top-ups with the program's bonus table, spending never below zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from loyalty.domain.program import load_books
from loyalty.domain.stored_value import spend, top_up

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
