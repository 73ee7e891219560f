"""C-08: rebate tiers by purchases over a period; rebates computed, approved by a manager, numbered slips,
collected as coupons; the monthly coupon reconciliation with finance balances to the fen."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.contracts.credit import RebateApproved
from vipcore.errors import Conflict, NotFound, RuleViolation

from ..adapters import desk, reports
from ..adapters.tables import (
    coupons,
    purchases,
    rebate_slip_seq,
    rebate_tier_versions,
    rebates,
    receivables,
    reconciliation_closes,
)
from ..domain.coupons import Reconciliation, TierVersion, month_window, rebate_for, tier_change_refusal, tiers_in_force
from .accounts import decide
from .context import Credit
from .coupons import book, take_from_stock


async def set_tiers(c: Credit, tiers: list[tuple[int, int]], effective_from: date | None,
                    by: str) -> dict[str, Any]:
    """C-08: a new version of the rebate tiers (purchases floor in fen -> rate in basis points), in force from
    `effective_from` (default today, HQ's zone; never before: periods already over keep their tiers), naming the
    staff member who set it. Earlier versions are kept as they were."""
    today = c.business_date(c.default_tz)
    start = effective_from or today
    refusal = tier_change_refusal(tiers, start, today)
    if refusal is not None:
        raise RuleViolation(refusal.rule, refusal.field, refusal.reason)
    body = [{"min_purchases": f, "rate_bp": r} for f, r in sorted(tiers)]
    async with c.engine.begin() as conn:
        row = (await conn.execute(rebate_tier_versions.insert().values(
            effective_from=start, tiers=body, set_by=by, set_at=c.clock()).returning(rebate_tier_versions))).one()
        now = tiers_in_force(await _versions(conn), today)
    return _version(row._mapping, now.version if now else None)


def _version(row: Any, in_force: int | None) -> dict[str, Any]:
    return {"version": row["version"], "effective_from": row["effective_from"], "tiers": list(row["tiers"]),
            "set_by": row["set_by"], "set_at": row["set_at"], "in_force": row["version"] == in_force}


async def _versions(conn: AsyncConnection) -> list[TierVersion]:
    rows = await conn.execute(sa.select(rebate_tier_versions.c.version, rebate_tier_versions.c.effective_from,
                                        rebate_tier_versions.c.tiers))
    return [TierVersion(v, d, tuple((int(t["min_purchases"]), int(t["rate_bp"])) for t in tiers))
            for v, d, tiers in rows]


async def tier_versions(c: Credit, page: int, limit: int) -> dict[str, Any]:
    """C-08: every version of the rebate tiers, latest start first, with who set it and which is in force today
    (HQ's zone); one page at a time."""
    async with c.engine.connect() as conn:
        now = tiers_in_force(await _versions(conn), c.business_date(c.default_tz))
        rows, more = await desk.tier_versions_page(conn, page, limit)
    return {"in_force": now.version if now else None, "versions": [_version(r, now.version if now else None)
                                                                   for r in rows],
            "page": page, "has_more": more}


async def compute(c: Credit, start: date, end: date, by: str) -> list[dict[str, Any]]:
    """Purchases (net of refunds) in [start, end] per customer — on credit and paid otherwise (C-08);
    rebates for the tiers reached."""
    if end < start:
        raise RuleViolation("C-08", "end", "the period ends before it starts")
    # business dates: each purchase's date in its store's time zone
    lo, hi = datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())
    period = f"{start.isoformat()}/{end.isoformat()}"
    async with c.engine.begin() as conn:
        # C-08: the tiers in force on the period's last day (a change effective later leaves it as it was)
        version = tiers_in_force(await _versions(conn), end)
        if version is None or not version.tiers:
            raise RuleViolation("C-08", "tiers", f"no rebate tiers are in force on {end.isoformat()}")
        tiers = list(version.tiers)
        # C-08: everything the buyer bought in the period, on credit (receivables) and not (purchases)
        bought = sa.union_all(
            sa.select(receivables.c.customer_id, (receivables.c.amount - receivables.c.refunded).label("net"))
            .where(c.local_sql(receivables.c.delivered_at, receivables.c.store_id) >= lo,
                   c.local_sql(receivables.c.delivered_at, receivables.c.store_id) < hi),
            sa.select(purchases.c.customer_id, (purchases.c.amount - purchases.c.refunded).label("net"))
            .where(c.local_sql(purchases.c.occurred_at, purchases.c.store_id) >= lo,
                   c.local_sql(purchases.c.occurred_at, purchases.c.store_id) < hi)).subquery()
        totals = (await conn.execute(sa.select(bought.c.customer_id, sa.func.sum(bought.c.net))
                                     .group_by(bought.c.customer_id))).all()
        rows = []
        for cust, bought_fen in totals:
            rate, amount = rebate_for(int(bought_fen), tiers)
            if amount > 0:
                rows.append({"rebate_id": f"RB-{uuid.uuid4().hex[:12]}", "customer_id": cust, "period": period,
                             "purchases": int(bought_fen), "rate_bp": rate, "amount": amount, "status": "pending",
                             "requested_by": by, "tier_version": version.version})
        if rows:
            await conn.execute(pg_insert(rebates).on_conflict_do_nothing(), rows)
        out = await reports.rebates_of_period(conn, period)
    return [dict(r) for r in out]


async def decide_rebate(c: Credit, rebate_id: str, approve: bool, by: str) -> dict[str, Any]:
    """A manager approves a rebate; it gets the next numbered slip and credit.rebate.approved is emitted."""
    slip: dict[str, str] = {}

    async def apply(conn: AsyncConnection, rb: Any) -> None:
        slip["slip_no"] = f"SLIP-{int(await conn.scalar(rebate_slip_seq.next_value())):06d}"
        await conn.execute(rebates.update().where(rebates.c.rebate_id == rb.rebate_id).values(**slip))
        await c.emit(conn, [(rb.customer_id, RebateApproved(rebate_id=rb.rebate_id, slip_no=slip["slip_no"],
                                                            customer_id=rb.customer_id, amount=rb.amount,
                                                            period=rb.period))])

    out = await decide(c, rebates, "rebate_id", rebate_id, approve, by, apply)
    c.wake()
    return {**out, **slip}


async def collect(c: Credit, slip_no: str, coupon_nos: list[str], collected_by: str, by: str) -> dict[str, Any]:
    """The customer collects an approved rebate as coupons against its slip; never more than the rebate.
    `collected_by`: who collected for the customer; `by`: the staff member recording it (from the token)."""
    now = c.clock()
    async with c.engine.begin() as conn:
        rb = (await conn.execute(sa.select(rebates).where(rebates.c.slip_no == slip_no).with_for_update())).first()
        if rb is None:
            raise NotFound("slip_no", "no such rebate slip", "C-08")
        if rb.status != "approved":
            raise Conflict("C-08", "slip_no", f"this rebate is {rb.status}, not collectable")
        rows = await take_from_stock(conn, coupon_nos, c.business_date(c.default_tz), "C-08")
        value = sum(r.face_value for r in rows)
        if value > rb.amount:
            raise RuleViolation("C-08", "coupon_nos", f"coupons worth {value} fen exceed the rebate of {rb.amount}")
        await conn.execute(coupons.update().where(coupons.c.coupon_no.in_(coupon_nos)).values(
            status="sold", left_stock_at=now, rebate_id=rb.rebate_id))
        await book(conn, "rebate", [(r.coupon_no, r.face_value) for r in rows], now)
        await conn.execute(rebates.update().where(rebates.c.rebate_id == rb.rebate_id).values(
            status="collected", collected_by=collected_by, collected_at=now, coupon_nos=coupon_nos,
            collection_recorded_by=by))
    return {"slip_no": slip_no, "rebate_id": rb.rebate_id, "coupon_value": value, "status": "collected"}


async def reconciliation(c: Credit, month: str) -> dict[str, Any]:
    """C-08 / R-04: opening, issued, sold, returned (cheques bounced this month), rebates, closing of coupon stock
    (face value, fen) for a month, read from the movement ledger. A closed month answers its snapshot."""
    async with c.engine.connect() as conn:
        closed = await reports.closed_month(conn, month)
        if closed is not None:
            return {**closed.figures, "closed": {"by": closed.closed_by, "at": closed.closed_at.isoformat()}}
        return {**await _figures(c, conn, month), "closed": None}


async def _figures(c: Credit, conn: AsyncConnection, month: str) -> dict[str, Any]:
    start, end = month_window(month, c.default_tz)
    row = await reports.ledger_figures(conn, start, end)
    rec = Reconciliation(*(int(x) for x in row[:6]))
    out = {"month": month, "opening": rec.opening, "issued": rec.issued, "sold": rec.sold, "returned": rec.returned,
           "rebates": rec.rebates, "closing": rec.closing, "balanced": rec.balanced}
    if end > c.clock():  # the month is not over: its closing must be the stock on hand now, to the fen
        out["stock_on_hand"] = int(row[6])
        out["balanced"] = rec.balanced and rec.closing == int(row[6])
    return out


async def close_month(c: Credit, month: str, by: str) -> dict[str, Any]:
    """C-08: finance closes a month once it is over; its report is kept as it was. A cheque that bounces later is
    booked (returned) in the month it bounces, never in the closed one."""
    _, end = month_window(month, c.default_tz)
    if end > c.clock():
        raise RuleViolation("C-08", "month", f"{month} is not over yet")
    async with c.engine.begin() as conn:
        figures = await _figures(c, conn, month)
        done = await conn.scalar(pg_insert(reconciliation_closes).values(
            month=month, figures=figures, closed_by=by, closed_at=c.clock())
            .on_conflict_do_nothing().returning(reconciliation_closes.c.month))
        if done is None:
            raise Conflict("C-08", "month", f"{month} is closed already")
    return {**figures, "closed": {"by": by, "at": c.clock().isoformat()}}
