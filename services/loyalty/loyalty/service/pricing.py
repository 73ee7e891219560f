"""What the till asks of loyalty while the customer waits: a member's standing, and member prices (L-06).

Both are reads. Quotes of many cashiers are priced together with one autocommit read of every member's pricing
facts; a quote that cannot be priced is refused on its own and never fails the others it came with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import Refused

from ..adapters import state
from ..adapters.stores import StoreCache
from ..adapters.tables import accounts, members
from ..domain.account import Account
from ..domain.pricing import QuoteLine, birthday_proven, is_birthday, quote
from ..domain.program import ProgramBook

# L-06 pricing facts of members: birthday and tier under each program they have an account in (built once).
_ids = sa.func.unnest(sa.bindparam("ids", type_=sa.ARRAY(sa.Text))).table_valued("member_id").render_derived("q")
PRICING_FACTS = (sa.select(_ids.c.member_id, members.c.birthday, accounts.c.program, accounts.c.tier)
                 .select_from(_ids.outerjoin(members, members.c.member_id == _ids.c.member_id)
                              .outerjoin(accounts, accounts.c.member_id == _ids.c.member_id)))


class BasketLine(Protocol):
    @property
    def line_no(self) -> int: ...
    @property
    def qty(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def special_price(self) -> bool: ...


class Basket(Protocol):
    """A basket to price, as the request gives it (no copy on the hot path)."""

    @property
    def store_id(self) -> str: ...
    @property
    def member_id(self) -> str | None: ...
    @property
    def id_verified(self) -> bool: ...
    @property
    def by_mobile(self) -> bool: ...
    @property
    def lines(self) -> Sequence[BasketLine]: ...


class Pricing:
    def __init__(self, engine: AsyncEngine, books: dict[str, ProgramBook], stores: StoreCache,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.books, self.stores, self.clock = engine, books, stores, clock
        self.reader = engine.execution_options(isolation_level="AUTOCOMMIT")  # same pool; single-statement reads

    async def book_of(self, store_id: str) -> tuple[ProgramBook, str]:
        pid, tz = await self.stores.get(store_id)
        return self.books[pid], tz

    async def account(self, member_id: str, store_id: str) -> dict[str, Any]:
        """Tier and points (total, spendable, pending) of a member under the program of `store_id` (L-02, L-14)."""
        book, _ = await self.book_of(store_id)
        now = self.clock()
        program = book.at(now)
        async with self.reader.connect() as conn:
            row = (await conn.execute(sa.select(accounts).where(
                accounts.c.member_id == member_id, accounts.c.program == program.id))).first()
        acct = (state.load(member_id, program.id, row.tier, row.points_balance, row.tier_spend, row.state)
                if row else Account(member_id, program.id, program.entry_tier.code))
        return {"member_id": member_id, "program": program.id, "tier": acct.tier,
                "tier_name": program.tier(acct.tier).name, "points_balance": acct.balance,
                "points_available": acct.available(now), "points_pending": acct.pending(now)}

    async def price(self, quotes: Sequence[Basket]) -> list[dict[str, Any] | Refused]:
        """Member price per line (best single benefit: tier or birthday; specials excluded) and points (L-06),
        or the refusal of that quote alone. All the members' facts come in one autocommit round trip."""
        ids = sorted({q.member_id for q in quotes if q.member_id})
        facts: dict[str, tuple[Any, dict[str, str]]] = {}
        if ids:
            async with self.reader.connect() as conn:
                for row in await conn.execute(PRICING_FACTS, {"ids": ids}):
                    tiers = facts.setdefault(row.member_id, (row.birthday, {}))[1]
                    if row.program is not None:
                        tiers[row.program] = row.tier
        now = self.clock()
        out: list[dict[str, Any] | Refused] = []
        for q in quotes:
            book, tz = await self.book_of(q.store_id)
            program = book.at(now)
            tier: str | None = None
            birthday = None
            if q.member_id:
                birthday, tiers = facts.get(q.member_id, (None, {}))
                tier = tiers.get(program.id) or program.entry_tier.code
            try:
                res = quote(program, tier, [QuoteLine(ln.line_no, ln.qty, ln.unit_price, ln.special_price)
                                            for ln in q.lines],
                            birthday_today=is_birthday(birthday, now.astimezone(ZoneInfo(tz)).date()),
                            proof=birthday_proven(program, q.id_verified, q.by_mobile))
            except Refused as e:
                out.append(e)
                continue
            out.append({"lines": res.lines, "total": res.total, "member_total": res.member_total,
                        "points_to_earn": res.points_to_earn, "benefit": res.benefit, "tier": tier})
        return out
