"""SQL building blocks the credit queries share: what an invoice still owes, a store's time zone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .tables import receivables, stores

OUTSTANDING = receivables.c.amount - receivables.c.paid - receivables.c.refunded - receivables.c.written_off
"""What a receivable still owes (fen)."""


def zone_sql(default_tz: str, *store_ids: Any) -> Any:
    """SQL: the time zone of the first of these stores that is known, else the default zone."""
    zones = [stores.alias() for _ in store_ids]  # aliases: never correlated with a `stores` outside
    return sa.func.coalesce(*(sa.select(z.c.timezone).where(z.c.store_id == s).scalar_subquery()
                              for z, s in zip(zones, store_ids, strict=True)), sa.literal(default_tz))


def local_sql(default_tz: str, at: Any, store_id: Any) -> Any:
    """SQL: the store-time wall clock of the instant `at` (a timestamp without zone)."""
    return sa.func.timezone(zone_sql(default_tz, store_id), at)
