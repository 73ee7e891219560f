"""C-08 rebates and C-09 coupons as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from credit.domain.coupons import Reconciliation, coupon_numbers, month_window, rebate_for, tally_window


def test_c09_coupons_are_numbered_in_sequence() -> None:
    assert coupon_numbers("GB26-", 9, 3) == ["GB26-000009", "GB26-000010", "GB26-000011"]


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
