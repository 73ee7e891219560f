"""Staff KPI (M-21) and revisit planning (M-20) as data and pure functions."""

from __future__ import annotations

from datetime import date, timedelta

# M-21: minimum held (active) members at months 1-9 in the position, by position group.
RAMPS: dict[str, tuple[int, ...]] = {
    "lead": (3, 6, 10, 14, 18, 22, 28, 34, 40),
    "service": (2, 4, 6, 8, 10, 12, 14, 17, 20),
    "kitchen_bar": (1, 2, 3, 4, 5, 6, 7, 8, 10),
}
POSITION_GROUP = {
    "store_gm": "lead", "lobby_manager": "lead", "customer_service_manager": "lead",
    "customer_service_supervisor": "service", "customer_service_rep": "service", "floor_manager": "service",
    "sales_assistant": "service",
    "bar_supervisor": "kitchen_bar", "sous_chef": "kitchen_bar", "inspector": "kitchen_bar",
}

# M-20: intent level → days until the next visit
INTENT_NEXT_DAYS = {"H": 7, "A": 30, "B": 90, "C": 180}
REVISIT_AT_LEAST_DAYS = 365
# M-20: key group buyers are called in the two weeks before these days (lunar ones by year, as data).
HOLIDAYS: dict[int, dict[str, date]] = {
    2026: {"New Year": date(2026, 1, 1), "Spring Festival": date(2026, 2, 17), "Women's Day": date(2026, 3, 8),
           "Mid-Autumn": date(2026, 9, 25), "National Day": date(2026, 10, 1)},
    2027: {"New Year": date(2027, 1, 1), "Spring Festival": date(2027, 2, 6), "Women's Day": date(2027, 3, 8),
           "Mid-Autumn": date(2027, 9, 15), "National Day": date(2027, 10, 1)},
}


def month_in_position(started: date, period_end: date) -> int:
    """1 in the month the staff member started, 2 the next, ... (the ramp stays at month 9 after that)."""
    return (period_end.year - started.year) * 12 + period_end.month - started.month + 1


def target(position: str, month_no: int) -> int | None:
    """Minimum held members for this month in the position (None: the position has no KPI)."""
    group = POSITION_GROUP.get(position)
    if group is None or month_no < 1:
        return None
    ramp = RAMPS[group]
    return ramp[min(month_no, len(ramp)) - 1]


def next_visit(intent: str, visited: date) -> date:
    """M-20: H within a week, A within a month, B within 1-3 months, C over 3 months."""
    return visited + timedelta(days=INTENT_NEXT_DAYS[intent])


def holiday_calls_due(today: date) -> list[str]:
    """M-20: holidays falling within the next 14 days (key group buyers are called now)."""
    out = []
    for y in (today.year, today.year + 1):
        for name, d in HOLIDAYS.get(y, {}).items():
            if today <= d <= today + timedelta(days=14):
                out.append(name)
    return out
