"""Loyalty HTTP API: balances and tiers, quotes for the POS, member statements."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem

from ..adapters.tables import accounts, ledger, stores
from ..domain.program import Program
from ..domain.rules import Line, points_for


class AccountOut(BaseModel):
    member_id: str
    program: str
    tier: str
    tier_name: str
    points_balance: int


class QuoteLineIn(BaseModel):
    line_no: int
    sku: str | None = None
    qty: int = 1
    unit_price: int
    special_price: bool = False


class QuoteIn(BaseModel):
    store_id: str
    member_id: str | None = None
    id_verified: bool = False
    lines: list[QuoteLineIn]


def router(engine: AsyncEngine, programs: dict[str, Program], default_program: str, guard: object) -> APIRouter:
    r = APIRouter(dependencies=[Depends(guard)])  # type: ignore[arg-type]

    async def program_of(store_id: str) -> Program:
        async with engine.connect() as conn:
            p = await conn.scalar(sa.select(stores.c.program).where(stores.c.store_id == store_id))
        return programs[p or default_program]

    @r.get("/internal/accounts/{member_id}", response_model=AccountOut, tags=["internal"])
    async def account(member_id: str, store_id: Annotated[str, Query()]) -> AccountOut:
        """Tier and points balance of a member under the program of `store_id`."""
        program = await program_of(store_id)
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(accounts).where(
                accounts.c.member_id == member_id, accounts.c.program == program.id))).first()
        tier = row.tier if row else program.entry_tier.code
        return AccountOut(member_id=member_id, program=program.id, tier=tier,
                          tier_name=program.tier(tier).name,
                          points_balance=row.points_balance if row else 0)

    @r.post("/internal/quotes", tags=["internal"])
    async def quote(q: QuoteIn) -> dict:
        """Price a basket: list price per line for now, and the points it would earn (L-01)."""
        program = await program_of(q.store_id)
        lines = [{"line_no": ln.line_no, "unit_price": ln.unit_price, "member_price": ln.unit_price,
                  "discount_rule": None} for ln in q.lines]
        total = sum(ln.unit_price * ln.qty for ln in q.lines)
        pts = points_for(program, [Line(ln.line_no, ln.unit_price * ln.qty, ln.special_price)
                                   for ln in q.lines]) if q.member_id else 0
        return {"lines": lines, "total": total, "member_total": total, "points_to_earn": pts,
                "benefit": None}

    @r.get("/v1/stats", tags=["reports"])
    async def stats() -> dict:
        """Ledger entries, outstanding points and members per tier, per program (R-03 basis)."""
        async with engine.connect() as conn:
            entries = await conn.scalar(sa.select(sa.func.count()).select_from(ledger))
            rows = (await conn.execute(sa.select(accounts.c.program, accounts.c.tier, sa.func.count(),
                                                 sa.func.sum(accounts.c.points_balance))
                                       .group_by(accounts.c.program, accounts.c.tier))).all()
        programs_out: dict[str, dict] = {}
        for program, tier, n, pts in rows:
            p = programs_out.setdefault(program, {"members": 0, "points_outstanding": 0, "tiers": {}})
            p["members"] += n
            p["points_outstanding"] += int(pts or 0)
            p["tiers"][tier] = n
        return {"ledger_entries": entries, "programs": programs_out}

    @r.get("/v1/members/{member_id}/ledger", tags=["statements"])
    async def statement(member_id: str, limit: int = 100) -> dict:
        """A member's ledger entries, newest first, each with its cause (L-02)."""
        if limit > 1000:
            raise Problem(422, "Invalid request", errors=[FieldError("limit", "at most 1000")])
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(ledger).where(ledger.c.member_id == member_id)
                                       .order_by(ledger.c.id.desc()).limit(limit))).mappings().all()
        return {"member_id": member_id, "entries": [
            {**{k: v for k, v in r.items() if k != "cause_event_id"}, "cause_event_id": str(r["cause_event_id"])}
            for r in rows]}

    return r
