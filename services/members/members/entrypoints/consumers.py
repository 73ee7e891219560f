"""Kafka adapters: members records each member consumption from pos.sales and documents what it emits."""

from __future__ import annotations

from vipcore.contracts.members import (
    CardExpired,
    CardIssued,
    CardLost,
    CardReplaced,
    HandoverCompleted,
    MemberApproved,
    MemberBlacklisted,
    MemberBlacklistLifted,
    MemberRegistered,
    MemberStateChanged,
    MemberUpdated,
    StaffChanged,
    StoreRegistered,
)
from vipcore.contracts.pos import SaleRecorded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS, POS_SALES

from ..service import consumption


def register(rt: ServiceRuntime) -> None:
    rt.consume(POS_SALES, {SaleRecorded: consumption.on_sales})
    rt.publishes(MEMBERS_EVENTS, StoreRegistered, MemberRegistered, MemberApproved, MemberUpdated,
                 MemberStateChanged, MemberBlacklisted, MemberBlacklistLifted, CardIssued, CardLost, CardReplaced,
                 CardExpired, HandoverCompleted, StaffChanged)
