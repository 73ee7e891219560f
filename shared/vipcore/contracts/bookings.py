"""Bookings (an appointment or a table reserved for a member): topic members.events, keyed by member.

Produced by whichever service takes bookings (members today has none); notify confirms them by SMS (N-01).
Kept in its own module so it can be added without touching the other contract files.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..events import EventData, contract


@contract
class BookingConfirmed(EventData):
    """A member's booking is confirmed: notify sends the confirmation (N-01)."""

    TYPE = "members.booking.confirmed"
    booking_id: str
    member_id: str
    store_id: str
    store_name: str
    starts_at: datetime = Field(description="UTC; shown in the store's time zone")
    party_size: int = Field(1, ge=1)
    booked_by_staff_id: str | None = None
