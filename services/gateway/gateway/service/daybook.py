"""Today's sales per store (issue 12 dashboard): every receipt the gateway recorded, members' or not — the
gateway is the one place that sees them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..adapters.tables import sales

_PAID = sa.text("(SELECT coalesce(sum((v->>'paid')::bigint), 0) FROM jsonb_each(sales.lines) AS l(k, v))")


async def sales_since(engine: AsyncEngine, since: datetime, store_id: str | None) -> list[dict[str, Any]]:
    """Receipts recorded since `since` per store (one store, or all when None), with the amount paid and how many
    named a member; read through the index `sales_created_at`."""
    q = (sa.select(sales.c.store_id, sa.func.count().label("sales"),
                   sa.func.coalesce(sa.func.sum(sa.literal_column(_PAID.text)), 0).label("amount"),
                   sa.func.count(sales.c.member_id).label("member_sales"))
         .where(sales.c.created_at >= since).group_by(sales.c.store_id).order_by(sales.c.store_id))
    if store_id is not None:
        q = q.where(sales.c.store_id == store_id)
    async with engine.connect() as conn:
        return [{**r, "amount": int(r["amount"])} for r in (await conn.execute(q)).mappings().all()]
