"""Events produced by the loyalty service (topic loyalty.events, keyed by member)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..events import EventData, contract


@contract
class TierChanged(EventData):
    """A member moved up or down the program's tier ladder (L-04, L-05)."""

    TYPE = "loyalty.tier.changed"
    member_id: str
    program: str
    brand: str = Field(description="The company's name, the only sender of messages (N-02)")
    from_tier: str
    to_tier: str
    to_tier_name: str
    reason: str
    cause_event_id: str
    occurred_at: datetime


@contract
class PointsEarned(EventData):
    """Points earned by a sale (L-01); notify may thank members for large purchases (N-01)."""

    TYPE = "loyalty.points.earned"
    member_id: str
    program: str
    brand: str
    points: int
    balance_after: int
    receipt_no: str
    store_id: str
    cause_event_id: str
    occurred_at: datetime


@contract
class PointsReversed(EventData):
    """Points taken back by a refund (L-03, L-13)."""

    TYPE = "loyalty.points.reversed"
    member_id: str
    program: str
    points: int
    shortfall: int = Field(0, description="points already spent that could not be reversed (L-13)")
    balance_after: int
    receipt_no: str
    cause_event_id: str
    occurred_at: datetime


@contract
class PointsRedeemed(EventData):
    """A redemption (L-07): for a reward or as money; cannot be cancelled."""

    TYPE = "loyalty.points.redeemed"
    member_id: str
    program: str
    redemption_id: str
    points: int
    balance_after: int
    reward_id: str | None = None
    cash_value: int | None = Field(None, description="fen, when converted to money")
    store_id: str
    occurred_at: datetime


@contract
class PointsExpiring(EventData):
    """Points will expire on `expires_on` unless used (L-08, L-16): the notice before."""

    TYPE = "loyalty.points.expiring"
    member_id: str
    program: str
    brand: str
    points: int
    expires_on: datetime


@contract
class PointsExpired(EventData):
    """Points expired: a ledger entry (L-08)."""

    TYPE = "loyalty.points.expired"
    member_id: str
    program: str
    points: int
    balance_after: int
    occurred_at: datetime
    reason: str | None = Field(default=None, description="why, when not the schedule: the card's validity "
                                                         "ended (L-08) or a replaced card keeps no points (M-17)")


@contract
class RewardReady(EventData):
    """A member reached a reward threshold and may claim it at the desk with ID (L-09)."""

    TYPE = "loyalty.reward.ready"
    member_id: str
    program: str
    brand: str
    reward_id: str
    reward_name: str
    points_required: int


@contract
class BirthdayToday(EventData):
    """It is the member's birthday in their store's time zone (L-10)."""

    TYPE = "loyalty.birthday"
    member_id: str
    program: str
    brand: str
    store_id: str
    on: datetime
    discount_pct: int = 0


@contract
class TierDowngradeNotice(EventData):
    """A member will drop a tier at the next scheduled re-evaluation unless they buy (L-05, L-16)."""

    TYPE = "loyalty.tier.downgrade_notice"
    member_id: str
    program: str
    brand: str
    from_tier: str
    to_tier: str
    to_tier_name: str
    on: datetime = Field(description="the date of the re-evaluation")
    reason: str
