"""Campaign segments (N-01 'to a segment'): store, region, tier, class, birthday month, last purchase, consent."""

from __future__ import annotations

from pydantic import Field
from vipcore.inputs import AwareTime, Ident, RequestModel, ShortIdent


class Segment(RequestModel):
    """Every given criterion must hold; lists mean 'any of'."""

    store_ids: list[Ident] | None = Field(None, max_length=1000)
    region_codes: list[ShortIdent] | None = Field(None, max_length=1000)
    tiers: list[ShortIdent] | None = Field(None, max_length=100)
    customer_classes: list[ShortIdent] | None = Field(None, max_length=100)
    birthday_month: int | None = Field(None, ge=1, le=12, strict=True)
    last_purchase_after: AwareTime | None = None
    last_purchase_before: AwareTime | None = None
    consent_only: bool = Field(True, description="leave out members without marketing consent (N-03) "
                                                 "instead of counting them as suppressed")
