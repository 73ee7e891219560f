"""C-04: a credit sale is authorised before the goods leave — a hold against the limit (C-02), refused while
an invoice is overdue; the hold is captured by the sale that names it or released when it expires."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from vipcore.contracts.credit import AuthorizationGranted, AuthorizationRefused, AuthorizationReleased
from vipcore.errors import NotFound, RuleViolation

from ..adapters.tables import authorizations
from ..domain.rules import authorize
from .accounts import limits_and_exposure
from .context import Credit


async def request_authorization(c: Credit, store_id: str, customer_id: str, cases: int, amount: int,
                                responsible_staff_id: str) -> dict[str, Any]:
    """Grant a hold or refuse with the rule; the account row lock makes concurrent terminals take turns."""
    now = c.clock()
    async with c.engine.begin() as conn:
        # FOR UPDATE on the account: a second terminal waits here and then sees this hold (READ COMMITTED).
        _, limits, exposure = await limits_and_exposure(conn, customer_id, now, lock=True)
        refusal = authorize(limits, exposure, cases, amount)
        if refusal is not None:
            await c.emit(conn, [(customer_id, AuthorizationRefused(
                customer_id=customer_id, store_id=store_id, cases=cases, amount=amount, rule=refusal.rule,
                reason=refusal.reason))])
        else:
            auth_id = f"AUTH-{uuid.uuid4().hex}"
            expires = now + timedelta(seconds=c.authorization_ttl_s)
            await conn.execute(authorizations.insert().values(
                authorization_id=auth_id, customer_id=customer_id, store_id=store_id, cases=cases, amount=amount,
                responsible_staff_id=responsible_staff_id, status="held", expires_at=expires, created_at=now))
            await c.emit(conn, [(customer_id, AuthorizationGranted(
                authorization_id=auth_id, customer_id=customer_id, store_id=store_id, cases=cases, amount=amount,
                expires_at=expires.isoformat(), responsible_staff_id=responsible_staff_id))])
    c.wake()
    if refusal is not None:
        raise RuleViolation(refusal.rule, refusal.field, refusal.reason)
    return {"authorization_id": auth_id, "approved": True, "expires_at": expires.isoformat(),
            "available_cases": limits.cases - exposure.cases - cases,
            "available_amount": limits.amount - exposure.amount - amount}


async def release_expired(c: Credit, now: datetime | None = None) -> int:
    """C-04: a hold not used by a sale within its expiry is released (credit.authorization.released)."""
    at = now or c.clock()
    async with c.engine.begin() as conn:
        rows = (await conn.execute(
            authorizations.update()
            .where(authorizations.c.status == "held", authorizations.c.expires_at <= at)
            .values(status="released", released_reason="expired")
            .returning(authorizations.c.authorization_id, authorizations.c.customer_id))).all()
        await c.emit(conn, [(r.customer_id, AuthorizationReleased(
            authorization_id=r.authorization_id, customer_id=r.customer_id, reason="expired")) for r in rows])
    if rows:
        c.wake()
    return len(rows)


async def get_authorization(c: Credit, authorization_id: str) -> dict[str, Any]:
    """One authorisation and its state (held, captured, released)."""
    async with c.engine.connect() as conn:
        row = (await conn.execute(sa.select(authorizations).where(
            authorizations.c.authorization_id == authorization_id))).first()
    if row is None:
        raise NotFound("authorization_id", "no such authorization")
    return dict(row._mapping)
