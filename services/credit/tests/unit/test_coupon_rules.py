"""C-08 rebates and C-09 coupons as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from credit.config import CreditSettings
from credit.domain.coupons import (
    Reconciliation,
    month_window,
    rebate_for,
    release_cutoff,
    tally_window,
    unclaimed_spend,
)
from credit.domain.tenancy import coupon_number_well_formed, luhn_digit, new_coupon_number
from credit.service.context import Credit


def test_c09_coupon_numbers_are_random_with_a_check_digit_not_a_sequence() -> None:
    """C-09, O-02: a coupon number says nothing about the next one; a mistyped digit fails the check digit."""
    nos = [new_coupon_number("GB26-") for _ in range(200)]
    assert len(set(nos)) == 200 and all(n.startswith("GB26-") and len(n) == 5 + 13 for n in nos)
    assert all(coupon_number_well_formed(n, 5) for n in nos)
    digits = sorted(int(n[5:-1]) for n in nos)
    assert min(b - a for a, b in zip(digits, digits[1:], strict=False)) > 1  # no neighbours: not a sequence
    n = nos[0]
    typo = n[:-2] + str((int(n[-2]) + 1) % 10) + n[-1]
    assert not coupon_number_well_formed(typo) and not coupon_number_well_formed("GB26-000001")
    assert luhn_digit("7992739871") == "3"  # the textbook Luhn example


def test_c09_tally_at_17_00_store_time_covers_the_day_before_from_17_00() -> None:
    start, end = tally_window(date(2026, 11, 23), "Asia/Shanghai")
    assert (start, end) == (datetime(2026, 11, 22, 9, tzinfo=UTC), datetime(2026, 11, 23, 9, tzinfo=UTC))


def test_c08_highest_tier_reached_sets_the_rebate_rounded_down_to_the_fen() -> None:
    tiers = [(10_000_00, 100), (50_000_00, 300), (100_000_00, 500)]
    assert rebate_for(9_999_99, tiers) == (0, 0)
    assert rebate_for(50_000_00, tiers) == (300, 150_000)
    assert rebate_for(123_456_78, tiers) == (500, 617_283)  # 5% of 12,345,678 fen = 617,283.9


def test_c08_reconciliation_balances_to_the_fen() -> None:
    assert Reconciliation(opening=1000, issued=500, sold=700, returned=0, rebates=100, closing=700).balanced
    assert not Reconciliation(opening=1000, issued=500, sold=700, returned=0, rebates=100, closing=701).balanced
    # C-08: coupons back in stock after a bounced cheque are booked in the month of the bounce
    assert Reconciliation(opening=700, issued=0, sold=0, returned=300, rebates=0, closing=1000).balanced


def test_c08_month_window_in_finance_time() -> None:
    assert month_window("2026-12", "Asia/Shanghai") == (datetime(2026, 11, 30, 16, tzinfo=UTC),
                                                        datetime(2026, 12, 31, 16, tzinfo=UTC))


class Clock:
    """An injected clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now


WINDOW = timedelta(minutes=30)


def test_c09_a_till_spend_whose_sale_never_came_is_released_once_the_window_has_passed() -> None:
    spent = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    clock = Clock(spent)
    clock.now += timedelta(minutes=29, seconds=59)
    assert not unclaimed_spend("redeemed", None, spent, clock(), WINDOW)  # a retry of the receipt still replays
    clock.now = spent + WINDOW
    assert unclaimed_spend("redeemed", None, spent, clock(), WINDOW)
    clock.now += timedelta(days=3)
    assert unclaimed_spend("redeemed", None, spent, clock(), WINDOW)


def test_c09_a_spend_tied_to_its_sale_or_a_coupon_not_spent_is_never_released() -> None:
    spent = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    later = spent + timedelta(hours=5)
    assert not unclaimed_spend("redeemed", "sale-1", spent, later, WINDOW)  # the sale reached credit
    assert not unclaimed_spend("sold", None, None, later, WINDOW)  # released already: nothing twice
    assert not unclaimed_spend("held", None, None, later, WINDOW)
    assert not unclaimed_spend("in_stock", None, None, later, WINDOW)


def test_c09_release_cutoff_is_the_window_before_the_clock_and_the_window_defaults_to_30_minutes() -> None:
    now = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert release_cutoff(now, WINDOW) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    spent_at_cutoff = release_cutoff(now, WINDOW)
    assert unclaimed_spend("redeemed", None, spent_at_cutoff, now, WINDOW)
    assert not unclaimed_spend("redeemed", None, spent_at_cutoff + timedelta(microseconds=1), now, WINDOW)
    assert CreditSettings.model_fields["coupon_release_after_s"].default == 1800
    assert Credit.__dataclass_fields__["coupon_release_s"].default == 1800


def test_c08_a_period_takes_the_tiers_in_force_on_its_last_day_and_a_change_never_back_dates() -> None:
    from credit.domain.coupons import TierVersion, tier_change_refusal, tiers_in_force

    old = TierVersion(1, date(2026, 1, 1), ((1_000_000, 100),))
    fix = TierVersion(2, date(2026, 1, 1), ((1_000_000, 150),))  # set later the same day: it wins
    new = TierVersion(3, date(2027, 1, 1), ((1_000_000, 300),))
    versions = [new, old, fix]
    assert tiers_in_force(versions, date(2025, 12, 31)) is None
    assert tiers_in_force(versions, date(2026, 12, 31)) is fix  # December keeps the tiers it had
    assert tiers_in_force(versions, date(2027, 1, 1)) is new
    assert tiers_in_force([], date(2027, 1, 1)) is None
    today = date(2026, 12, 2)
    assert tier_change_refusal([(1, 100)], today, today) is None
    assert tier_change_refusal([(1, 100)], date(2027, 1, 1), today) is None
    back = tier_change_refusal([(1, 100)], date(2026, 12, 1), today)
    assert back is not None and (back.rule, back.field) == ("C-08", "effective_from")
    twice = tier_change_refusal([(1, 100), (1, 200)], today, today)
    assert twice is not None and (twice.rule, twice.field) == ("C-08", "tiers")
