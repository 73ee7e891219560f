"""Events produced by the credit service (topic credit.events, keyed by customer)."""

from __future__ import annotations

from pydantic import Field

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


@contract
class AuthorizationGranted(EventData):
    """A hold against a group buyer's limit for a credit sale (C-04)."""

    TYPE = "credit.authorization.granted"
    authorization_id: str
    customer_id: str
    store_id: str
    cases: int
    amount: int
    expires_at: str
    responsible_staff_id: str


@contract
class AuthorizationRefused(EventData):
    """A credit sale refused, with the rule (C-02 limit, C-04 overdue)."""

    TYPE = "credit.authorization.refused"
    customer_id: str
    store_id: str
    cases: int
    amount: int
    rule: str
    reason: str


@contract
class AuthorizationReleased(EventData):
    """A hold released: expired unused, or the sale was refunded (C-04)."""

    TYPE = "credit.authorization.released"
    authorization_id: str
    customer_id: str
    reason: str


@contract
class InvoiceOverdue(EventData):
    """A receivable passed its due date (C-03, C-07): remind the customer and the responsible staff member."""

    TYPE = "credit.invoice.overdue"
    VERSION = 2  # v2: the customer's name and the mobiles travel sealed with the events key (EVENT_PII_KEYS)
    receivable_id: str
    customer_id: str
    customer_name_enc: str = Field(description="The customer's name, sealed with the events key (EVENT_PII_KEYS)")
    customer_mobile_enc: str | None = Field(default=None,
                                            description="The customer's contact mobile, sealed likewise")
    store_id: str
    amount_due: int
    due_date: str
    days_overdue: int
    responsible_staff_id: str
    responsible_staff_mobile_enc: str | None = Field(default=None,
                                                     description="The staff member's mobile, sealed likewise")


@contract
class PaymentReceived(EventData):
    """A payment (cash, cheque, transfer, wire) was allocated to receivables (C-05)."""

    TYPE = "credit.payment.received"
    payment_id: str
    customer_id: str
    method: str
    amount: int
    allocated: dict[str, int]


@contract
class WriteoffApproved(EventData):
    """A bad debt written off (C-06): charged to the responsible staff member, 10% fine to the line leader."""

    TYPE = "credit.writeoff.approved"
    writeoff_id: str
    receivable_id: str
    customer_id: str
    amount: int
    responsible_staff_id: str
    line_leader_staff_id: str | None = None


@contract
class RebateApproved(EventData):
    """A group-buy rebate approved by a manager, to be collected against a numbered slip (C-08)."""

    TYPE = "credit.rebate.approved"
    rebate_id: str
    slip_no: str
    customer_id: str
    amount: int
    period: str
