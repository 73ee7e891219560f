"""C-08: rebate tiers by purchases over a period; rebates computed, approved by a manager, numbered slips,
collected as coupons; the monthly coupon reconciliation with finance balances to the fen."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.contracts.credit import RebateApproved
from vipcore.http import FieldError, Problem

from ..adapters.tables import coupons, rebate_slip_seq, rebate_tiers, rebates, receivables
from ..domain.coupons import Reconciliation, month_window, rebate_for
from .accounts import decide, refuse
from .context import Credit
from .coupons import take_from_stock


async def set_tiers(c: Credit, tiers: list[tuple[int, int]]) -> list[dict[str, int]]:
    """Replace the rebate tiers (purchases floor in fen -> rate in basis points)."""
    async with c.engine.begin() as conn:
        await conn.execute(sa.delete(rebate_tiers))
        if tiers:
            await conn.execute(rebate_tiers.insert(), [{"min_purchases": f, "rate_bp": r} for f, r in tiers])
    return [{"min_purchases": f, "rate_bp": r} for f, r in sorted(tiers)]


async def compute(c: Credit, start: date, end: date, by: str) -> list[dict[str, Any]]:
    """Purchases on credit (net of refunds) delivered in [start, end], per customer; rebates for tiers reached."""
    if end < start:
        raise refuse(422, "end", "the period ends before it starts", "C-08")
    z = ZoneInfo(c.default_tz)
    lo, hi = datetime.combine(start, time(), z), datetime.combine(end + timedelta(days=1), time(), z)
    period = f"{start.isoformat()}/{end.isoformat()}"
    async with c.engine.begin() as conn:
        tiers = [(r.min_purchases, r.rate_bp) for r in await conn.execute(sa.select(rebate_tiers))]
        if not tiers:
            raise refuse(422, "tiers", "no rebate tiers are set", "C-08")
        totals = (await conn.execute(
            sa.select(receivables.c.customer_id, sa.func.sum(receivables.c.amount - receivables.c.refunded))
            .where(receivables.c.delivered_at >= lo, receivables.c.delivered_at < hi)
            .group_by(receivables.c.customer_id))).all()
        rows = []
        for cust, purchases in totals:
            rate, amount = rebate_for(int(purchases), tiers)
            if amount > 0:
                rows.append({"rebate_id": f"RB-{uuid.uuid4().hex[:12]}", "customer_id": cust, "period": period,
                             "purchases": int(purchases), "rate_bp": rate, "amount": amount, "status": "pending",
                             "requested_by": by})
        if rows:
            await conn.execute(pg_insert(rebates).on_conflict_do_nothing(), rows)
        out = (await conn.execute(sa.select(rebates).where(rebates.c.period == period)
                                  .order_by(rebates.c.customer_id))).mappings().all()
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


async def collect(c: Credit, slip_no: str, coupon_nos: list[str], collected_by: str) -> dict[str, Any]:
    """The customer collects an approved rebate as coupons against its slip; never more than the rebate."""
    now = c.clock()
    async with c.engine.begin() as conn:
        rb = (await conn.execute(sa.select(rebates).where(rebates.c.slip_no == slip_no).with_for_update())).first()
        if rb is None:
            raise refuse(404, "slip_no", "no such rebate slip", "C-08")
        if rb.status != "approved":
            raise Problem(409, "Conflict", f"this rebate is {rb.status}",
                          [FieldError("slip_no", f"rebate {rb.status}, not collectable", "C-08")])
        rows = await take_from_stock(conn, coupon_nos, c.business_date(c.default_tz), "C-08")
        value = sum(r.face_value for r in rows)
        if value > rb.amount:
            raise refuse(422, "coupon_nos", f"coupons worth {value} fen exceed the rebate of {rb.amount}", "C-08")
        await conn.execute(coupons.update().where(coupons.c.coupon_no.in_(coupon_nos)).values(
            status="sold", left_stock_at=now, rebate_id=rb.rebate_id))
        await conn.execute(rebates.update().where(rebates.c.rebate_id == rb.rebate_id).values(
            status="collected", collected_by=collected_by, collected_at=now, coupon_nos=coupon_nos))
    return {"slip_no": slip_no, "rebate_id": rb.rebate_id, "coupon_value": value, "status": "collected"}


async def reconciliation(c: Credit, month: str) -> dict[str, Any]:
    """C-08 / R-04: opening, issued, sold, rebates, closing of coupon stock (face value, fen) for a month."""
    start, end = month_window(month, c.default_tz)
    fv = sa.func.coalesce(sa.func.sum(coupons.c.face_value), 0)
    out = coupons.c.left_stock_at

    def in_stock_at(t: datetime) -> Any:
        return sa.and_(coupons.c.drawn_at < t, sa.or_(out.is_(None), out >= t))

    async with c.engine.connect() as conn:
        figures = (await conn.execute(sa.select(
            sa.select(fv).where(in_stock_at(start)).scalar_subquery(),
            sa.select(fv).where(coupons.c.drawn_at >= start, coupons.c.drawn_at < end).scalar_subquery(),
            sa.select(fv).where(out >= start, out < end, coupons.c.rebate_id.is_(None)).scalar_subquery(),
            sa.select(fv).where(out >= start, out < end, coupons.c.rebate_id.is_not(None)).scalar_subquery(),
            sa.select(fv).where(in_stock_at(end)).scalar_subquery()))).one()
    rec = Reconciliation(*(int(x) for x in figures))
    return {"month": month, "opening": rec.opening, "issued": rec.issued, "sold": rec.sold, "rebates": rec.rebates,
            "closing": rec.closing, "balanced": rec.balanced}
