"""Kafka adapters: which topics and event versions loyalty consumes, and the handler for each."""

from __future__ import annotations

from vipcore.contracts.loyalty import (
    BirthdayToday,
    PointsEarned,
    PointsExpired,
    PointsExpiring,
    PointsRedeemed,
    PointsReversed,
    RewardReady,
    TierChanged,
    TierDowngradeNotice,
)
from vipcore.contracts.members import CardExpired, CardReplaced, MemberRegistered, MemberUpdated, StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import LOYALTY_EVENTS, MEMBERS_EVENTS, POS_SALES

from ..service.handlers import LoyaltyHandlers


def register(rt: ServiceRuntime, h: LoyaltyHandlers) -> None:
    rt.consume(POS_SALES, {SaleRecorded: h.on_sales, SaleRefunded: h.on_refunds})
    rt.consume(MEMBERS_EVENTS, {StoreRegistered: h.on_store_registered,
                                MemberRegistered: h.on_members, MemberUpdated: h.on_members,
                                CardReplaced: h.on_cards, CardExpired: h.on_cards})
    rt.publishes(LOYALTY_EVENTS, TierChanged, PointsEarned, PointsReversed, PointsRedeemed, PointsExpiring,
                 PointsExpired, RewardReady, BirthdayToday, TierDowngradeNotice)
