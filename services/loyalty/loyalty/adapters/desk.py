"""Queries of the desk-claim list (L-09): members of one store whose points reach a threshold of their program."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import accounts, members


async def members_reaching(engine: AsyncEngine, *, store_id: str, program: str, min_points: int, after: str | None,
                           limit: int) -> list[dict[str, Any]]:
    """Members whose home store is `store_id` with at least `min_points` in `program`, by member id after `after`
    (the index `members_store_member` walks one store in member order)."""
    q = (sa.select(accounts.c.member_id, accounts.c.points_balance)
         .select_from(members.join(accounts, accounts.c.member_id == members.c.member_id))
         .where(members.c.store_id == store_id, accounts.c.program == program,
                accounts.c.points_balance >= min_points)
         .order_by(members.c.member_id).limit(limit))
    if after is not None:
        q = q.where(members.c.member_id > after)
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(q)).mappings().all()]
