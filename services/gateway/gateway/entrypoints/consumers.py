"""Kafka adapters: the gateway keeps stores, the member directory and the blacklist from members.events."""

from __future__ import annotations

from vipcore.contracts.members import (
    CardExpired,
    CardIssued,
    CardLost,
    CardReplaced,
    MemberApproved,
    MemberBlacklisted,
    MemberRegistered,
    MemberStateChanged,
    StoreRegistered,
)
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS, POS_SALES

from ..service.directory import Directory

FOLLOWED = (StoreRegistered, MemberRegistered, MemberApproved, MemberStateChanged, MemberBlacklisted,
            CardIssued, CardLost, CardReplaced, CardExpired)


def register(rt: ServiceRuntime, d: Directory) -> None:
    rt.consume(MEMBERS_EVENTS, d.handlers(), accept={c.TYPE: [c] for c in FOLLOWED})
    rt.publishes(POS_SALES, SaleRecorded, SaleRefunded)
