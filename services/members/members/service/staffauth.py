"""Staff login (O-02, O-03): password checked with scrypt, answered with a short-lived signed staff token and an
opaque refresh token. Refresh tokens are stored hashed, rotated on every use (a second use of one revokes all of
the person's sessions: it was copied), and deleted when the person's store, role, password or employment changes
(service/staffdir.py), so a person who leaves or changes role keeps no rights (docs/architecture.md "Identity").

Login is throttled before scrypt runs (scrypt costs ~50 ms of CPU and 16 MiB: unthrottled, login is a lever on the
CPU and a way to guess passwords): every attempt takes a token from its account's bucket and from its client
address's bucket (429 with Retry-After when either is empty); a successful login gives both back, so only failures
count."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.errors import Unauthorized, Unavailable
from vipcore.limits import RateLimiter

from ..adapters.tables import staff, staff_sessions, stores
from ..domain.passwords import hash_password, verify_password

_DUMMY = hash_password("not-a-real-password")  # same work for unknown ids: no account probing by timing
REFRESH_TTL_S = 12 * 3600  # a working day; each refresh rotates the token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginThrottle:
    """Failed logins per account and per client address (token buckets, vipcore.limits)."""

    def __init__(self, per_account: RateLimiter, per_address: RateLimiter) -> None:
        self.per_account, self.per_address = per_account, per_address

    @classmethod
    def of(cls, *, account_per_min: float, account_burst: int, address_per_min: float, address_burst: int,
           instances: int = 1, **kw: Any) -> LoginThrottle:
        """The configured limits are chain-wide: with `instances` members processes each keeps its share (logins
        are spread over them), so a guesser gets the configured number of tries, not a multiple (O-03)."""
        return cls(RateLimiter.share_of(account_per_min / 60, account_burst, instances, **kw),
                   RateLimiter.share_of(address_per_min / 60, address_burst, instances, **kw))

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
    def __init__(self, engine: AsyncEngine, issuer: TokenIssuer | None, refresh_ttl_s: int = REFRESH_TTL_S,
                 throttle: LoginThrottle | None = None) -> None:
        self.engine = engine
        self.issuer = issuer
        self.refresh_ttl_s = refresh_ttl_s
        self.throttle = throttle

    def _issuer(self) -> TokenIssuer:
        if self.issuer is None:
            raise Unavailable("staff_id", "login unavailable: STAFF_TOKEN_PRIVATE_KEY is not configured")
        return self.issuer

    @staticmethod
    def _who(staff_id: str) -> Any:
        return (sa.select(staff.c.staff_id, staff.c.store_id, staff.c.role, staff.c.password_hash, staff.c.left_at,
                          stores.c.region_code).join(stores, stores.c.store_id == staff.c.store_id)
                .where(staff.c.staff_id == staff_id))

    async def login(self, staff_id: str, password: str, address: str = "") -> dict[str, Any]:
        issuer = self._issuer()
        if self.throttle is not None:  # before the database and scrypt
            self.throttle.admit(staff_id, address)
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._who(staff_id))).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY
        ok = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not row.password_hash or not ok or row.left_at is not None:  # left: no login
            raise Unauthorized("O-03", "password", "unknown staff id or wrong password")
        if self.throttle is not None:
            self.throttle.succeeded(staff_id, address)
        async with self.engine.begin() as conn:
            return await self._tokens(conn, issuer, row)

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """O-03: a new staff token and a new refresh token for a valid, unused refresh token; the old one is spent.
        Refused (401) when unknown, expired, already used (then every session of the person ends), or the person
        left."""
        issuer = self._issuer()
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            owner = (await conn.execute(sa.select(staff_sessions.c.staff_id).where(
                staff_sessions.c.token_hash == _hash(refresh_token)))).scalar()
            # the staff row first (shared lock): a concurrent change of the person (which locks it) either ends
            # before — its deletion of the sessions is then seen below — or starts after this refresh commits
            row = (await conn.execute(self._who(owner).with_for_update(read=True, of=staff))).first() \
                if owner is not None else None
            s = (await conn.execute(sa.select(staff_sessions).where(
                staff_sessions.c.token_hash == _hash(refresh_token)).with_for_update())).first()
            if s is not None and s.used_at is not None:
                await conn.execute(staff_sessions.delete().where(staff_sessions.c.staff_id == s.staff_id))
            if s is None or s.used_at is not None or s.expires_at <= now or row is None or row.left_at is not None:
                refused = True
            else:
                refused = False
                await conn.execute(staff_sessions.update().where(staff_sessions.c.token_hash == s.token_hash)
                                   .values(used_at=now))
                out = await self._tokens(conn, issuer, row)
        if refused:  # outside the transaction: a reused token's revocation above is committed
            raise Unauthorized("O-03", "refresh_token", "refresh token unknown, expired or already used; log in "
                                                        "again")
        return out

    async def logout(self, refresh_token: str) -> bool:
        """O-03: end this session — its refresh token is deleted, so it renews nothing more (the staff token it was
        issued with lapses within minutes). The person's other sessions stay. True when there was one to end; an
        unknown or spent token is answered the same (a logout says nothing about which tokens exist)."""
        async with self.engine.begin() as conn:
            ended = await conn.execute(staff_sessions.delete().where(
                staff_sessions.c.token_hash == _hash(refresh_token)))
        return bool(ended.rowcount)

    async def _tokens(self, conn: AsyncConnection, issuer: TokenIssuer, row: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        refresh = secrets.token_urlsafe(32)
        await conn.execute(staff_sessions.insert().values(
            token_hash=_hash(refresh), staff_id=row.staff_id, issued_at=now,
            expires_at=now + timedelta(seconds=self.refresh_ttl_s)))
        await conn.execute(staff_sessions.delete().where(staff_sessions.c.staff_id == row.staff_id,
                                                         staff_sessions.c.expires_at < now))
        p = Principal(row.staff_id, row.store_id, row.region_code, Role(row.role))
        return {"token": issuer.issue(p), "token_type": "Bearer", "expires_in": issuer.ttl,
                "refresh_token": refresh, "staff_id": p.staff_id, "store_id": p.store_id,
                "region_code": p.region_code, "role": p.role.value}
