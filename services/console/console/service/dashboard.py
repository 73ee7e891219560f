"""The dashboard: one tile per figure, each read from the service that owns it with the staff member's token, only
the tiles the role may see (O-02), all asked at once; a tile whose service refuses or is down says so alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..adapters.upstream import Refusal, Upstream
from ..domain.screens import tiles
from .desk import Session

TZ = "Asia/Shanghai"


@dataclass
class Tile:
    """One tile: its figures (pure summaries of the owning service's answer), or why that service refused."""

    name: str
    data: dict[str, Any] | None = None
    refusal: Refusal | None = None


async def _fetch(up: Upstream, s: Session, name: str) -> dict[str, Any]:
    if name == "today":
        return today(await up.call("members", "GET", "/v1/stats/today", s.token, params={"tz": TZ}))
    if name == "reviews":
        return review_queue(await up.call("members", "GET", "/v1/review-queue", s.token))
    if name == "liability":
        return liability(await up.call("loyalty", "GET", "/v1/reports/liability", s.token))
    if name == "stored_value":
        d = datetime.now(UTC).date()
        return stored_value(await up.call("loyalty", "GET", "/v1/reports/stored-value", s.token,
                                          params={"since": d.isoformat(),
                                                  "until": (d + timedelta(days=1)).isoformat()}))
    if name == "sms":
        return sms(await up.call("notify", "GET", "/v1/messages", s.token, params={"limit": 1}))
    if name == "credit":
        return credit(await up.call("credit", "GET", "/v1/reports/aging", s.token, params={"by": "store"}))
    raise KeyError(name)


async def board(up: Upstream, s: Session) -> list[Tile]:
    """Every tile of this person's role, fetched concurrently."""
    names = tiles(s.who.role)

    async def one(name: str) -> Tile:
        try:
            return Tile(name, await _fetch(up, s, name))
        except Refusal as e:
            return Tile(name, refusal=e)

    return list(await asyncio.gather(*(one(n) for n in names)))


# -- pure summaries of the owning services' answers ------------------------------------------------------------

def today(ans: dict[str, Any]) -> dict[str, Any]:
    stores = list(ans["stores"])
    return {"stores": stores, "new_members": sum(x["new_members"] for x in stores),
            "member_sales": sum(x["member_sales"] for x in stores),
            "member_sales_amount": sum(x["member_sales_amount"] for x in stores)}


def review_queue(ans: dict[str, Any]) -> dict[str, Any]:
    items = sorted(ans["items"], key=lambda i: -float(i["age_hours"]))
    return {"waiting": len(items), "overdue": sum(1 for i in items if i["overdue"]),
            "oldest_hours": float(items[0]["age_hours"]) if items else 0.0, "items": items[:5]}


def liability(ans: dict[str, Any]) -> dict[str, Any]:
    progs = ans["program"]
    return {"points": sum(int(v["points"]) for v in progs.values()),
            "value": sum(int(v["value"]) for v in progs.values()), "programs": progs}


def stored_value(ans: dict[str, Any]) -> dict[str, Any]:
    owed = ans["outstanding"]["program"]
    return {"outstanding": sum(int(v) for v in owed.values()), "programs": owed}


def sms(ans: dict[str, Any]) -> dict[str, int]:
    c = {k: int(v) for k, v in ans["counts"].items()}
    return {"sent": c.get("sent", 0) + c.get("delivered", 0), "failed": c.get("undelivered", 0),
            "parked": c.get("parked", 0), "waiting": c.get("queued", 0) + c.get("held", 0) + c.get("sending", 0)}


def credit(ans: dict[str, Any]) -> dict[str, Any]:
    t = ans.get("totals") or {}
    total, current = int(t.get("total", 0)), int(t.get("current", 0))
    return {"overdue": total - current, "over_90": int(t.get("over_90", 0)), "total": total,
            "as_of": ans.get("as_of")}
