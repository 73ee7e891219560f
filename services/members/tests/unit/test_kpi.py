"""M-21 ramps as data, M-20 intent levels and holiday calls."""

from datetime import date

from members.domain.kpi import holiday_calls_due, month_in_position, next_visit, target


def test_m21_ramp_by_position_over_nine_months() -> None:
    assert [target("store_gm", m) for m in range(1, 10)] == [3, 6, 10, 14, 18, 22, 28, 34, 40]
    assert [target("customer_service_rep", m) for m in (1, 8, 9, 12)] == [2, 17, 20, 20]
    assert [target("sous_chef", m) for m in (1, 9)] == [1, 10]
    assert target("cashier_trainee", 3) is None


def test_m21_month_in_position_counts_calendar_months() -> None:
    assert month_in_position(date(2026, 1, 31), date(2026, 1, 31)) == 1
    assert month_in_position(date(2026, 1, 31), date(2026, 3, 31)) == 3
    assert month_in_position(date(2025, 12, 1), date(2026, 1, 31)) == 2


def test_m20_intent_levels_set_the_next_visit() -> None:
    d = date(2026, 11, 23)
    assert [next_visit(x, d) for x in "HABC"] == [date(2026, 11, 30), date(2026, 12, 23), date(2027, 2, 21),
                                                  date(2027, 5, 22)]


def test_m20_key_group_buyers_called_two_weeks_before_holidays() -> None:
    assert holiday_calls_due(date(2026, 9, 20)) == ["Mid-Autumn", "National Day"]
    assert holiday_calls_due(date(2026, 12, 20)) == ["New Year"]
    assert holiday_calls_due(date(2026, 11, 1)) == []
