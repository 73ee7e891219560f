"""Staff login (O-02, O-03): password checked with scrypt, answered with a signed staff token.

Throttled before scrypt runs (scrypt costs ~50 ms of CPU and 16 MiB: unthrottled, login is a lever on the CPU and a
way to guess passwords): every attempt takes a token from its account's bucket and from its client address's
bucket (429 with Retry-After when either is empty); a successful login gives both back, so only failures count."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.errors import Unauthorized, Unavailable
from vipcore.limits import RateLimiter

from ..adapters.tables import staff, stores
from ..domain.passwords import hash_password, verify_password

_DUMMY = hash_password("not-a-real-password")  # same work for unknown ids: no account probing by timing


class LoginThrottle:
    """Failed logins per account and per client address (token buckets, vipcore.limits)."""

    def __init__(self, per_account: RateLimiter, per_address: RateLimiter) -> None:
        self.per_account, self.per_address = per_account, per_address

    def admit(self, staff_id: str, address: str) -> None:
        """Take this attempt's tokens, or raise TooManyRequests (429) having taken none."""
        self.per_account.check(staff_id, what="failed logins for this staff id", field="staff_id")
        try:
            self.per_address.check(address, what="failed logins from this address", field="staff_id")
        except Exception:
            self.per_account.give_back(staff_id)
            raise

    def succeeded(self, staff_id: str, address: str) -> None:
        self.per_account.give_back(staff_id)
        self.per_address.give_back(address)


class StaffLogin:
    def __init__(self, engine: AsyncEngine, issuer: TokenIssuer | None, throttle: LoginThrottle | None = None) -> None:
        self.engine = engine
        self.issuer = issuer
        self.throttle = throttle

    async def login(self, staff_id: str, password: str, address: str = "") -> dict[str, str | None]:
        if self.issuer is None:
            raise Unavailable("staff_id", "login unavailable: STAFF_TOKEN_PRIVATE_KEY is not configured")
        if self.throttle is not None:  # before the database and scrypt
            self.throttle.admit(staff_id, address)
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(staff.c.staff_id, staff.c.store_id, staff.c.role, staff.c.password_hash, staff.c.left_at,
                          stores.c.region_code).join(stores, stores.c.store_id == staff.c.store_id)
                .where(staff.c.staff_id == staff_id))).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY
        ok = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not row.password_hash or not ok or row.left_at is not None:  # left: no login
            raise Unauthorized("O-03", "password", "unknown staff id or wrong password")
        if self.throttle is not None:
            self.throttle.succeeded(staff_id, address)
        p = Principal(row.staff_id, row.store_id, row.region_code, Role(row.role))
        return {"token": self.issuer.issue(p), "token_type": "Bearer", "staff_id": p.staff_id,
                "store_id": p.store_id, "region_code": p.region_code, "role": p.role.value}
