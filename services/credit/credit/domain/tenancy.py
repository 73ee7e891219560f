"""Tenancy as plain rules: which stores a staff member reaches (O-01, O-02), what makes a credit sale's
authorisation good for it (C-04), and coupon numbers nobody can guess (C-09). No I/O."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from vipcore.auth import Principal, Role

from .rules import Refusal

# O-02: head office and the auditor see the whole chain; every other role is confined to its store (or, for a
# staff member of a regional office without a store, to the stores of its region, O-01).
CHAIN_WIDE = frozenset({Role.HQ_ADMIN, Role.HQ_CS, Role.AUDITOR})


@dataclass(frozen=True)
class Scope:
    """The part of the chain a caller reaches (O-02): everything, one region's stores, or one store."""

    everything: bool = False
    store_id: str | None = None
    region_code: str | None = None

    def covers(self, store_id: str | None, region_code: str | None = None) -> bool:
        """Whether an object of `store_id` (in `region_code`) is within reach; an object of no store is HQ's."""
        if self.everything:
            return True
        if store_id is None:
            return False
        if self.store_id is not None:
            return store_id == self.store_id
        return self.region_code is not None and region_code == self.region_code


def scope_of(p: Principal) -> Scope:
    """O-02: HQ roles and the auditor reach every store; store roles, staff and a POS their own store; a regional
    account without a store its region's stores; anyone else nothing."""
    if p.role in CHAIN_WIDE:
        return Scope(everything=True)
    if p.store_id:
        return Scope(store_id=p.store_id)
    if p.region_code and p.role != Role.POS:
        return Scope(region_code=p.region_code)
    return Scope()


@dataclass(frozen=True)
class AuthorizationState:
    """What a credit sale checks of the authorisation it names (C-04)."""

    store_id: str
    customer_id: str
    amount: int
    status: str  # held | captured | released
    expires_at: datetime
    receipt_no: str | None  # the receipt that claimed it at the till, if any
    sale_id: str | None  # the sale that captured it, if any


def credit_sale_refusal(auth: AuthorizationState | None, store_id: str, customer_id: str, receipt_no: str,
                        amount: int, now: datetime, sale_id: str | None = None) -> Refusal | None:
    """C-04: a credit sale is recorded only against an authorisation of the same store and customer that covers
    its amount and is not used by another receipt. None: the sale may go on credit. The messages never name
    another store's receipt or customer."""
    if auth is None or auth.store_id != store_id or auth.customer_id != customer_id:
        return Refusal("C-04", "authorization_id", "no such authorisation for this customer at this store: ask "
                                                   "for one before the goods leave")
    if auth.receipt_no not in (None, receipt_no):
        return Refusal("C-04", "authorization_id", "this authorisation is used by another receipt")
    if auth.status == "captured":
        if auth.receipt_no != receipt_no and (sale_id is None or auth.sale_id != sale_id):
            return Refusal("C-04", "authorization_id", "this authorisation is used by another receipt")
    elif auth.receipt_no != receipt_no:  # a first claim: the hold must still be live
        if auth.status != "held":
            return Refusal("C-04", "authorization_id", f"this authorisation is {auth.status}; ask for a new one")
        if auth.expires_at <= now:
            return Refusal("C-04", "authorization_id", "this authorisation has expired; ask for a new one")
    if amount > auth.amount:
        return Refusal("C-04", "amount", f"the authorisation covers {auth.amount} fen; the credit payment is "
                                         f"{amount} fen")
    return None


# C-09: a coupon is a bearer voucher spent at any till of the chain, so its number must not be guessable from
# another one: prefix + 12 random digits + a check digit (Luhn) that catches a mistyped number at the till.
COUPON_RANDOM_DIGITS = 12


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def new_coupon_number(prefix: str) -> str:
    """A coupon number of `prefix`: 12 random digits (a CSPRNG) and their check digit."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(COUPON_RANDOM_DIGITS))
    return f"{prefix}{body}{luhn_digit(body)}"


def coupon_number_well_formed(number: str, prefix_len: int | None = None) -> bool:
    """Whether `number` ends in 12 digits and their check digit (a typo is caught before any lookup)."""
    tail = number[-(COUPON_RANDOM_DIGITS + 1):]
    if len(number) < COUPON_RANDOM_DIGITS + 1 or not tail.isascii() or not tail.isdigit():
        return False
    if prefix_len is not None and len(number) != prefix_len + COUPON_RANDOM_DIGITS + 1:
        return False
    return luhn_digit(tail[:-1]) == tail[-1]
