"""Credit rules as plain functions (docs/rules.md C-01…C-07); no I/O, the clock is a parameter."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# M-14 customer classes; C-01: credit is offered to all of them (individuals with a good record).
ORGANISATIONS = ("government", "soe", "enterprise_institution", "group_company")
SMALL = ("small_business", "individual")
CLASSES = ORGANISATIONS + SMALL

MEMBER_CLASS_NAMES = {"state_owned": "soe"}  # the members service's M-14 names that credit spells differently


def credit_class(member_class: str | None) -> str | None:
    """M-14 -> C-01/C-02: the credit class of a member file's customer class (None: not a known class)."""
    cls = MEMBER_CLASS_NAMES.get(member_class or "", member_class)
    return cls if cls in CLASSES else None


CHEQUE_CLEARING_DAYS = 3  # C-05
PAYMENT_METHODS = ("cash", "cheque", "transfer", "wire")  # C-05 (cash on delivery / on account are terms)
AGING_BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "over_90")  # C-07
LINE_LEADER_FINE_PCT = 10  # C-06


def default_case_limit(customer_class: str) -> int:
    """C-02: 10 cases outstanding for government / SOE / enterprise-institution / group; 5 otherwise."""
    return 10 if customer_class in ORGANISATIONS else 5


def due_date(customer_class: str, delivered_on: date) -> date:
    """C-03: organisations settle by the 10th of the month after delivery; small buyers within 20 days."""
    if customer_class in ORGANISATIONS:
        y, m = (delivered_on.year + 1, 1) if delivered_on.month == 12 else (delivered_on.year, delivered_on.month + 1)
        return date(y, m, min(10, monthrange(y, m)[1]))
    return delivered_on + timedelta(days=20)


@dataclass(frozen=True)
class Limits:
    cases: int
    amount: int
    suspended: bool = False
    overdue: bool = False


@dataclass(frozen=True)
class Exposure:
    """What is outstanding on credit: held authorisations plus unpaid receivables."""

    cases: int
    amount: int


@dataclass(frozen=True)
class Refusal:
    rule: str
    field: str
    reason: str


def authorize(limits: Limits, outstanding: Exposure, cases: int, amount: int) -> Refusal | None:
    """C-04: a credit sale is authorised before the goods leave, unless it breaks a rule (None = granted)."""
    if limits.suspended:
        return Refusal("C-01", "customer_id", "the customer's credit is suspended")
    if limits.overdue:
        return Refusal("C-04", "customer_id", "the customer has an overdue invoice")
    if outstanding.cases + cases > limits.cases:
        return Refusal("C-02", "cases", f"{outstanding.cases} of {limits.cases} cases already outstanding; "
                                        f"{cases} more would pass the limit")
    if outstanding.amount + amount > limits.amount:
        return Refusal("C-02", "amount", f"{outstanding.amount} of {limits.amount} fen already outstanding; "
                                         f"{amount} more would pass the limit")
    return None


@dataclass(frozen=True)
class OpenInvoice:
    receivable_id: str
    outstanding: int
    delivered_on: date


def allocate(amount: int, invoices: Sequence[OpenInvoice], named: str | None = None) -> dict[str, int]:
    """C-05: a payment settles the named invoice first, then the oldest open invoices; returns id -> fen."""
    order = sorted(invoices, key=lambda i: (i.receivable_id != named, i.delivered_on, i.receivable_id))
    out: dict[str, int] = {}
    left = amount
    for inv in order:
        if left <= 0:
            break
        take = min(left, inv.outstanding)
        if take > 0:
            out[inv.receivable_id] = take
            left -= take
    return out


def cheque_clears_on(received_on: date) -> date:
    """C-05: a cheque is pending for 3 days before it clears."""
    return received_on + timedelta(days=CHEQUE_CLEARING_DAYS)


def aging_bucket(due: date, as_of: date) -> str:
    """C-07: current, 1-30, 31-60, 61-90, > 90 days overdue."""
    days = (as_of - due).days
    if days <= 0:
        return "current"
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "over_90"


def liability(amount: int) -> tuple[int, int]:
    """C-06: a written-off bad debt: (charge to the responsible staff member, fine to the line leader)."""
    return amount, (amount * LINE_LEADER_FINE_PCT + 50) // 100


def reminder_due(last_reminded: date | None, today: date, every_days: int = 7) -> bool:
    """C-07: remind when an invoice first becomes overdue, then every `every_days` while it stays overdue."""
    return last_reminded is None or (today - last_reminded).days >= every_days
