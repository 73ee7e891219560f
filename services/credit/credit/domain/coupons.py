"""Group-buy coupons (C-09) and rebates (C-08) as plain rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .rules import Refusal

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
class TierVersion:
    """C-08: one version of the rebate tiers, in force from a business date of HQ's zone until a later one."""

    version: int
    effective_from: date
    tiers: tuple[tuple[int, int], ...]  # (purchases floor in fen, rate in basis points)


def tiers_in_force(versions: Sequence[TierVersion], day: date) -> TierVersion | None:
    """C-08: the version in force on `day`: the latest effective on or before it (of two effective the same day,
    the one set last). A period is rebated under the version in force on its last day, so a change effective
    later never alters a period already over."""
    started = [v for v in versions if v.effective_from <= day]
    return max(started, key=lambda v: (v.effective_from, v.version), default=None)


def tier_change_refusal(tiers: Sequence[tuple[int, int]], effective_from: date, today: date) -> Refusal | None:
    """C-08: a new version of the tiers starts today or later (periods already over keep theirs) and gives one
    rate per purchases floor."""
    if effective_from < today:
        return Refusal("C-08", "effective_from", f"tiers cannot start before today ({today.isoformat()}): "
                                                 "periods already over keep the tiers they had")
    if len({f for f, _ in tiers}) != len(tiers):
        return Refusal("C-08", "tiers", "two tiers start at the same purchases: one rate per floor")
    return None


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
