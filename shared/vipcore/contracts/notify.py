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


@contract
class MessageDelivered(EventData):
    """The provider's delivery receipt says the handset got it (N-05)."""

    TYPE = "notify.message.delivered"
    message_id: str
    member_id: str | None
    provider_message_id: str


@contract
class MessageFailed(EventData):
    """A send attempt failed; it will be retried (N-05)."""

    TYPE = "notify.message.failed"
    message_id: str
    member_id: str | None
    attempt: int
    error: str


@contract
class MessageParked(EventData):
    """A message failed for good and waits for an operator, never dropped (N-05)."""

    TYPE = "notify.message.parked"
    message_id: str
    member_id: str | None
    reason: str
