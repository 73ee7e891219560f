"""Points and cards (pure): a replaced card carries points by program setting (M-17); the end of a card's
validity zeroes the balance of card-validity programs (L-08)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from loyalty.domain.account import Account
from loyalty.domain.program import load_books
from loyalty.domain.rules import Line

BOOKS = load_books(Path(__file__).resolve().parents[4] / "programs")
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def test_m17_presets_say_whether_a_replacement_card_carries_the_points() -> None:
    carry = {pid: b.current.carry_points_on_replacement for pid, b in BOOKS.items()}
    assert carry == {"cosmetics": False, "dental": True, "generic": True, "jewelry": True, "outdoor": True}


def test_m17_l08_forfeit_expires_the_whole_balance_with_its_reason() -> None:
    p, a = BOOKS["cosmetics"].current, Account("m", "cosmetics", "normal")
    a.earn(p, key="S/R1", cause="R1", at=T0, tz="Asia/Shanghai", lines=[Line(1, 30000, False)])
    a.earn(p, key="S/R2", cause="R2", at=T0 + timedelta(days=5), tz="Asia/Shanghai", lines=[Line(1, 20000, False)])
    e = a.forfeit(at=T0 + timedelta(days=6), cause="C", reason="M-17: card 75500001 replaced by 75500002",
                  detail={"old_card_no": "75500001"})
    assert e is not None and e.kind == "expire" and e.points == -500 and a.balance == 0
    assert e.detail["reason"].startswith("M-17") and e.detail["old_card_no"] == "75500001"
    assert a.available(T0 + timedelta(days=30)) == 0 and a.pending(T0 + timedelta(days=6)) == 0
    assert a.forfeit(at=T0 + timedelta(days=7), cause="C2", reason="again") is None  # nothing left
    a.earn(p, key="S/R3", cause="R3", at=T0 + timedelta(days=8), tz="Asia/Shanghai", lines=[Line(1, 10000, False)])
    assert a.cycle_start == T0 + timedelta(days=8)  # a new card, a new validity period (L-08)


def test_l13_forfeit_leaves_an_allow_negative_debt_to_be_recovered() -> None:
    p = BOOKS["generic"].current.model_copy(update={"returns": "allow_negative"})
    a = Account("m", "generic", "normal", balance=-300)
    assert a.forfeit(at=T0, cause="C", reason="L-08") is None and a.balance == -300
    a.earn(p, key="S/R1", cause="R1", at=T0, tz="Asia/Shanghai", lines=[Line(1, 50000, False)])
    assert a.balance == 200
