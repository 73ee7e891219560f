"""The dashboard: one tile per figure, each read from the service that owns it with the staff member's token, only
the tiles the role may see (O-02), all asked at once; a tile whose service refuses says so alone, and one whose
service does not answer (down, timed out) shows as unavailable, naming it, as the ops page shows a stopped
service — never a refusal. The "today" tile keeps members' figures when only the gateway's sales are missing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    unavailable: list[str] = field(default_factory=list)
    """the services that did not answer: their part of the tile (or the whole tile) is shown as unavailable"""


DOWN = (502, 503, 504)  # the console's Upstream gives 503 when a service does not answer; a proxy 502 / 504


def is_down(e: BaseException) -> bool:
    return isinstance(e, Refusal) and e.status in DOWN


async def _fetch(up: Upstream, s: Session, name: str) -> dict[str, Any]:
    if name == "today":  # files opened (members) and every sale, members' or not (the gateway records them all)
        got: tuple[Any, Any] = await asyncio.gather(
            up.call("members", "GET", "/v1/stats/today", s.token, params={"tz": TZ}),
            up.call("gateway", "GET", "/v1/stats/sales-today", s.token, params={"tz": TZ}), return_exceptions=True)
        files, sales = got
        if isinstance(files, BaseException):  # members refused or down: the whole tile
            raise files
        if isinstance(sales, BaseException):
            if not is_down(sales):  # a refusal (O-02) is shown as one; anything else is a bug, raised
                raise sales
            return today(files, None)  # the gateway down: members' figures, the sales unavailable
        return today(files, sales)
    if name == "reviews":
        return review_queue(await up.call("members", "GET", "/v1/review-queue", s.token,
                                          params={"page": 1, "limit": 5}))
    if name == "liability":
        return liability(await up.call("loyalty", "GET", "/v1/reports/liability", s.token))
    if name == "stored_value":
        d = datetime.now(UTC).date()
        return stored_value(await up.call("loyalty", "GET", "/v1/reports/stored-value", s.token,
                                          params={"since": d.isoformat(),
                                                  "until": (d + timedelta(days=1)).isoformat()}))
    if name == "sms":  # today's messages from the local midnight, not the whole history
        since = local_midnight(datetime.now(ZoneInfo(TZ)))
        return {**sms(await up.call("notify", "GET", "/v1/message-counts", s.token,
                                    params={"since": since.isoformat()})), "since": since.isoformat()}
    if name == "credit":
        return credit(await up.call("credit", "GET", "/v1/reports/aging", s.token, params={"by": "store"}))
    raise KeyError(name)


async def board(up: Upstream, s: Session) -> list[Tile]:
    """Every tile of this person's role, fetched concurrently."""
    names = tiles(s.who.role)

    async def one(name: str) -> Tile:
        try:
            data = await _fetch(up, s, name)
        except Refusal as e:
            return Tile(name, unavailable=[e.service]) if is_down(e) else Tile(name, refusal=e)
        return Tile(name, data, unavailable=["gateway"] if data.get("sales") is None and name == "today" else [])

    return list(await asyncio.gather(*(one(n) for n in names)))


# -- pure summaries of the owning services' answers ------------------------------------------------------------

def local_midnight(now: datetime) -> datetime:
    """The start of `now`'s day in its own time zone (the store's business day)."""
    return datetime.combine(now.date(), time(0), now.tzinfo)


def today(files: dict[str, Any], sales: dict[str, Any] | None) -> dict[str, Any]:
    """Per store: files opened and member sales (members), every sale and its amount (gateway); a store that
    appears in either answer is listed, by store id. Without the gateway's answer (`sales` None: it is down) the
    sales figures are None (shown as unavailable), members' figures stay."""
    by: dict[str, dict[str, Any]] = {}
    zero: dict[str, int | None] = {"new_members": 0, "member_sales": 0, "member_sales_amount": 0, "sales": 0,
                                   "sales_amount": 0}
    if sales is None:
        zero |= {"sales": None, "sales_amount": None}
    for x in files["stores"]:
        by.setdefault(x["store_id"], {"store_id": x["store_id"], **zero}).update(
            new_members=x["new_members"], member_sales=x["member_sales"],
            member_sales_amount=x["member_sales_amount"])
    for x in (sales or {"stores": []})["stores"]:
        by.setdefault(x["store_id"], {"store_id": x["store_id"], **zero}).update(
            sales=x["sales"], sales_amount=x["amount"])
    stores = [by[k] for k in sorted(by)]
    return {"stores": stores, **{k: None if zero[k] is None else sum(x[k] for x in stores) for k in zero}}


def review_queue(ans: dict[str, Any]) -> dict[str, Any]:
    """The tile from members' first page (the oldest files) and its counts over the whole queue (M-04)."""
    items = sorted(ans["items"], key=lambda i: -float(i["age_hours"]))
    return {"waiting": int(ans.get("total", len(items))), "overdue": int(ans.get("overdue", 0)),
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
