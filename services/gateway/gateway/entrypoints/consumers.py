"""Kafka adapters: the gateway keeps stores and the member directory from members.events."""

from __future__ import annotations

from vipcore.contracts.members import MemberRegistered, StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS, POS_SALES

from ..service.directory import Directory


def register(rt: ServiceRuntime, d: Directory) -> None:
    rt.consume(MEMBERS_EVENTS, {StoreRegistered.TYPE: d.on_stores, MemberRegistered.TYPE: d.on_members},
               accept={StoreRegistered.TYPE: [StoreRegistered], MemberRegistered.TYPE: [MemberRegistered]})
    rt.publishes(POS_SALES, SaleRecorded, SaleRefunded)
