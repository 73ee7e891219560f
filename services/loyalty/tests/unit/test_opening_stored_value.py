"""An imported opening stored-value balance (M-19, L-11), pure: one `opening` movement that adds to what is owed but
is no top-up (nothing paid, no bonus), bounded like a top-up; the period report shows it in its own `imported` column
and still reconciles to the fen."""

from __future__ import annotations

import pytest
from loyalty.domain import stored_value as sv
from loyalty.domain.sv_report import movement, report, to_csv
from vipcore.contracts.members import OPENING_STORED_VALUE_MAX
from vipcore.errors import RuleViolation


def test_m19_l11_an_opening_is_owed_but_no_cash_paid_and_no_bonus() -> None:
    mv = sv.opening(123456)
    assert (mv.kind, mv.amount, mv.paid, mv.bonus, mv.shortfall) == ("opening", 123456, 0, 0, 0)
    assert sv.opening(OPENING_STORED_VALUE_MAX).amount == OPENING_STORED_VALUE_MAX


@pytest.mark.parametrize("amount", [0, -1, OPENING_STORED_VALUE_MAX + 1])
def test_m19_an_opening_stored_value_is_positive_and_bounded(amount: int) -> None:
    with pytest.raises(RuleViolation) as e:
        sv.opening(amount)
    assert (e.value.rule, e.value.field) == ("M-19", "opening.stored_value")


def test_l11_an_opening_is_spent_like_any_balance_under_the_hold_rule() -> None:
    balance = sv.opening(50000).amount
    sv.check_hold(balance, 0, 50000)  # the whole imported balance may be held for a sale
    with pytest.raises(RuleViolation):
        sv.check_hold(balance, 0, 50001)
    assert sv.spend(balance, 20000).amount == -20000


def test_r03_m19_the_report_shows_imported_balances_apart_from_top_ups_and_reconciles() -> None:
    rows = [("opening", 123456, 0, 0), ("topup", 110000, 100000, 10000), ("spend", -30000, 0, 0),
            ("refund", 500, 0, 0), ("opening", 44, 0, 0)]
    m = movement(1000, rows)
    assert (m.opening, m.top_ups, m.bonus, m.imported, m.spend, m.refunds) == (1000, 100000, 10000, 123500, 30000,
                                                                               500)
    assert m.closing == 1000 + 123500 + 110000 - 30000 + 500 and m.reconciled
    m.imported = 0  # without the imported column the period would not reconcile: the opening is owed money
    assert not m.reconciled
    out = {"program": {"jewelry": 205000}, "store": {"XA-1": 205000}, "region": {"029": 205000}}
    rep = report("2026-12-01", "2026-12-02", {"jewelry": movement(1000, rows)}, out, {"jewelry": 205000})
    j = rep["programs"]["jewelry"]
    assert (j["imported"], j["top_ups"], j["closing"], j["reconciled"]) == (123500, 100000, 205000, True)
    assert rep["ledger_matches_balances"] == {"jewelry": True}
    assert to_csv(rep).splitlines()[1] == "program,jewelry,1000,100000,10000,123500,30000,500,205000,True,205000"
