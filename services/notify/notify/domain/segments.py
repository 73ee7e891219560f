"""Campaign segments (N-01 'to a segment'): store, region, tier, class, birthday month, last purchase, consent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Segment(BaseModel):
    """Every given criterion must hold; lists mean 'any of'."""

    store_ids: list[str] | None = None
    region_codes: list[str] | None = None
    tiers: list[str] | None = None
    customer_classes: list[str] | None = None
    birthday_month: int | None = Field(None, ge=1, le=12)
    last_purchase_after: datetime | None = None
    last_purchase_before: datetime | None = None
    consent_only: bool = Field(True, description="leave out members without marketing consent (N-03) "
                                                 "instead of counting them as suppressed")
