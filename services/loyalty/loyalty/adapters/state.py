"""An account's lots and spend history as JSON (kept in accounts.state, written with the balance)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.account import Account, Lot


def _t(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def dump(a: Account) -> dict[str, Any]:
    return {
        "lots": [[lt.key, lt.earned_at.isoformat(), lt.available_at.isoformat(),
                  lt.expires_at.isoformat() if lt.expires_at else None, lt.remaining,
                  lt.line_points, lt.line_spend, lt.refunds] for lt in a.lots],
        "spends": [[w.isoformat(), k, s] for w, k, s in a.spends],
        "cycle_start": a.cycle_start.isoformat() if a.cycle_start else None,
    }


def load(member_id: str, program: str, tier: str, balance: int, tier_spend: int,
         state: dict[str, Any] | None) -> Account:
    st = state or {}
    lots = [Lot(k, datetime.fromisoformat(e), datetime.fromisoformat(av), _t(ex), rem,
                {int(n): p for n, p in lp.items()}, {int(n): p for n, p in ls.items()}, list(rf))
            for k, e, av, ex, rem, lp, ls, rf in st.get("lots", [])]
    spends = [(datetime.fromisoformat(w), k, s) for w, k, s in st.get("spends", [])]
    return Account(member_id, program, tier, balance, tier_spend, lots, spends, _t(st.get("cycle_start")))
