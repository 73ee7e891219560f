"""Time-driven member rules as pure functions: M-03 purge, M-09 dormancy, M-10 detachment, M-11 claiming."""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

PURGE_AFTER_DAYS = 90  # M-03
DORMANT_AFTER_MONTHS = 3  # M-09
CLAIM_MIN_SERVICES = 2  # M-11


def add_months(d: date, months: int) -> date:
    """Calendar months, clamped at month end: 30 Nov + 3 = 28/29 Feb, 31 Jan + 1 = 28/29 Feb."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_bounds(period: str) -> tuple[date, date]:
    """'2026-10' → (2026-10-01, 2026-10-31)."""
    y, m = (int(x) for x in period.split("-"))
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def previous_period(d: date) -> str:
    p = d.replace(day=1) - timedelta(days=1)
    return f"{p.year:04d}-{p.month:02d}"


def purge_due(created: date, today: date) -> bool:
    """M-03: a file still incomplete 90 days after creation is purged."""
    return today >= created + timedelta(days=PURGE_AFTER_DAYS)


def dormant(last_activity: date, today: date) -> bool:
    """M-09: an active member with no consumption for 3 months becomes public."""
    return today >= add_months(last_activity, DORMANT_AFTER_MONTHS)


def detached(servers: Iterable[str | None], referrer: str | None) -> bool:
    """M-10: in one calendar month, >= 50% of the consumptions booked through someone else than the referrer."""
    s = list(servers)
    if not s or referrer is None:
        return False
    others = sum(1 for x in s if x != referrer)
    return others * 2 >= len(s)


def claim(month: Iterable[str], carried: dict[str, int]) -> tuple[str | None, dict[str, int]]:
    """M-11: the staff member who served a public member most (>= 2 times, carried counts included) claims it;
    a tie keeps the member public and the counts carry into the next month. Returns (winner, carry)."""
    counts = Counter(carried)
    counts.update(x for x in month if x)
    if not counts:
        return None, {}
    top = max(counts.values())
    leaders = [s for s, n in counts.items() if n == top]
    if top < CLAIM_MIN_SERVICES:
        return None, {}
    if len(leaders) > 1:
        return None, dict(counts)
    return leaders[0], {}
