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
from ..domain.tenancy import AuthorizationState, credit_sale_refusal
from .accounts import limits_and_exposure
from .context import Credit


def not_this_store(store_id: str) -> NotFound:
    """The answer to another store's group buyer, the same as to an unknown one (O-02: nothing is revealed)."""
    return NotFound("customer_id", f"no credit account for this customer at store {store_id}", "C-01")


async def request_authorization(c: Credit, store_id: str, customer_id: str, cases: int, amount: int,
                                responsible_staff_id: str) -> dict[str, Any]:
    """Grant a hold or refuse with the rule; the account row lock makes concurrent terminals take turns."""
    now = c.clock()
    async with c.engine.begin() as conn:
        # FOR UPDATE on the account: a second terminal waits here and then sees this hold (READ COMMITTED).
        try:
            acct, limits, exposure = await limits_and_exposure(conn, customer_id, now, lock=True)
        except NotFound:
            raise not_this_store(store_id) from None
        if acct.store_id != store_id:  # O-02: a store's till asks only for its own group buyers
            raise not_this_store(store_id)
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


def state_of(row: Any) -> AuthorizationState:
    return AuthorizationState(row.store_id, row.customer_id, row.amount, row.status, row.expires_at, row.receipt_no,
                              row.sale_id)


async def claim_authorization(c: Credit, authorization_id: str, store_id: str, receipt_no: str, customer_id: str,
                              amount: int) -> dict[str, Any]:
    """C-04: before the till records a credit sale, the authorisation it names is checked (this store, this
    customer, covering the amount, not used by another receipt) and claimed by the receipt; 422 C-04 otherwise.
    The same receipt again is answered the same way (a POS retry)."""
    async with c.engine.begin() as conn:
        row = (await conn.execute(sa.select(authorizations).where(
            authorizations.c.authorization_id == authorization_id).with_for_update())).first()
        refusal = credit_sale_refusal(state_of(row) if row is not None else None, store_id, customer_id, receipt_no,
                                      amount, c.clock())
        if refusal is not None:
            raise RuleViolation(refusal.rule, refusal.field, refusal.reason)
        assert row is not None
        if row.receipt_no is None:
            await conn.execute(authorizations.update().where(authorizations.c.authorization_id == authorization_id)
                               .values(receipt_no=receipt_no))
    return {"authorization_id": authorization_id, "store_id": store_id, "receipt_no": receipt_no,
            "customer_id": customer_id, "amount": amount, "status": "claimed"}
