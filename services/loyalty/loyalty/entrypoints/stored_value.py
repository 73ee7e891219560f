"""Internal stored-value routes for the gateway (admin token): hold a POS payment, release it (L-11)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem

from ..adapters.tables import members, stored_value, stored_value_ledger, stores
from ..domain import sv_report
from ..domain.account import RuleViolation
from ..service.stored_value import StoredValueDesk
from .problems import refused


class HoldIn(BaseModel):
    store_id: str = Field(min_length=1, max_length=32)
    receipt_no: str = Field(min_length=1, max_length=64)
    member_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0, description="fen paid with stored value on this receipt")


def internal_router(desk: StoredValueDesk, guard: object,
                    program_of_store: Callable[[str], Awaitable[str]]) -> APIRouter:
    r = APIRouter(prefix="/internal/stored-value", tags=["internal"], dependencies=[Depends(guard)])  # type: ignore[arg-type]

    @r.post("/holds", status_code=201, responses={422: {"description": "L-11: the free balance is short"}})
    async def hold(body: HoldIn) -> dict[str, Any]:
        """Hold a stored-value payment while the cashier rings the sale up; the sale's event captures it,
        a sale that never arrives releases it after the hold's expiry (L-11)."""
        program = await program_of_store(body.store_id)
        try:
            return await desk.hold(store_id=body.store_id, receipt_no=body.receipt_no, member_id=body.member_id,
                                   program=program, amount=body.amount)
        except RuleViolation as e:
            raise refused(e) from None

    return r


def report_router(engine: AsyncEngine, guard: object) -> APIRouter:
    r = APIRouter(dependencies=[Depends(guard)])  # type: ignore[arg-type]
    svl = stored_value_ledger

    @r.get("/v1/reports/stored-value", tags=["reports"])
    async def stored_value_report(since: date, until: date,
                                  format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
        """Stored-value money (R-03, L-11), fen: outstanding per program, store and region; top-ups, bonus granted,
        spend and refunds in [since, until) (UTC dates) per program, reconciled: opening + top-ups + bonus -
        spend + refunds = closing. A member's balance counts for their home store (else their latest store)."""
        if until <= since:
            raise Problem(422, "Invalid request", errors=[FieldError("until", "must be after since", "R-03")])
        start, end = (datetime.combine(d, time(0), UTC) for d in (since, until))
        home = sa.func.coalesce(
            sa.select(members.c.store_id).where(members.c.member_id == stored_value.c.member_id).scalar_subquery(),
            sa.select(svl.c.store_id).where(svl.c.member_id == stored_value.c.member_id, svl.c.store_id.is_not(None))
            .order_by(svl.c.id.desc()).limit(1).scalar_subquery()).label("store_id")
        sub = sa.select(stored_value.c.program, stored_value.c.balance, home).where(
            stored_value.c.balance != 0).subquery()
        async with engine.connect() as conn:
            owed = (await conn.execute(
                sa.select(sub.c.program, sub.c.store_id, stores.c.region_code, sa.func.sum(sub.c.balance))
                .select_from(sub.outerjoin(stores, stores.c.store_id == sub.c.store_id))
                .group_by(sub.c.program, sub.c.store_id, stores.c.region_code))).all()
            before = dict((await conn.execute(
                sa.select(svl.c.program, sa.func.sum(svl.c.amount)).where(svl.c.occurred_at < start)
                .group_by(svl.c.program))).tuples().all())
            within = (await conn.execute(
                sa.select(svl.c.program, svl.c.kind, sa.func.sum(svl.c.amount), sa.func.sum(svl.c.paid),
                          sa.func.sum(svl.c.bonus))
                .where(svl.c.occurred_at >= start, svl.c.occurred_at < end)
                .group_by(svl.c.program, svl.c.kind))).all()
            totals = dict((await conn.execute(sa.select(svl.c.program, sa.func.sum(svl.c.amount))
                                              .group_by(svl.c.program))).tuples().all())
        outstanding: dict[str, dict[str, int]] = {"program": {}, "store": {}, "region": {}}
        for pid, store_id, region, fen in owed:
            for dim, key in (("program", pid), ("store", store_id or "unknown"), ("region", region or "unknown")):
                outstanding[dim][key] = outstanding[dim].get(key, 0) + int(fen)
        periods = {pid: sv_report.movement(int(before.get(pid) or 0),
                                           [(k, int(a), int(p), int(b)) for q, k, a, p, b in within if q == pid])
                   for pid in {*before, *(row[0] for row in within)}}
        rep = sv_report.report(since.isoformat(), until.isoformat(), periods, outstanding,
                               {pid: int(v or 0) for pid, v in totals.items()})
        if format == "csv":
            return Response(sv_report.to_csv(rep), media_type="text/csv", headers={
                "Content-Disposition": f'attachment; filename="stored-value-{since}-{until}.csv"'})
        return rep

    @r.get("/v1/members/{member_id}/stored-value-ledger", tags=["statements"])
    async def statement(member_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """A member's stored-value entries, newest first, each with its cause (top-up, receipt, refund), and the
        balance with what terminals hold right now (L-11, R-03)."""
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(svl).where(svl.c.member_id == member_id)
                                       .order_by(svl.c.id.desc()).limit(limit))).mappings().all()
            bal = (await conn.execute(sa.select(stored_value.c.program, stored_value.c.balance, stored_value.c.held)
                                      .where(stored_value.c.member_id == member_id))).all()
        return {"member_id": member_id,
                "balances": {p: {"balance": b, "held": h, "available": b - h} for p, b, h in bal},
                "entries": [{**{k: v for k, v in e.items() if k != "cause_id"}, "cause_id": str(e["cause_id"])}
                            for e in rows]}

    return r
