"""Stored-value money report (R-03, L-11): what the chain owes its members in prepaid value, and how it moved.

Per program: opening + top-ups (cash paid) + bonus granted + imported - spend + refunds given back = closing, to
the fen. `imported` is the prepaid money customers brought from a chain's old system by a member import (M-19): it
is owed like any balance (it is in the closing balance and the outstanding figures) but it is no top-up — no cash
was taken in this period — so it has its own column and never inflates `top_ups` or `bonus`. (`opening` is the
period's opening balance: everything owed before `since`, imported balances included.)
Outstanding (the liability) per program, store and region. Pure assembly; the queries live in `adapters/reports.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vipcore.exports import csv_text


@dataclass
class Movement:
    opening: int = 0
    top_ups: int = 0
    bonus: int = 0
    spend: int = 0
    refunds: int = 0
    closing: int = 0
    imported: int = 0  # opening balances imported in the period (M-19): owed, not paid here

    @property
    def reconciled(self) -> bool:
        return self.opening + self.top_ups + self.bonus + self.imported - self.spend + self.refunds == self.closing


def movement(before: int, rows: list[tuple[str, int, int, int]]) -> Movement:
    """`before`: the ledger sum before the period; rows: (kind, amount, paid, bonus) sums within it."""
    m = Movement(opening=before, closing=before)
    for kind, amount, paid, bonus in rows:
        m.closing += amount
        if kind == "topup":
            m.top_ups += paid
            m.bonus += bonus
        elif kind == "spend":
            m.spend += -amount
        elif kind == "refund":
            m.refunds += amount
        elif kind == "opening":
            m.imported += amount
    return m


def report(since: str, until: str, periods: dict[str, Movement], outstanding: dict[str, dict[str, int]],
           ledger_totals: dict[str, int]) -> dict[str, Any]:
    """`outstanding` comes from the members' balances; `ledger_totals` (every entry ever, per program) must
    equal them to the fen (L-02: the balance is the sum of the entries)."""
    return {
        "since": since, "until": until, "currency": "CNY", "unit": "fen",
        "programs": {pid: {**asdict(m), "reconciled": m.reconciled} for pid, m in sorted(periods.items())},
        "outstanding": outstanding,
        "ledger_matches_balances": {pid: ledger_totals.get(pid, 0) == outstanding["program"].get(pid, 0)
                                    for pid in sorted(set(ledger_totals) | set(outstanding["program"]))},
    }


def to_csv(rep: dict[str, Any]) -> str:
    """One row per program (period reconciliation and outstanding), then outstanding per store and region."""
    cols = ["opening", "top_ups", "bonus", "imported", "spend", "refunds", "closing"]
    rows: list[list[Any]] = [
        ["program", pid, *[m[c] for c in cols], m["reconciled"], rep["outstanding"]["program"].get(pid, 0)]
        for pid, m in rep["programs"].items()]
    rows += [[scope, key, *[""] * len(cols), "", fen]
             for scope in ("store", "region") for key, fen in sorted(rep["outstanding"][scope].items())]
    return csv_text(["scope", "key", *cols, "reconciled", "outstanding"], rows)  # formula-safe cells
