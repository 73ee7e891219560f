"""Events produced by the loyalty service (topic loyalty.events, keyed by member)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..events import EventData, contract


@contract
class TierChanged(EventData):
    """A member moved up or down the program's tier ladder (L-04, L-05)."""

    TYPE = "loyalty.tier.changed"
    member_id: str
    program: str
    brand: str = Field(description="The company's name, the only sender of messages (N-02)")
    from_tier: str
    to_tier: str
    to_tier_name: str
    reason: str
    cause_event_id: str
    occurred_at: datetime
