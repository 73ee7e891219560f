"""Kafka adapters: notify listens to members, loyalty and credit events (contacts, segments, triggers N-01)."""

from __future__ import annotations

from vipcore.contracts import bookings, credit, loyalty, members
from vipcore.events import EventData, known_contracts
from vipcore.runtime import ServiceRuntime
from vipcore.topics import CREDIT_EVENTS, LOYALTY_EVENTS, MEMBERS_EVENTS

from ..domain.rules import TRIGGERS
from ..service.triggers import Triggers

# events kept as facts (contacts, stores, segment data) besides the configured triggers
FACTS: dict[str, list[type[EventData]]] = {
    "members": [members.StoreRegistered, members.MemberRegistered, members.MemberUpdated,
                members.MemberStateChanged],
    "loyalty": [loyalty.TierChanged, loyalty.PointsEarned],
    "credit": [],
}
MODULES = {"members": (members, bookings), "loyalty": (loyalty,), "credit": (credit,)}
TOPICS = {"members": MEMBERS_EVENTS, "loyalty": LOYALTY_EVENTS, "credit": CREDIT_EVENTS}


def contracts_by_type() -> dict[str, type[EventData]]:
    return {etype: cls for (etype, _), cls in known_contracts().items()
            if etype.split(".")[0] in MODULES}


def register(rt: ServiceRuntime, t: Triggers) -> None:
    by_type = contracts_by_type()
    for source, topic in TOPICS.items():
        types = {c.TYPE for c in FACTS[source]} | {tr.event_type for tr in TRIGGERS
                                                   if tr.event_type.startswith(source + ".")}
        rt.consume(topic, {by_type[ty]: t.on_events for ty in sorted(types)})
