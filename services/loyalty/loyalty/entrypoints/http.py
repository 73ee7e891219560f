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


class QuotesIn(BaseModel):
    quotes: list[QuoteIn] = Field(min_length=1, max_length=200)


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


# L-06 pricing facts of members: birthday and tier under each program they have an account in (built once).
_ids = sa.func.unnest(sa.bindparam("ids", type_=sa.ARRAY(sa.Text))).table_valued("member_id").render_derived("q")
PRICING_FACTS = (sa.select(_ids.c.member_id, members.c.birthday, accounts.c.program, accounts.c.tier)
                 .select_from(_ids.outerjoin(members, members.c.member_id == _ids.c.member_id)
                              .outerjoin(accounts, accounts.c.member_id == _ids.c.member_id)))


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

    async def price(quotes: list[QuoteIn]) -> list[dict[str, Any]]:
        """Member price per line (best single benefit: tier or birthday; specials excluded) and points (L-06).

        All the members' pricing facts (birthday, tier per program) come in one autocommit round trip."""
        ids = sorted({q.member_id for q in quotes if q.member_id})
        facts: dict[str, tuple[Any, dict[str, str]]] = {}
        if ids:
            async with reader.connect() as conn:
                for row in await conn.execute(PRICING_FACTS, {"ids": ids}):
                    tiers = facts.setdefault(row.member_id, (row.birthday, {}))[1]
                    if row.program is not None:
                        tiers[row.program] = row.tier
        now = clock()
        out = []
        for q in quotes:
            book, tz = await book_of(q.store_id)
            program = book.at(now)
            tier: str | None = None
            birthday = None
            if q.member_id:
                birthday, tiers = facts.get(q.member_id, (None, {}))
                tier = tiers.get(program.id) or program.entry_tier.code
            res = quote(program, tier, [QuoteLine(ln.line_no, ln.qty, ln.unit_price, ln.special_price)
                                        for ln in q.lines],
                        birthday_today=is_birthday(birthday, now.astimezone(ZoneInfo(tz)).date()),
                        proof=birthday_proven(program, q.id_verified, q.by_mobile))
            out.append({"lines": res.lines, "total": res.total, "member_total": res.member_total,
                        "points_to_earn": res.points_to_earn, "benefit": res.benefit, "tier": tier})
        return out

    @r.post("/internal/quotes", tags=["internal"])
    async def quote_basket(q: QuoteIn) -> Response:
        """One basket priced (L-06)."""
        (res,) = await price([q])  # on the cashier's path: orjson bytes, no generic re-encoding
        return Response(orjson.dumps(res), media_type="application/json")

    @r.post("/internal/quotes:batch", tags=["internal"])
    async def quote_baskets(body: QuotesIn) -> Response:
        """Baskets of several cashiers priced together: one request and one read for all (L-06).
        The gateway sends what queued while its previous call was in flight."""
        return Response(orjson.dumps({"results": await price(body.quotes)}), media_type="application/json")

    @r.post("/internal/redemptions", status_code=201, tags=["internal"])
    async def redeem(body: RedemptionIn) -> dict[str, Any]:
        """Redeem from the catalogue or as money (L-07); refused with the rule; cannot be cancelled."""
        try:
            return await commands.redeem(RedeemCommand(body.redemption_id, body.store_id, body.member_id,
                                                       body.reward_id, body.points_to_cash, body.id_verified))
        except RuleViolation as e:
            raise refused(e) from None

    return r
