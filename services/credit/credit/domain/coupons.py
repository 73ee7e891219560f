"""Group-buy coupons (C-09) and rebates (C-08) as plain rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TALLY_HOUR = 17  # C-09: coupon sales are tallied daily at 17:00 store time
RELEASED = "redemption_released"  # C-09 ledger kind: a spend whose sale never reached credit, undone


def tally_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """C-09: the tally of `day` covers sales from 17:00 the day before to 17:00 that day (store time), in UTC."""
    z = ZoneInfo(tz)
    end = datetime.combine(day, time(TALLY_HOUR), z)
    return (end - timedelta(days=1)).astimezone(UTC), end.astimezone(UTC)


def unclaimed_spend(status: str, sale_id: str | None, spent_at: datetime | None, now: datetime,
                    window: timedelta) -> bool:
    """C-09: a coupon spent for a receipt (at the till, before its sale is recorded) whose sale has not reached
    credit within `window` of the spend is released: the sale was never recorded, the coupon is spendable again.
    A coupon tied to its sale, or spent less than `window` ago, stays spent."""
    return status == "redeemed" and sale_id is None and spent_at is not None and now - spent_at >= window


def release_cutoff(now: datetime, window: timedelta) -> datetime:
    """C-09: spends at or before this instant, still without their sale, are due for release."""
    return now - window


def month_window(month: str, tz: str) -> tuple[datetime, datetime]:
    """The calendar month `YYYY-MM` in the finance time zone, as UTC bounds."""
    y, m = (int(x) for x in month.split("-"))
    z = ZoneInfo(tz)
    start = datetime(y, m, 1, tzinfo=z)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=z)
    return start.astimezone(UTC), end.astimezone(UTC)


def rebate_for(purchases: int, tiers: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """C-08: the highest tier the period's purchases reach -> (rate in basis points, rebate in fen, rounded down)."""
    reached = [rate for floor, rate in tiers if purchases >= floor]
    rate = max(reached) if reached else 0
    return rate, purchases * rate // 10_000


@dataclass(frozen=True)
class Reconciliation:
    """C-08: monthly coupon reconciliation with finance, in fen of face value."""

    opening: int
    issued: int
    sold: int
    returned: int  # coupons back in stock this month: their cheque bounced (C-05)
    rebates: int
    closing: int

    @property
    def balanced(self) -> bool:
        return self.opening + self.issued + self.returned - self.sold - self.rebates == self.closing
