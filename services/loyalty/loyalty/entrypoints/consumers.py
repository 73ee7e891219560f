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
    rt.consume(POS_SALES, {SaleRecorded.TYPE: h.on_sales, SaleRefunded.TYPE: h.on_refunds},
               accept={SaleRecorded.TYPE: [SaleRecorded], SaleRefunded.TYPE: [SaleRefunded]})
    rt.consume(MEMBERS_EVENTS, {StoreRegistered.TYPE: h.on_store_registered,
                                MemberRegistered.TYPE: h.on_members, MemberUpdated.TYPE: h.on_members,
                                CardReplaced.TYPE: h.on_cards, CardExpired.TYPE: h.on_cards},
               accept={StoreRegistered.TYPE: [StoreRegistered], MemberRegistered.TYPE: [MemberRegistered],
                       MemberUpdated.TYPE: [MemberUpdated], CardReplaced.TYPE: [CardReplaced],
                       CardExpired.TYPE: [CardExpired]})
    rt.publishes(LOYALTY_EVENTS, TierChanged, PointsEarned, PointsReversed, PointsRedeemed, PointsExpiring,
                 PointsExpired, RewardReady, BirthdayToday, TierDowngradeNotice)
