"""M-03 purge, M-09 dormancy, M-10 detachment, M-11 claiming: month ends and ties."""

from datetime import date

from members.domain.periodic import add_months, claim, detached, dormant, month_bounds, previous_period, purge_due


def test_m09_month_ends_clamp() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 10, 31), 3) == date(2027, 1, 31)


def test_m09_no_consumption_for_three_months_makes_public() -> None:
    assert not dormant(date(2026, 8, 31), date(2026, 11, 29))
    assert dormant(date(2026, 8, 31), date(2026, 11, 30))
    assert not dormant(date(2026, 11, 30), date(2027, 2, 27)) and dormant(date(2026, 11, 30), date(2027, 2, 28))


def test_m03_incomplete_file_purged_after_90_days() -> None:
    assert not purge_due(date(2026, 1, 1), date(2026, 3, 31))
    assert purge_due(date(2026, 1, 1), date(2026, 4, 1))


def test_m10_half_the_month_through_others_detaches() -> None:
    assert detached(["S2", "S1"], "S1")
    assert not detached(["S2", "S1", "S1"], "S1")
    assert not detached([], "S1")


def test_m11_most_served_claims_with_at_least_two() -> None:
    assert claim(["S1", "S2", "S1"], {}) == ("S1", {})
    assert claim(["S1"], {}) == (None, {})


def test_m11_tie_stays_public_and_carries_into_next_month() -> None:
    winner, carry = claim(["S1", "S2", "S1", "S2"], {})
    assert winner is None and carry == {"S1": 2, "S2": 2}
    assert claim(["S2"], carry) == ("S2", {})


def test_periods_month_bounds() -> None:
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert previous_period(date(2027, 1, 1)) == "2026-12"
