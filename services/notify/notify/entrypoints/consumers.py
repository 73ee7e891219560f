"""Kafka adapters: notify listens to loyalty events (messages) and members events (contacts)."""

from __future__ import annotations

from vipcore.contracts.loyalty import TierChanged
from vipcore.contracts.members import MemberRegistered
from vipcore.runtime import ServiceRuntime
from vipcore.topics import LOYALTY_EVENTS, MEMBERS_EVENTS

from ..service.triggers import Triggers


def register(rt: ServiceRuntime, t: Triggers) -> None:
    rt.consume(LOYALTY_EVENTS, {TierChanged.TYPE: t.on_tier_changed}, accept={TierChanged.TYPE: [TierChanged]})
    rt.consume(MEMBERS_EVENTS, {MemberRegistered.TYPE: t.on_members},
               accept={MemberRegistered.TYPE: [MemberRegistered]})
