"""Loyalty HTTP API for the gateway and HQ: balances and tiers, quotes, redemptions (internal, admin token)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from ..adapters import state
from ..adapters.tables import accounts, members, stores
from ..domain.account import Account, RuleViolation
from ..domain.pricing import QuoteLine, birthday_proven, is_birthday, quote
from ..domain.program import ProgramBook
from ..service.commands import Commands, RedeemCommand
from ..service.handlers import DEFAULT_TZ
from .problems import refused


class AccountOut(BaseModel):
    member_id: str
    program: str
    tier: str
    tier_name: str
    points_balance: int = Field(description="sum of the ledger entries (L-02)")
    points_available: int = Field(description="spendable now (L-14)")
    points_pending: int


class QuoteLineIn(BaseModel):
    line_no: int
    sku: str | None = None
    qty: int = Field(1, gt=0)
    unit_price: int = Field(ge=0)
    special_price: bool = False


class QuoteIn(BaseModel):
    store_id: str
    member_id: str | None = None
    id_verified: bool = False
    by_mobile: bool = Field(False, description="identified by the registered mobile (L-06 birthday proof)")
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=500)


class RedemptionIn(BaseModel):
    redemption_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    store_id: str
    member_id: str
    reward_id: str | None = None
    points_to_cash: int | None = Field(None, gt=0)
    id_verified: bool = False

    @model_validator(mode="after")
    def _one(self) -> RedemptionIn:
        if (self.reward_id is None) == (self.points_to_cash is None):
            raise ValueError("give exactly one of reward_id or points_to_cash (L-07)")
        return self


# L-06 pricing facts of one member: birthday and tier, two primary-key lookups in one statement (built once).
PRICING_FACTS = sa.select(
    sa.select(members.c.birthday).where(members.c.member_id == sa.bindparam("m")).scalar_subquery(),
    sa.select(accounts.c.tier).where(accounts.c.member_id == sa.bindparam("m"),
                                     accounts.c.program == sa.bindparam("p")).scalar_subquery())


class StoreCache:
    """store → (program, time zone) kept in memory: the quote path must stay cheap (L-06 at the POS)."""

    def __init__(self, engine: AsyncEngine, default_program: str, ttl_s: float = 30.0) -> None:
        self.engine, self.default, self.ttl = engine, default_program, ttl_s
        self._map: dict[str, tuple[str, str, float]] = {}

    async def get(self, store_id: str) -> tuple[str, str]:
        hit = self._map.get(store_id)
        if hit and hit[2] > time.monotonic():
            return hit[0], hit[1]
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(stores.c.program, stores.c.timezone)
                                      .where(stores.c.store_id == store_id))).first()
        prog, tz = (row.program, row.timezone) if row else (self.default, DEFAULT_TZ)
        if row is not None:  # an unknown store is not cached: its registration may be on its way
            self._map[store_id] = (prog, tz, time.monotonic() + self.ttl)
        return prog, tz


def router(engine: AsyncEngine, books: dict[str, ProgramBook], default_program: str, guard: object,
           commands: Commands, clock: Callable[[], datetime], cache: StoreCache) -> APIRouter:
    r = APIRouter(dependencies=[Depends(guard)])  # type: ignore[arg-type]
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")  # same pool; single-statement reads

    async def book_of(store_id: str) -> tuple[ProgramBook, str]:
        pid, tz = await cache.get(store_id)
        return books.get(pid) or books[default_program], tz

    @r.get("/internal/accounts/{member_id}", response_model=AccountOut, tags=["internal"])
    async def account(member_id: str, store_id: Annotated[str, Query()]) -> AccountOut:
        """Tier and points (total, spendable, pending) of a member under the program of `store_id`."""
        book, _ = await book_of(store_id)
        program = book.at(clock())
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(accounts).where(
                accounts.c.member_id == member_id, accounts.c.program == program.id))).first()
        acct = (state.load(member_id, program.id, row.tier, row.points_balance, row.tier_spend, row.state)
                if row else Account(member_id, program.id, program.entry_tier.code))
        now = clock()
        return AccountOut(member_id=member_id, program=program.id, tier=acct.tier,
                          tier_name=program.tier(acct.tier).name, points_balance=acct.balance,
                          points_available=acct.available(now), points_pending=acct.pending(now))

    @r.post("/internal/quotes", tags=["internal"])
    async def quote_basket(q: QuoteIn) -> Response:
        """Member price per line (best single benefit: tier or birthday; specials excluded) and points (L-06)."""
        book, tz = await book_of(q.store_id)
        now = clock()
        program = book.at(now)
        tier: str | None = None
        birthday = None
        if q.member_id:
            async with reader.connect() as conn:  # one round trip: no BEGIN/ROLLBACK around a single read
                row = (await conn.execute(PRICING_FACTS, {"m": q.member_id, "p": program.id})).one()
            birthday, tier = row[0], row[1] or program.entry_tier.code
        today = now.astimezone(ZoneInfo(tz)).date()
        res = quote(program, tier, [QuoteLine(ln.line_no, ln.qty, ln.unit_price, ln.special_price)
                                    for ln in q.lines],
                    birthday_today=is_birthday(birthday, today),
                    proof=birthday_proven(program, q.id_verified, q.by_mobile))
        return Response(orjson.dumps(  # on the cashier's path: no generic re-encoding of a plain dict
            {"lines": res.lines, "total": res.total, "member_total": res.member_total,
             "points_to_earn": res.points_to_earn, "benefit": res.benefit, "tier": tier}),
            media_type="application/json")

    @r.post("/internal/redemptions", status_code=201, tags=["internal"])
    async def redeem(body: RedemptionIn) -> dict[str, Any]:
        """Redeem from the catalogue or as money (L-07); refused with the rule; cannot be cancelled."""
        try:
            return await commands.redeem(RedeemCommand(body.redemption_id, body.store_id, body.member_id,
                                                       body.reward_id, body.points_to_cash, body.id_verified))
        except RuleViolation as e:
            raise refused(e) from None

    return r
