"""The member page's sections, each from the service that owns it, with the staff member's token (M-07, O-02):
members (file history: states, cards, revisits, purchases), loyalty (points ledger with cause and operator, tiers
with reasons, stored value, redemptions) and notify (messages sent). A section a role may not read shows the owning
service's refusal; the rest of the page still works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..adapters.upstream import Upstream
from .desk import ACCESS_REASON, Session

SECTIONS = ("ledger", "redemptions", "tiers", "stored_value", "messages", "history", "revisits")
FETCH = 500  # rows asked of an owning service for a section paged here (the ledger pages at the service)


@dataclass(frozen=True)
class LedgerPage:
    """One page of the points ledger, paged at loyalty by entry id (`before`), newest first."""

    entries: list[dict[str, Any]]
    before: int | None  # the cursor this page was asked with (None: the newest)
    next_before: int | None  # the cursor of the next (older) page, None on the last


async def ledger(up: Upstream, s: Session, member_id: str, size: int, before: int | None,
                 kind: str | None) -> LedgerPage:
    """A page of ledger entries (cause, operator); one more than a page is asked to know whether another follows."""
    ans = await up.call("loyalty", "GET", f"/v1/members/{member_id}/ledger", s.token,
                        params={"limit": size + 1, "before": before, "kind": kind})
    rows = list(ans["entries"])
    more = len(rows) > size
    rows = rows[:size]
    return LedgerPage(rows, before, int(rows[-1]["id"]) if more and rows else None)


async def section(up: Upstream, s: Session, member_id: str, name: str) -> Any:
    """The data of one non-ledger section, as its owning service answers it."""
    if name == "redemptions":
        return (await up.call("loyalty", "GET", f"/v1/members/{member_id}/ledger", s.token,
                              params={"limit": FETCH, "kind": "redeem"}))["entries"]
    if name == "tiers":
        return await up.call("loyalty", "GET", f"/v1/members/{member_id}/tiers", s.token, params={"limit": FETCH})
    if name == "stored_value":
        return await up.call("loyalty", "GET", f"/v1/members/{member_id}/stored-value-ledger", s.token,
                             params={"limit": FETCH})
    if name == "messages":
        return (await up.call("notify", "GET", f"/v1/members/{member_id}/messages", s.token,
                              params={"limit": FETCH}))["messages"]
    if name in ("history", "revisits"):
        return await up.call("members", "GET", f"/v1/member-files/{member_id}/history", s.token,
                             params={"limit": FETCH},
                             headers={"X-Access-Reason": f"{ACCESS_REASON}: member page {name}"})
    raise KeyError(name)


def rows_of(name: str, data: Any) -> list[dict[str, Any]]:
    """The rows a section lists (and pages) out of its owning service's answer (pure)."""
    if name in ("redemptions", "messages"):
        return list(data)
    if name == "tiers":
        return list(data["changes"])
    if name == "stored_value":
        return list(data["entries"])
    if name == "history":
        return list(data["events"])
    if name == "revisits":
        return list(data["revisits"])
    raise KeyError(name)
