"""Every report query of credit in one place (R-04): aging (C-07), staff liabilities (C-06), receivables,
the coupon tally (C-09), rebates of a period and the coupon reconciliation (C-08).
Read-only; the service layer turns the rows into reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from .sql import OUTSTANDING, local_sql, zone_sql
from .tables import (
    coupon_movements,
    coupon_sales,
    coupons,
    liabilities,
    rebates,
    receivables,
    reconciliation_closes,
    stores,
)


async def open_receivables(conn: AsyncConnection, default_tz: str, store_id: str | None = None,
                           region: str | None = None) -> Sequence[Row[Any]]:
    """C-07: open receivables with what they owe (`o`), their region and their store's time zone (`tz`)."""
    region_code = sa.func.coalesce(receivables.c.region_code, stores.c.region_code)  # store announced late
    q = (sa.select(receivables.c.customer_id, receivables.c.responsible_staff_id, receivables.c.store_id,
                   region_code.label("region_code"), receivables.c.due_date, receivables.c.delivered_at,
                   OUTSTANDING.label("o"), zone_sql(default_tz, receivables.c.store_id).label("tz"))
         .select_from(receivables.outerjoin(stores, stores.c.store_id == receivables.c.store_id))
         .where(OUTSTANDING > 0))
    if store_id:
        q = q.where(receivables.c.store_id == store_id)
    if region:
        q = q.where(region_code == region)
    return (await conn.execute(q)).all()


async def staff_liabilities(conn: AsyncConnection, staff_id: str) -> Sequence[RowMapping]:
    """C-06: the charges and fines of one staff member, oldest first."""
    return (await conn.execute(sa.select(liabilities).where(liabilities.c.staff_id == staff_id)
                               .order_by(liabilities.c.created_at))).mappings().all()


async def tally_of_store(conn: AsyncConnection, store_id: str, start: datetime,
                         end: datetime) -> tuple[Sequence[RowMapping], Row[Any]]:
    """C-09: one store's coupon sales in [start, end) and the (count, face value) of coupons it redeemed."""
    sold_in = sa.and_(coupon_sales.c.sold_at >= start, coupon_sales.c.sold_at < end,
                      coupon_sales.c.store_id == store_id)
    red_in = sa.and_(coupons.c.redeemed_at >= start, coupons.c.redeemed_at < end,
                     coupons.c.redeemed_store_id == store_id)
    return await _tally(conn, sold_in, red_in)


async def tally_of_all_stores(conn: AsyncConnection, default_tz: str, lo: datetime,
                              hi: datetime, region: str | None = None) -> tuple[Sequence[RowMapping], Row[Any]]:
    """C-09: every store's (or one region's stores') coupon sales between the store-time wall clocks lo and hi, in
    its own zone."""
    sold_at = local_sql(default_tz, coupon_sales.c.sold_at, coupon_sales.c.store_id)
    redeemed_at = local_sql(default_tz, coupons.c.redeemed_at, coupons.c.redeemed_store_id)
    sold_in, red_in = sa.and_(sold_at >= lo, sold_at < hi), sa.and_(redeemed_at >= lo, redeemed_at < hi)
    if region is not None:
        of_region = sa.select(stores.c.store_id).where(stores.c.region_code == region)
        sold_in = sa.and_(sold_in, coupon_sales.c.store_id.in_(of_region))
        red_in = sa.and_(red_in, coupons.c.redeemed_store_id.in_(of_region))
    return await _tally(conn, sold_in, red_in)


async def _tally(conn: AsyncConnection, sold_in: Any, red_in: Any) -> tuple[Sequence[RowMapping], Row[Any]]:
    sales = (await conn.execute(sa.select(coupon_sales).where(sold_in)
                                .order_by(coupon_sales.c.sold_at))).mappings().all()
    redeemed = (await conn.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(coupons.c.face_value), 0)).where(red_in))).one()
    return sales, redeemed


async def rebates_of_period(conn: AsyncConnection, period: str) -> Sequence[RowMapping]:
    """C-08: the rebates computed for a period, by customer."""
    return (await conn.execute(sa.select(rebates).where(rebates.c.period == period)
                               .order_by(rebates.c.customer_id))).mappings().all()


async def closed_month(conn: AsyncConnection, month: str) -> Row[Any] | None:
    """C-08: the snapshot of a month closed with finance, if it is closed."""
    return (await conn.execute(sa.select(reconciliation_closes)
                               .where(reconciliation_closes.c.month == month))).first()


LEDGER_SIGN = {"issued": 1, "returned": 1, "sold": -1, "rebate": -1}
"""C-08: how each kind of movement changes the coupon stock (a released till spend is no stock movement)."""


async def ledger_figures(conn: AsyncConnection, start: datetime, end: datetime) -> Row[Any]:
    """C-08: opening, issued, sold, returned, rebates, closing (fen of face value) of [start, end) read from the
    coupon ledger, and the stock on hand now."""
    mv = coupon_movements
    fv = sa.func.coalesce(sa.func.sum(mv.c.face_value), 0)
    signed = sa.func.coalesce(sa.func.sum(mv.c.face_value * sa.case(
        *((mv.c.kind == k, v) for k, v in LEDGER_SIGN.items()), else_=0)), 0)

    def moved(kind: str) -> Any:
        return sa.select(fv).where(mv.c.kind == kind, mv.c.at >= start, mv.c.at < end).scalar_subquery()

    return (await conn.execute(sa.select(
        sa.select(signed).where(mv.c.at < start).scalar_subquery(), moved("issued"), moved("sold"),
        moved("returned"), moved("rebate"), sa.select(signed).where(mv.c.at < end).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(coupons.c.face_value), 0))
        .where(coupons.c.status == "in_stock").scalar_subquery()))).one()
