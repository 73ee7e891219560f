"""Credit HTTP API: receivables per customer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncEngine

from ..adapters.tables import receivables


def router(engine: AsyncEngine, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["credit"], dependencies=[Depends(guard)])

    @r.get("/receivables")
    async def list_receivables(customer_id: str | None = None, limit: int = 100) -> dict[str, Any]:
        """Receivables, newest first, optionally of one customer."""
        q = sa.select(receivables).order_by(receivables.c.created_at.desc()).limit(min(limit, 1000))
        if customer_id:
            q = q.where(receivables.c.customer_id == customer_id)
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return {"receivables": [dict(r) for r in rows]}

    return r
