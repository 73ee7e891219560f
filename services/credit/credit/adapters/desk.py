"""The desk's list queries (issue 12: the console's credit screens): accounts, raises, authorisations,
receivables, extensions, payments, write-offs, rebates, coupon batches and coupon sales, coupon conflicts, credit
sales refused a receivable and the rebate tiers' versions, each filtered, confined to a store or a region (O-02)
and paged by offset (newest first). Read-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from .sql import OUTSTANDING, zone_sql
from .tables import (
    accounts,
    authorizations,
    coupon_batches,
    coupon_conflicts,
    coupon_sales,
    coupons,
    credit_refusals,
    extensions,
    limit_raises,
    payments,
    rebate_tier_versions,
    rebates,
    receivables,
    stores,
    writeoffs,
)


def in_scope(q: Any, store_col: Any, store_id: str | None, region: str | None) -> Any:
    """O-02: only rows of one store, or of one region's stores, when given."""
    if store_id is not None:
        q = q.where(store_col == store_id)
    if region is not None:
        q = q.where(store_col.in_(sa.select(stores.c.store_id).where(stores.c.region_code == region)))
    return q


def matching(q: Any, *pairs: tuple[Any, Any]) -> Any:
    """The filters that were given: column == value for every value that is not None."""
    for col, value in pairs:
        if value is not None:
            q = q.where(col == value)
    return q


async def page_of(conn: AsyncConnection, q: Any, page: int, limit: int) -> tuple[list[RowMapping], bool]:
    """One page of `limit` rows (1-based) and whether another follows."""
    rows = (await conn.execute(q.limit(limit + 1).offset((page - 1) * limit))).mappings().all()
    return list(rows[:limit]), len(rows) > limit


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def accounts_page(conn: AsyncConnection, store_id: str | None, region: str | None, q: str | None,
                        overdue: bool | None, suspended: bool | None, page: int,
                        limit: int) -> tuple[list[RowMapping], bool]:
    """C-01: credit accounts, newest first; `q` matches the customer id or name."""
    a = accounts
    sel = sa.select(a.c.customer_id, a.c.name, a.c.customer_class, a.c.store_id, a.c.responsible_staff_id,
                    a.c.line_leader_staff_id, a.c.limit_cases, a.c.limit_amount, a.c.suspended,
                    a.c.suspended_reason, a.c.overdue, a.c.created_by, a.c.created_at, a.c.member_id)
    sel = in_scope(sel, a.c.store_id, store_id, region)
    if q:
        sel = sel.where(sa.or_(a.c.customer_id == q, a.c.name.ilike(_like(q), escape="\\")))
    sel = matching(sel, (a.c.overdue, overdue), (a.c.suspended, suspended))
    return await page_of(conn, sel.order_by(a.c.created_at.desc(), a.c.customer_id), page, limit)


async def raises_of(conn: AsyncConnection, customer_id: str, limit: int) -> Sequence[RowMapping]:
    """C-02: a customer's temporary raises with their decision, newest first."""
    return (await conn.execute(sa.select(limit_raises).where(limit_raises.c.customer_id == customer_id)
                               .order_by(limit_raises.c.created_at.desc()).limit(limit))).mappings().all()


async def authorizations_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                              customer_id: str | None, status: str | None, page: int,
                              limit: int) -> tuple[list[RowMapping], bool]:
    """C-04: authorisations (held, captured, released), newest first."""
    au = authorizations
    sel = matching(in_scope(sa.select(au), au.c.store_id, store_id, region), (au.c.customer_id, customer_id),
                   (au.c.status, status))
    return await page_of(conn, sel.order_by(au.c.created_at.desc(), au.c.authorization_id), page, limit)


async def receivables_page(conn: AsyncConnection, default_tz: str, now: datetime, store_id: str | None,
                           region: str | None, customer_id: str | None, open_only: bool, overdue: bool,
                           staff_id: str | None, page: int, limit: int) -> tuple[list[RowMapping], bool]:
    """C-03: receivables with what each still owes, newest first; `overdue`: open and past its due date on the
    store's own date (C-07)."""
    r = receivables
    sel = matching(in_scope(sa.select(r, OUTSTANDING.label("outstanding")), r.c.store_id, store_id, region),
                   (r.c.customer_id, customer_id), (r.c.responsible_staff_id, staff_id))
    if open_only or overdue:
        sel = sel.where(OUTSTANDING > 0)
    if overdue:
        today = sa.cast(sa.func.timezone(zone_sql(default_tz, r.c.store_id), sa.literal(now)), sa.Date)
        sel = sel.where(r.c.due_date < today)
    return await page_of(conn, sel.order_by(r.c.created_at.desc(), r.c.receivable_id), page, limit)


async def extensions_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                          customer_id: str | None, status: str | None, page: int,
                          limit: int) -> tuple[list[RowMapping], bool]:
    """C-03: applications for a later due date with their decision, newest first."""
    e, r = extensions, receivables
    sel = sa.select(e, r.c.customer_id, r.c.store_id, r.c.due_date, OUTSTANDING.label("outstanding")) \
        .select_from(e.join(r, r.c.receivable_id == e.c.receivable_id))
    sel = matching(in_scope(sel, r.c.store_id, store_id, region), (r.c.customer_id, customer_id),
                   (e.c.status, status))
    return await page_of(conn, sel.order_by(e.c.created_at.desc(), e.c.extension_id), page, limit)


