"""Earning and tier rules as plain functions (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .program import Program, Tier

APPROVED_STATES = frozenset({"active", "dormant", "public"})


@dataclass(frozen=True)
class Line:
    line_no: int
    paid: int
    special_price: bool


def may_earn(member_status: str | None, card_status: str | None) -> bool:
    """Only approved members (M-04) with a valid card (M-17) earn; unknown (None) is not a refusal (L-01)."""
    if member_status is not None and member_status not in APPROVED_STATES:
        return False
    return card_status is None or card_status == "active"


def excluded(program: Program, line: Line) -> bool:
    """Lines of an excluded kind (special price) neither earn nor count toward tiers (L-01)."""
    return "special_price" in program.earn.excluded_kinds and line.special_price


def eligible_paid(lines: Iterable[Line], program: Program | None = None) -> int:
    """Paid amount that earns and counts toward tiers: special-price lines excluded (L-01)."""
    return sum(ln.paid for ln in lines if not (ln.special_price if program is None else excluded(program, ln)))


def line_points(program: Program, line: Line, multiplier_pct: int = 100) -> int:
    """Points of one line at the program's rate and rounding, times the tier multiplier (L-01, L-06)."""
    if excluded(program, line):
        return 0
    n, d = line.paid * program.earn.points_per_yuan * multiplier_pct, 100 * 100
    return n // d if program.earn.rounding == "floor" else (2 * n + d) // (2 * d)


def points_for(program: Program, lines: Iterable[Line], multiplier_pct: int = 100) -> int:
    """Points for paid lines at the program's rate, per line (L-01)."""
    return sum(line_points(program, ln, multiplier_pct) for ln in lines)


def upgrade_on_receipt(program: Program, current: str, receipt_paid: int, window_spend: int = 0) -> Tier | None:
    """The highest tier above `current` this receipt or the rolling-window spend reaches (L-04), else None.

    `window_spend` is a function of the tier's own window, so callers pass the largest window's sum only when
    every tier shares it; `reached_tier` is the general form.
    """
    best: Tier | None = None
    for t in program.tiers[program.rank(current) + 1:]:
        if t.single_receipt_min is not None and receipt_paid >= t.single_receipt_min:
            best = t
        elif t.rolling_spend_min is not None and window_spend >= t.rolling_spend_min:
            best = t
    return best
