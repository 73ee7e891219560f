"""Events produced by the notify service (topic notify.events, keyed by member)."""

from __future__ import annotations

from ..events import EventData, contract


@contract
class MessageSent(EventData):
    """An SMS was accepted by the provider (N-04: one per cause)."""

    TYPE = "notify.message.sent"
    message_id: str
    member_id: str | None
    cause_event_id: str
    template: str
    provider_message_id: str
