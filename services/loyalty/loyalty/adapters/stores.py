"""Which program and time zone each store runs under, read once and kept for a while (the quote path is hot)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import stores

DEFAULT_TZ = "Asia/Shanghai"


class StoreCache:
    """store → (program, time zone) kept in memory: the quote path must stay cheap (L-06 at the POS).

    A store whose program loyalty does not know runs under the default program, as its sales do."""

    def __init__(self, engine: AsyncEngine, programs: set[str], default_program: str, ttl_s: float = 30.0) -> None:
        self.engine, self.programs, self.default, self.ttl = engine, programs, default_program, ttl_s
        self._map: dict[str, tuple[str, str, float]] = {}

    async def get(self, store_id: str) -> tuple[str, str]:
        hit = self._map.get(store_id)
        if hit and hit[2] > time.monotonic():
            return hit[0], hit[1]
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(stores.c.program, stores.c.timezone)
                                      .where(stores.c.store_id == store_id))).first()
        if row is None:  # an unknown store is not cached: its registration may be on its way
            return self.default, DEFAULT_TZ
        prog = row.program if row.program in self.programs else self.default
        self._map[store_id] = (prog, row.timezone, time.monotonic() + self.ttl)
        return prog, row.timezone

    async def program_of(self, store_id: str) -> str:
        return (await self.get(store_id))[0]
