"""Staff login (O-02, O-03): password checked with scrypt, answered with a signed staff token."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.errors import Unauthorized, Unavailable

from ..adapters.tables import staff, stores
from ..domain.passwords import hash_password, verify_password

_DUMMY = hash_password("not-a-real-password")  # same work for unknown ids: no account probing by timing


class StaffLogin:
    def __init__(self, engine: AsyncEngine, issuer: TokenIssuer | None) -> None:
        self.engine = engine
        self.issuer = issuer

    async def login(self, staff_id: str, password: str) -> dict[str, str | None]:
        if self.issuer is None:
            raise Unavailable("staff_id", "login unavailable: STAFF_TOKEN_PRIVATE_KEY is not configured")
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(staff.c.staff_id, staff.c.store_id, staff.c.role, staff.c.password_hash, staff.c.left_at,
                          stores.c.region_code).join(stores, stores.c.store_id == staff.c.store_id)
                .where(staff.c.staff_id == staff_id))).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY
        ok = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not row.password_hash or not ok or row.left_at is not None:  # left: no login
            raise Unauthorized("O-03", "password", "unknown staff id or wrong password")
        p = Principal(row.staff_id, row.store_id, row.region_code, Role(row.role))
        return {"token": self.issuer.issue(p), "token_type": "Bearer", "staff_id": p.staff_id,
                "store_id": p.store_id, "region_code": p.region_code, "role": p.role.value}
