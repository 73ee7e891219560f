"""Opening balances of imported members (M-19) in the points account (pure): one `opening` entry (L-02), spendable at
once, expiring by the program's rule from the import (L-08), no tier spend (L-04), an opening tier held one full
downgrade window from the import (L-05)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loyalty.adapters import state
from loyalty.domain.account import Account, add_months
from loyalty.domain.program import Program, load_books
from loyalty.domain.rules import Line
from vipcore.errors import RuleViolation

BOOKS = load_books(Path(__file__).resolve().parents[4] / "programs")
TZ = "Asia/Shanghai"
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
WHY = {"reason": "opening balance (M-19): import I1 row 2", "import_id": "I1", "row_no": 2, "operator": "S1"}


def prog(pid: str) -> Program:
    return BOOKS[pid].current


def test_m19_l02_the_opening_balance_is_one_entry_spendable_at_once_and_no_tier_spend() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    e, change = a.open(p, points=250000, tier=None, cause="c1", at=T0, detail=WHY)
    assert (e.kind, e.points, e.spend, e.cause, e.detail["import_id"], e.detail["operator"]) == (
        "opening", 250000, 0, "c1", "I1", "S1")
    assert change is None and a.tier == "normal"  # 2,500 yuan of points is no 680-yuan receipt (L-04)
    assert a.balance == 250000 and a.available(T0) == 250000  # no return window behind it (L-14)
    assert a.tier_spend == 0 and a.spends == []
    # a later sale is judged on its own spend, never on the opening points
    _, up = a.earn(p, key="S1/R1", cause="r1", at=T0 + timedelta(days=1), tz=TZ, lines=[Line(1, 50000, False)])
    assert up is None and a.tier == "normal" and a.balance == 250500
    red = a.redeem(p, points=250000, cause="x", at=T0 + timedelta(days=1), tz=TZ)
    assert red.points == -250000 and a.balance == 500


def test_m19_an_opening_balance_is_never_negative() -> None:
    with pytest.raises(RuleViolation) as e:
        Account("m", "jewelry", "normal").open(prog("jewelry"), points=-1, tier=None, cause="c", at=T0, detail=WHY)
    assert (e.value.rule, e.value.field) == ("M-19", "opening.points")


def test_l08_per_entry_opening_points_expire_twelve_months_after_the_import() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    a.open(p, points=900, tier=None, cause="c1", at=T0, detail=WHY)
    assert a.expiring(p, T0 + timedelta(days=340))[0] == 900  # announced ahead like any points (L-16)
    assert a.expire(p, at=add_months(T0, 12) - timedelta(seconds=1), cause="E0") is None
    e = a.expire(p, at=add_months(T0, 12), cause="E1")
    assert e is not None and e.points == -900 and a.balance == 0


def test_l08_card_validity_opening_points_end_with_the_validity_period_the_import_opens() -> None:
    p, a = prog("cosmetics"), Account("m", "cosmetics", "normal")
    a.open(p, points=900, tier=None, cause="c1", at=T0, detail=WHY)
    assert a.cycle_start == T0
    assert a.expire(p, at=add_months(T0, 23), cause="E0") is None
    e = a.expire(p, at=add_months(T0, 24), cause="E1")
    assert e is not None and e.points == -900 and a.balance == 0


def test_l04_l05_an_opening_tier_is_taken_with_its_reason_and_held_one_window_from_the_import() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")  # jewelry: downgrade window 24 months
    e, change = a.open(p, points=0, tier="vip", cause="c1", at=T0, detail=WHY)
    assert e.points == 0 and change is not None and a.tier == "vip"
    assert (change.from_tier, change.to_tier.code) == ("normal", "vip") and change.reason.startswith("M-19")
    assert "import I1 row 2" in change.reason
    back = state.load("m", "jewelry", a.tier, a.balance, a.tier_spend, state.dump(a))
    assert back.tier_from == T0  # kept across saves
    assert back.downgrade(p, add_months(T0, 12)) is None  # a year in: no sale yet, but not a full window
    assert back.downgrade(p, add_months(T0, 23)) is None
    down = back.downgrade(p, add_months(T0, 24) + timedelta(days=1))
    assert down is not None and down.to_tier.code == "normal" and back.tier_from is None


def test_l04_a_tier_the_program_does_not_know_is_noted_and_changes_nothing() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    e, change = a.open(p, points=100, tier="diamond", cause="c1", at=T0, detail=WHY)
    assert change is None and a.tier == "normal" and a.balance == 100
    assert "diamond" in e.detail["tier_not_applied"] and "L-04" in e.detail["tier_not_applied"]
    assert state.dump(a).get("tier_from") is None


def test_l04_an_opening_tier_never_lowers_a_tier_already_reached() -> None:
    p, a = prog("generic"), Account("m", "generic", "gold")
    _, change = a.open(p, points=0, tier="silver", cause="c1", at=T0, detail=WHY)
    assert change is None and a.tier == "gold" and a.tier_from is None
