"""Stored value (L-11): top-ups with the program's bonus, spent at the POS; a balance ledger like points."""

from __future__ import annotations

from dataclasses import dataclass

from .program import Program


@dataclass(frozen=True)
class Movement:
    kind: str  # topup | spend
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


def spend(balance: int, amount: int) -> Movement:
    """Spend at the POS; never below zero: what the balance cannot cover is recorded as a shortfall."""
    taken = min(max(balance, 0), amount)
    return Movement("spend", -taken, shortfall=amount - taken)
