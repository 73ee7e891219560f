"""Message counts of a period (issue 12: the console's SMS tile shows today's sent / failed / parked, not the
whole history) — an hq_admin staff token, like the message log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation
from vipcore.http import PROBLEM_RESPONSES

from ..adapters.counts import counts_between
from .schemas import MessageCounts


def router(engine: AsyncEngine, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["messages"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/message-counts", response_model=MessageCounts)
    async def message_counts(since: Annotated[datetime, Query(description="messages created at or after")],
                             until: Annotated[datetime | None, Query(description="and before (default: now)")]
                             = None) -> dict[str, Any]:
        """Messages created in [since, until) per current status: sent, delivered, undelivered, parked, queued,
        held... (N-05); e.g. today's from the local midnight."""
        if since.tzinfo is None or (until is not None and until.tzinfo is None):
            raise RuleViolation("input", "since", "a time with its offset, e.g. 2026-12-02T00:00:00+08:00")
        if until is not None and until <= since:
            raise RuleViolation("input", "until", "must be after since")
        return {"since": since, "until": until, "counts": await counts_between(engine, since, until)}

    return r