async def payments_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                        customer_id: str | None, status: str | None, method: str | None, page: int,
                        limit: int) -> tuple[list[RowMapping], bool]:
    """C-05: payments with their allocation and cheque state, newest first."""
    p, a = payments, accounts
    sel = sa.select(p, a.c.store_id, a.c.name).select_from(p.join(a, a.c.customer_id == p.c.customer_id))
    sel = matching(in_scope(sel, a.c.store_id, store_id, region), (p.c.customer_id, customer_id),
                   (p.c.status, status), (p.c.method, method))
    return await page_of(conn, sel.order_by(p.c.created_at.desc(), p.c.payment_id), page, limit)


async def writeoffs_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                         customer_id: str | None, status: str | None, page: int,
                         limit: int) -> tuple[list[RowMapping], bool]:
    """C-06: write-off applications with the staff member answering for each and its line leader."""
    w, r = writeoffs, receivables
    sel = sa.select(w, r.c.store_id, r.c.responsible_staff_id, r.c.line_leader_staff_id) \
        .select_from(w.join(r, r.c.receivable_id == w.c.receivable_id))
    sel = matching(in_scope(sel, r.c.store_id, store_id, region), (w.c.customer_id, customer_id),
                   (w.c.status, status))
    return await page_of(conn, sel.order_by(w.c.created_at.desc(), w.c.writeoff_id), page, limit)


async def rebates_page(conn: AsyncConnection, store_id: str | None, region: str | None, customer_id: str | None,
                       period: str | None, status: str | None, page: int,
                       limit: int) -> tuple[list[RowMapping], bool]:
    """C-08: rebates with their decision, slip and collection, latest period first."""
    rb, a = rebates, accounts
    sel = sa.select(rb, a.c.store_id, a.c.name).select_from(rb.join(a, a.c.customer_id == rb.c.customer_id))
    sel = matching(in_scope(sel, a.c.store_id, store_id, region), (rb.c.customer_id, customer_id),
                   (rb.c.period, period), (rb.c.status, status))
    return await page_of(conn, sel.order_by(rb.c.period.desc(), rb.c.customer_id), page, limit)


async def batches_page(conn: AsyncConnection, page: int, limit: int) -> tuple[list[RowMapping], bool]:
    """C-09: coupon batches drawn from finance with how many of each are in stock, held, sold and redeemed."""
    b, cp = coupon_batches, coupons

    def n(status: str) -> Any:
        return sa.select(sa.func.count()).where(cp.c.batch_id == b.c.batch_id, cp.c.status == status) \
            .scalar_subquery().label(status)

    sel = sa.select(b, n("in_stock"), n("held"), n("sold"), n("redeemed"))
    return await page_of(conn, sel.order_by(b.c.drawn_at.desc(), b.c.batch_id), page, limit)


async def coupon_sales_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                            cheque_status: str | None, unit: str | None, page: int,
                            limit: int) -> tuple[list[RowMapping], bool]:
    """C-09: coupon sales to organisations, newest first (the phone sealed: the service masks it)."""
    cs = coupon_sales
    sel = matching(in_scope(sa.select(cs), cs.c.store_id, store_id, region), (cs.c.cheque_status, cheque_status))
    if unit:
        sel = sel.where(cs.c.unit.ilike(_like(unit), escape="\\"))
    return await page_of(conn, sel.order_by(cs.c.sold_at.desc(), cs.c.coupon_sale_id), page, limit)


async def coupon_conflicts_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                                receipt_no: str | None, coupon_no: str | None, page: int,
                                limit: int) -> tuple[list[RowMapping], bool]:
    """C-09: sales that reached credit naming coupons they could not spend, newest first."""
    cc = coupon_conflicts
    sel = matching(in_scope(sa.select(cc), cc.c.store_id, store_id, region), (cc.c.receipt_no, receipt_no),
                   (cc.c.coupon_no, coupon_no))
    return await page_of(conn, sel.order_by(cc.c.at.desc(), cc.c.sale_id, cc.c.coupon_no), page, limit)


async def credit_refusals_page(conn: AsyncConnection, store_id: str | None, region: str | None,
                               customer_id: str | None, receipt_no: str | None, page: int,
                               limit: int) -> tuple[list[RowMapping], bool]:
    """C-04: recorded credit sales that booked no receivable (no matching authorisation), newest first."""
    cr = credit_refusals
    sel = matching(in_scope(sa.select(cr), cr.c.store_id, store_id, region), (cr.c.customer_id, customer_id),
                   (cr.c.receipt_no, receipt_no))
    return await page_of(conn, sel.order_by(cr.c.at.desc(), cr.c.sale_id, cr.c.customer_id), page, limit)


async def tier_versions_page(conn: AsyncConnection, page: int, limit: int) -> tuple[list[RowMapping], bool]:
    """C-08: the rebate tiers' versions, latest start first (of one start, the one set last first)."""
    v = rebate_tier_versions
    return await page_of(conn, sa.select(v).order_by(v.c.effective_from.desc(), v.c.version.desc()), page, limit)
