"""R-04: the aging report read from the receivables (C-07)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..adapters.tables import receivables, stores
from ..domain.aging import OpenItem
from .accounts import OUTSTANDING
from .context import Credit


async def open_items(c: Credit, store_id: str | None = None, region: str | None = None,
                     as_of: date | None = None) -> list[OpenItem]:
    """Open receivables; without `as_of` each is aged on today's date in its store's time zone (C-07)."""
    region_code = sa.func.coalesce(receivables.c.region_code, stores.c.region_code)  # store announced late
    q = (sa.select(receivables.c.customer_id, receivables.c.responsible_staff_id, receivables.c.store_id,
                   region_code.label("region_code"), receivables.c.due_date, receivables.c.delivered_at,
                   OUTSTANDING.label("o"), c.zone_sql(receivables.c.store_id).label("tz"))
         .select_from(receivables.outerjoin(stores, stores.c.store_id == receivables.c.store_id))
         .where(OUTSTANDING > 0))
    if store_id:
        q = q.where(receivables.c.store_id == store_id)
    if region:
        q = q.where(region_code == region)
    async with c.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    today = {tz: c.business_date(tz) for tz in {r.tz for r in rows}}
    return [OpenItem(r.customer_id, r.responsible_staff_id or "", r.store_id, r.region_code or "",
                     r.due_date or r.delivered_at.date(), r.o, as_of or today[r.tz]) for r in rows]


def default_as_of(c: Credit) -> date:
    return c.business_date(c.default_tz)
