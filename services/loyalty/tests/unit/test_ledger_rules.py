"""The points account (pure): earning, refunds, pending, redemption, expiry, tiers — one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loyalty.domain.account import Account
from loyalty.domain.program import Program, load_books
from loyalty.domain.rules import Line, may_earn
from vipcore.errors import RuleViolation

BOOKS = load_books(Path(__file__).resolve().parents[4] / "programs")
TZ = "Asia/Shanghai"
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a March day


def prog(pid: str, **changes: object) -> Program:
    return BOOKS[pid].current.model_copy(update=changes)


def sale(a: Account, p: Program, receipt: str, at: datetime, *paid: int, special: tuple[int, ...] = ()) -> int:
    lines = [Line(i + 1, x, i + 1 in special) for i, x in enumerate(paid)]
    e, _ = a.earn(p, key=f"S1/{receipt}", cause=receipt, at=at, tz=TZ, lines=lines)
    return e.points if e else 0


def test_m04_m17_only_approved_members_with_an_active_card_earn() -> None:
    assert may_earn("active", "active") and may_earn("dormant", "active") and may_earn("public", "active")
    assert may_earn(None, None)  # sales from before the gateway stamped statuses
    assert not may_earn("pending_review", "active") and not may_earn("blacklisted", "active")
    assert not may_earn("active", "expired") and not may_earn("active", "blocked") and not may_earn("active", "lost")


def test_l02_a_receipt_delivered_twice_earns_once() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    assert sale(a, p, "R1", T0, 50000) == 500
    assert sale(a, p, "R1", T0, 50000) == 0
    assert a.balance == 500


def test_l03_partial_refund_reverses_the_refunded_line_only() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "R1", T0, 30000, 20000)
    e = a.reverse(p, key="S1/R1", refund_id="F1", cause="F1", at=T0 + timedelta(hours=1), lines=[Line(2, 20000, False)])
    assert e is not None and e.points == -200 and e.spend == -20000
    assert a.balance == 300 and a.tier_spend == 30000
    again = a.reverse(p, key="S1/R1", refund_id="F1", cause="F1", at=T0, lines=[Line(2, 20000, False)])
    assert again is None and a.balance == 300  # the same refund redelivered reverses once


def test_l13_floor_at_zero_reverses_what_is_left_and_records_the_shortfall() -> None:
    p, a = prog("generic"), Account("m", "generic", "normal")
    sale(a, p, "R1", T0, 100000)
    a.redeem(p, points=800, cause="X", at=T0 + timedelta(days=2), tz=TZ)
    e = a.reverse(p, key="S1/R1", refund_id="F", cause="F", at=T0 + timedelta(days=3), lines=[Line(1, 100000, False)])
    assert e is not None and e.points == -200 and e.detail["shortfall"] == 800 and a.balance == 0


def test_l13_allow_negative_recovers_the_debt_from_later_earnings() -> None:
    p, a = prog("generic", returns="allow_negative"), Account("m", "generic", "normal")
    sale(a, p, "R1", T0, 100000)
    a.redeem(p, points=800, cause="X", at=T0 + timedelta(days=2), tz=TZ)
    a.reverse(p, key="S1/R1", refund_id="F", cause="F", at=T0 + timedelta(days=3), lines=[Line(1, 100000, False)])
    assert a.balance == -800
    sale(a, p, "R2", T0 + timedelta(days=4), 100000)
    assert a.balance == 200 and a.available(T0 + timedelta(days=6)) == 200


def test_l14_points_are_pending_until_the_next_business_day_and_refunds_cancel_them() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "R1", T0, 50000)
    assert a.available(T0 + timedelta(hours=11)) == 0 and a.pending(T0) == 500  # 23:00 local, same day
    assert a.available(T0 + timedelta(hours=12)) == 500  # 00:00 local next day
    a.reverse(p, key="S1/R1", refund_id="F", cause="F", at=T0 + timedelta(hours=1), lines=[Line(1, 50000, False)])
    assert a.balance == 0 and a.pending(T0) == 0


def test_l07_same_day_points_cannot_be_redeemed_the_same_day() -> None:
    p, a = prog("outdoor"), Account("m", "outdoor", "normal")
    sale(a, p, "R1", T0, 60000)
    with pytest.raises(RuleViolation) as e:
        a.redeem(p, points=500, cause="X", at=T0 + timedelta(hours=2), tz=TZ)
    assert e.value.rule == "L-14"
    a.redeem(p, points=500, cause="X", at=T0 + timedelta(days=1), tz=TZ)
    assert a.balance == 100


def test_l07_outdoor_redeems_only_in_march_and_august() -> None:
    p, a = prog("outdoor"), Account("m", "outdoor", "normal")
    sale(a, p, "R1", T0, 60000)
    with pytest.raises(RuleViolation) as e:
        a.redeem(p, points=500, cause="X", at=datetime(2026, 4, 2, tzinfo=UTC), tz=TZ)
    assert e.value.rule == "L-07" and e.value.field == "occurred_at"


def test_l07_insufficient_balance_is_refused() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "R1", T0, 30000)
    with pytest.raises(RuleViolation) as e:
        a.redeem(p, points=500, cause="X", at=T0 + timedelta(days=2), tz=TZ)
    assert e.value.rule == "L-07" and "insufficient" in e.value.message


def test_l15_spending_draws_the_oldest_expiring_points_first() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "OLD", T0, 30000)
    sale(a, p, "NEW", T0 + timedelta(days=100), 30000)
    a.redeem(p, points=400, cause="X", at=T0 + timedelta(days=101), tz=TZ)
    left = {lt.key: lt.remaining for lt in a.lots}
    assert left == {"S1/OLD": 0, "S1/NEW": 200}


def test_l08_per_entry_points_expire_after_twelve_months_as_a_ledger_entry() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "R1", T0, 30000)
    sale(a, p, "R2", T0 + timedelta(days=200), 20000)
    assert a.expire(p, at=T0 + timedelta(days=364), cause="E0") is None
    e = a.expire(p, at=T0 + timedelta(days=366), cause="E1")
    assert e is not None and e.kind == "expire" and e.points == -300 and a.balance == 200


def test_l08_cosmetics_zeroes_the_whole_balance_when_the_two_year_validity_ends() -> None:
    p, a = prog("cosmetics"), Account("m", "cosmetics", "normal")
    sale(a, p, "R1", T0, 30000)
    sale(a, p, "R2", T0 + timedelta(days=700), 20000)
    e = a.expire(p, at=T0 + timedelta(days=731), cause="E")
    assert e is not None and e.points == -500 and a.balance == 0
    sale(a, p, "R3", T0 + timedelta(days=740), 10000)  # a new validity period starts
    assert a.expire(p, at=T0 + timedelta(days=800), cause="E2") is None and a.balance == 100


def test_l16_points_expiring_within_the_notice_period_are_announced() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    sale(a, p, "R1", T0, 30000)
    assert a.expiring(p, T0 + timedelta(days=300))[0] == 0
    pts, when = a.expiring(p, T0 + timedelta(days=340))
    assert pts == 300 and when is not None and when.date().isoformat() == "2027-03-02"


def test_l04_jewelry_rolling_twelve_months_of_1000_yuan_makes_vip_on_the_crossing_sale() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    assert a.earn(p, key="a", cause="a", at=T0, tz=TZ, lines=[Line(1, 60000, False)])[1] is None
    _, ch = a.earn(p, key="b", cause="b", at=T0 + timedelta(days=300), tz=TZ, lines=[Line(1, 40000, False)])
    assert ch is not None and ch.to_tier.code == "vip" and "12 months" in ch.reason


def test_l04_spend_outside_the_window_does_not_count() -> None:
    p, a = prog("cosmetics"), Account("m", "cosmetics", "normal")
    a.earn(p, key="a", cause="a", at=T0, tz=TZ, lines=[Line(1, 99000, False)])
    _, ch = a.earn(p, key="b", cause="b", at=T0 + timedelta(days=200), tz=TZ, lines=[Line(1, 99000, False)])
    assert ch is None and a.tier == "normal"


def test_l04_outdoor_one_receipt_of_10000_yuan_goes_straight_to_gold() -> None:
    p, a = prog("outdoor"), Account("m", "outdoor", "normal")
    _, ch = a.earn(p, key="a", cause="a", at=T0, tz=TZ, lines=[Line(1, 1000000, False)])
    assert ch is not None and ch.to_tier.code == "gold"


def test_l01_special_price_lines_count_neither_for_points_nor_tiers() -> None:
    p, a = prog("jewelry"), Account("m", "jewelry", "normal")
    assert sale(a, p, "R", T0, 10000, 90000, special=(2,)) == 100
    assert a.tier == "normal" and a.tier_spend == 10000


def test_l06_higher_tiers_earn_at_their_multiplier() -> None:
    p, a = prog("cosmetics"), Account("m", "cosmetics", "vip")
    assert sale(a, p, "R", T0, 10000) == 150


def test_l05_a_tier_kept_below_the_line_for_the_window_drops_one_tier() -> None:
    p, a = prog("dental"), Account("m", "dental", "normal")
    a.earn(p, key="a", cause="a", at=T0, tz=TZ, lines=[Line(1, 900000, False)])
    assert a.tier == "gold"
    assert a.downgrade(p, T0 + timedelta(days=200)) is None  # still qualifies within 12 months
    ch = a.downgrade(p, T0 + timedelta(days=400))
    assert ch is not None and ch.to_tier.code == "silver" and "L-05" in ch.reason and a.tier == "silver"


def test_l02_adjustment_cannot_take_more_than_the_balance() -> None:
    a = Account("m", "generic", "normal")
    a.adjust(points=100, cause="A", at=T0, reason="lost receipt")
    with pytest.raises(RuleViolation):
        a.adjust(points=-200, cause="B", at=T0, reason="typo")
    assert a.balance == 100 and a.available(T0) == 100


def test_l02_a_busy_account_stays_small_and_merged_receipts_stay_refundable() -> None:
    p, a = prog("generic"), Account("m", "generic", "normal")
    for i in range(300):
        sale(a, p, f"R{i}", T0 + timedelta(minutes=i), 10000)
    assert a.balance == 30000 and len(a.lots) <= 130 and len(a.spends) <= 130
    assert sum(lt.remaining for lt in a.lots) == 30000 and a.tier_spend == 3_000_000
    assert a.available(T0 + timedelta(days=2)) == 30000
    from loyalty.domain.account import Lot

    hint = Lot("S1/R0", T0, T0, None, 0, {1: 100}, {1: 10000})  # what the earn entry of R0 says
    e = a.reverse(p, key="S1/R0", refund_id="F", cause="F", at=T0 + timedelta(days=3),
                  lines=[Line(1, 10000, False)], hint=hint)
    assert e is not None and e.points == -100 and a.balance == 29900 and a.tier_spend == 2_990_000
    assert sum(s for _, _, s in a.spends) == 2_990_000


def test_l05_merged_small_receipts_do_not_hold_a_tier_like_one_big_receipt() -> None:
    j = prog("jewelry")
    p = j.model_copy(update={"tiers": [j.tiers[0], j.tiers[1].model_copy(update={"rolling_spend_min": 10**9})]})
    small, big = Account("m", "jewelry", "vip"), Account("m2", "jewelry", "vip")
    for a, first in ((small, [1000] * 70), (big, [68000])):  # 700 yuan in small receipts on one day, or one
        for i, paid in enumerate(first):
            sale(a, p, f"D{i}", T0 + timedelta(minutes=i), paid)
        for i in range(200):
            sale(a, p, f"L{i}", T0 + timedelta(days=1, minutes=i), 100)
        assert a.summarised() and all(not k.startswith("S1/D") for _, k, _ in a.spends if a is small)
    later = T0 + timedelta(days=400)
    ch = small.downgrade(p, later)
    assert ch is not None and ch.to_tier.code == "normal"  # a merged day is not one receipt of 700 yuan
    assert big.downgrade(p, later) is None and any(k == "S1/D0" for _, k, _ in big.spends)  # kept single


def test_l02_the_state_says_when_the_ledger_must_be_asked_about_an_old_receipt() -> None:
    p, a = prog("generic"), Account("m", "generic", "normal")
    assert not a.may_have_forgotten(T0)  # a new account has earned nothing
    sale(a, p, "R1", T0, 10000)
    assert not a.may_have_forgotten(T0 + timedelta(hours=1)) and a.may_have_forgotten(T0 - timedelta(days=1))
    for i in range(200):
        sale(a, p, f"R{i + 2}", T0 + timedelta(minutes=i + 1), 100)
    assert a.summarised() and a.may_have_forgotten(T0 + timedelta(days=1))
