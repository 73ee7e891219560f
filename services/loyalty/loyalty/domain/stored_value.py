"""Stored value (L-11): top-ups with the program's bonus, spent at the POS; a balance ledger like points.

Spending at the POS is two steps: the gateway holds the amount while the cashier waits (refused when the
balance less what other terminals hold cannot cover it), the sale's event captures the hold. A hold whose sale
never arrives is released after `HOLD_TTL`. A refund gives back what its receipt paid with stored value. An
imported customer's prepaid balance from the chain's old system is one `opening` entry (M-19): owed like a
top-up's credit, but nothing was paid or given as bonus here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vipcore.contracts.members import OPENING_STORED_VALUE_MAX
from vipcore.errors import RuleViolation

from .program import Program

HOLD_TTL = timedelta(minutes=30)  # far beyond the sale event's normal way to loyalty (milliseconds)


@dataclass(frozen=True)
class Movement:
    kind: str  # topup | spend | refund | opening
    amount: int  # signed change of the balance, fen
    paid: int = 0
    bonus: int = 0
    shortfall: int = 0


def top_up(program: Program, pay: int) -> Movement:
    """Pay `pay` fen, get the bonus of the highest step reached (e.g. pay 1,000 get 1,100)."""
    if pay <= 0:
        raise ValueError("a top-up pays a positive amount")
    bonus = program.bonus_for(pay)
    return Movement("topup", pay + bonus, paid=pay, bonus=bonus)


def opening(amount: int) -> Movement:
    """The prepaid balance a member brought from the old system (M-19): it adds to what is owed (L-11), but it is no
    top-up: `paid` and `bonus` stay 0, so the period's cash taken in is not overstated."""
    if not 0 < amount <= OPENING_STORED_VALUE_MAX:
        raise RuleViolation("M-19", "opening.stored_value",
                            f"an opening stored-value balance is 0.01 to {OPENING_STORED_VALUE_MAX / 100:.2f} yuan")
    return Movement("opening", amount)


def spend(balance: int, amount: int, held: int = 0) -> Movement:
    """Spend at the POS; never below zero nor into what other terminals hold: the rest is a recorded shortfall."""
    taken = min(max(balance - held, 0), amount)
    return Movement("spend", -taken, shortfall=amount - taken)


def check_hold(balance: int, held: int, amount: int) -> None:
    """L-11: a terminal may hold only what the balance covers beyond the other terminals' holds."""
    if amount <= 0:
        raise RuleViolation("L-11", "amount", "a stored-value payment is a positive amount")
    free = balance - held
    if amount > free:
        raise RuleViolation("L-11", "amount", f"stored-value balance {free / 100:.2f} yuan is less than "
                                              f"{amount / 100:.2f} yuan")


def refund_back(spent: int, returned: int, refunded: int) -> Movement:
    """A refund returns stored value first, up to what its receipt paid with stored value (L-11, L-03)."""
    give = max(0, min(refunded, spent - returned))
    return Movement("refund", give)
