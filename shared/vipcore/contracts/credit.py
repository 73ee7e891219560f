"""Events produced by the credit service (topic credit.events, keyed by customer)."""

from __future__ import annotations

from ..events import EventData, contract


@contract
class ReceivableRecorded(EventData):
    """A credit sale became a receivable of a group buyer (C-03)."""

    TYPE = "credit.receivable.recorded"
    receivable_id: str
    customer_id: str
    sale_id: str
    store_id: str
    amount: int
    authorization_id: str | None = None
