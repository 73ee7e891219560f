"""Kafka adapters: the gateway keeps stores, the member directory and the blacklist from members.events."""

from __future__ import annotations

from vipcore.contracts.members import (
    CardExpired,
    CardIssued,
    CardLost,
    CardReplaced,
    MemberApproved,
    MemberBlacklisted,
    MemberBlacklistLifted,
    MemberRegistered,
    MemberStateChanged,
    MemberUpdated,
    StoreRegistered,
)
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS, POS_SALES

from ..service.directory import Directory


def register(rt: ServiceRuntime, d: Directory) -> None:
    rt.consume(MEMBERS_EVENTS, {
        StoreRegistered: d.on_stores, MemberRegistered: d.on_members, MemberUpdated: d.on_updated,
        MemberApproved: d.on_approved,
        MemberStateChanged: d.on_state_changed, MemberBlacklisted: d.on_blacklisted,
        MemberBlacklistLifted: d.on_blacklist_lifted,
        CardIssued: d.on_card_issued, CardLost: d.on_card_lost, CardReplaced: d.on_card_replaced,
        CardExpired: d.on_card_expired,
    })
    rt.publishes(POS_SALES, SaleRecorded, SaleRefunded)
