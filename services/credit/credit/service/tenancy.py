"""O-02 for credit's staff routes: an object is reached only within the caller's scope (HQ and the auditor: the
chain; store roles and staff: their store; a regional account: its region's stores). Out of scope answers like
a missing object (404), so another store's customers, invoices and applications are not even confirmed."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.auth import Principal
from vipcore.errors import Forbidden, NotFound

from ..adapters.tables import (
    accounts,
    coupon_sales,
    extensions,
    liabilities,
    limit_raises,
    payments,
    rebates,
    receivables,
    staff_directory,
    stores,
    writeoffs,
)
from ..domain.tenancy import Scope, scope_of
from .context import Credit

Kind = Literal["account", "raise", "payment", "receivable", "extension", "writeoff", "coupon_sale", "rebate",
               "slip", "staff"]

# what each kind of object is, and the query giving the store it belongs to
_STORE_OF: dict[str, tuple[str, str, Any]] = {
    "account": ("customer_id", "no credit account for this customer",
                sa.select(accounts.c.store_id).where(accounts.c.customer_id == sa.bindparam("k"))),
    "raise": ("raise_id", "no such application",
              sa.select(accounts.c.store_id).join(limit_raises, limit_raises.c.customer_id == accounts.c.customer_id)
              .where(limit_raises.c.raise_id == sa.bindparam("k"))),
    "payment": ("payment_id", "no such payment",
                sa.select(accounts.c.store_id).join(payments, payments.c.customer_id == accounts.c.customer_id)
                .where(payments.c.payment_id == sa.bindparam("k"))),
    "receivable": ("receivable_id", "no open invoice with this id",
                   sa.select(receivables.c.store_id).where(receivables.c.receivable_id == sa.bindparam("k"))),
    "extension": ("extension_id", "no such application",
                  sa.select(receivables.c.store_id)
                  .join(extensions, extensions.c.receivable_id == receivables.c.receivable_id)
                  .where(extensions.c.extension_id == sa.bindparam("k"))),
    "writeoff": ("writeoff_id", "no such application",
                 sa.select(receivables.c.store_id)
                 .join(writeoffs, writeoffs.c.receivable_id == receivables.c.receivable_id)
                 .where(writeoffs.c.writeoff_id == sa.bindparam("k"))),
    "coupon_sale": ("coupon_sale_id", "no such coupon sale",
                    sa.select(coupon_sales.c.store_id).where(coupon_sales.c.coupon_sale_id == sa.bindparam("k"))),
    "rebate": ("rebate_id", "no such rebate",
               sa.select(accounts.c.store_id).join(rebates, rebates.c.customer_id == accounts.c.customer_id)
               .where(rebates.c.rebate_id == sa.bindparam("k"))),
    "slip": ("slip_no", "no such slip",
             sa.select(accounts.c.store_id).join(rebates, rebates.c.customer_id == accounts.c.customer_id)
             .where(rebates.c.slip_no == sa.bindparam("k"))),
    # a staff member's store: the staff directory's, else that of the invoices their charges come from
    "staff": ("staff_id", "no such staff member", sa.select(sa.func.coalesce(
        sa.select(staff_directory.c.store_id).where(staff_directory.c.staff_id == sa.bindparam("k"))
        .scalar_subquery(),
        sa.select(receivables.c.store_id).join(liabilities, liabilities.c.receivable_id == receivables.c.receivable_id)
        .where(liabilities.c.staff_id == sa.bindparam("k")).limit(1).scalar_subquery()))),
}


async def region_of(conn: AsyncConnection, store_id: str | None) -> str | None:
    if store_id is None:
        return None
    return await conn.scalar(sa.select(stores.c.region_code).where(stores.c.store_id == store_id))


async def covers(conn: AsyncConnection, scope: Scope, store_id: str | None) -> bool:
    if scope.everything or (scope.store_id is not None and store_id == scope.store_id):
        return True
    return scope.region_code is not None and scope.covers(store_id, await region_of(conn, store_id))


async def reach(c: Credit, p: Principal, kind: Kind, ident: str) -> None:
    """O-02: 404 (as for a missing object) unless the object of `kind` exists within the caller's scope."""
    scope = scope_of(p)
    if scope.everything:
        return  # HQ: the use case answers a missing object itself
    field, missing, query = _STORE_OF[kind]
    async with c.engine.connect() as conn:
        store_id = await conn.scalar(query, {"k": ident})
        if store_id is not None and await covers(conn, scope, store_id):
            return
    raise NotFound(field, missing, "O-02")


async def reach_store(c: Credit, p: Principal, store_id: str, field: str = "store_id") -> None:
    """O-02: a command naming a store (opening an account, selling coupons) is for the caller's own stores."""
    scope = scope_of(p)
    if scope.everything:
        return
    async with c.engine.connect() as conn:
        if await covers(conn, scope, store_id):
            return
    raise Forbidden("O-02", field, f"{p.role.value} of {p.store_id or p.region_code or 'no store'} cannot act for "
                                   f"store {store_id}")


def report_scope(p: Principal, store_id: str | None = None, region: str | None = None) -> tuple[str | None,
                                                                                                  str | None]:
    """(store, region) a report is confined to (O-02): HQ asks for any; store roles get their store, a regional
    account its region; asking for another store or region is refused."""
    scope = scope_of(p)
    if scope.everything:
        return store_id, region
    if scope.store_id is not None:
        if store_id not in (None, scope.store_id):
            raise Forbidden("O-02", "store_id", f"a report of store {store_id} is not yours to read")
        return scope.store_id, region
    if scope.region_code is not None:
        if region not in (None, scope.region_code):
            raise Forbidden("O-02", "region", f"a report of region {region} is not yours to read")
        return store_id, scope.region_code
    raise Forbidden("O-02", "role", "no store or region to report on")
