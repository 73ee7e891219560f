"""An account's lots and spend history as JSON (kept in accounts.state, written with the balance).

Times are epoch seconds: compact, and cheap to encode on the hot path of the sales consumer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.account import Account, Lot


def _e(d: datetime) -> float:
    return d.timestamp()


def _t(x: float | str | None) -> datetime | None:
    if x is None:
        return None
    return datetime.fromisoformat(x) if isinstance(x, str) else datetime.fromtimestamp(x, UTC)


def dump(a: Account) -> dict[str, Any]:
    return {
        "lots": [[lt.key, _e(lt.earned_at), _e(lt.available_at), _e(lt.expires_at) if lt.expires_at else None,
                  lt.remaining, lt.line_points, lt.line_spend, lt.refunds] for lt in a.lots],
        "spends": [[_e(w), k, s] for w, k, s in a.spends],
        "cycle_start": _e(a.cycle_start) if a.cycle_start else None,
        **({"tier_from": _e(a.tier_from)} if a.tier_from else {}),  # an opening tier's start (M-19, L-05)
    }


def load(member_id: str, program: str, tier: str, balance: int, tier_spend: int,
         state: dict[str, Any] | None) -> Account:
    st = state or {}
    lots = [Lot(k, _t(e) or datetime.min, _t(av) or datetime.min, _t(ex), rem,
                {int(n): p for n, p in lp.items()}, {int(n): p for n, p in ls.items()}, list(rf))
            for k, e, av, ex, rem, lp, ls, rf in st.get("lots", [])]
    spends = [(_t(w) or datetime.min, k, s) for w, k, s in st.get("spends", [])]
    return Account(member_id, program, tier, balance, tier_spend, lots, spends, _t(st.get("cycle_start")),
                   _t(st.get("tier_from")))
