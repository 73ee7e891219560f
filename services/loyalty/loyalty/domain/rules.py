"""Earning and tier rules as plain functions (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .program import Program, Tier


@dataclass(frozen=True)
class Line:
    line_no: int
    paid: int
    special_price: bool


def eligible_paid(lines: Iterable[Line]) -> int:
    """Paid amount that earns and counts toward tiers: special-price lines excluded (L-01)."""
    return sum(ln.paid for ln in lines if not ln.special_price)


def points_for(program: Program, lines: Iterable[Line]) -> int:
    """Points for paid lines at the program's rate, per line, rounded down (L-01)."""
    return sum(ln.paid * program.earn.points_per_yuan // 100 for ln in lines if not ln.special_price)


def upgrade_on_receipt(program: Program, current: str, receipt_paid: int) -> Tier | None:
    """The highest tier above `current` that this one receipt reaches (L-04), else None."""
    best: Tier | None = None
    for t in program.tiers[program.rank(current) + 1:]:
        if t.single_receipt_min is not None and receipt_paid >= t.single_receipt_min:
            best = t
    return best
