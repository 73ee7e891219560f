"""Message counts per status over a period, read through the index `messages_created` (created_at, ...)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import messages


async def counts_between(engine: AsyncEngine, since: datetime, until: datetime | None) -> dict[str, int]:
    q = (sa.select(messages.c.status, sa.func.count()).where(messages.c.created_at >= since)
         .group_by(messages.c.status))
    if until is not None:
        q = q.where(messages.c.created_at < until)
    async with engine.connect() as conn:
        return {str(s): int(n) for s, n in (await conn.execute(q)).tuples().all()}
