"""Credit accounts (C-01), limits by class and temporary raises (C-02), suspension, exposure."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.errors import Conflict, Forbidden, NotFound, RuleViolation
from vipcore.pii import mask_mobile

from ..adapters.sql import OUTSTANDING
from ..adapters.tables import accounts, authorizations, limit_raises, member_classes, receivables
from ..domain.rules import CLASSES, Exposure, Limits, credit_class, default_case_limit
from .context import Credit


async def create_account(c: Credit, body: dict[str, Any], by: str) -> dict[str, Any]:
    """C-01: open credit for an organisation or an individual; C-02 case limit by class. An account for a member
    takes the class of the member file (M-14); a different class in the request is refused."""
    member_id = body.get("member_id")
    if member_id:
        async with c.engine.connect() as conn:
            filed = await conn.scalar(sa.select(member_classes.c.customer_class)
                                      .where(member_classes.c.member_id == member_id))
        asked = credit_class(body.get("customer_class")) or body.get("customer_class")
        if filed and asked and asked != filed:
            raise RuleViolation("M-14", "customer_class", f"the member file's class is {filed} (M-14)")
        body = {**body, "customer_class": filed or asked}
    cls = credit_class(body.get("customer_class"))
    if cls is None:
        raise RuleViolation("M-14", "customer_class", f"one of {', '.join(CLASSES)}"
                            + ("; the member file has no class yet" if member_id else ""))
    cases = body.get("limit_cases") or default_case_limit(cls)
    if cases > default_case_limit(cls):
        raise RuleViolation("C-02", "limit_cases", f"class {cls} may have at most {default_case_limit(cls)} cases; "
                            "more needs an approved written application (temporary raise)")
    row = {"customer_id": body.get("customer_id") or f"CR-{uuid.uuid4().hex[:12]}", "name": body["name"],
           "customer_class": cls, "contact_mobile": c.seal(body.get("contact_mobile")), "store_id": body["store_id"],
           "responsible_staff_id": body["responsible_staff_id"],
           "line_leader_staff_id": body.get("line_leader_staff_id"), "limit_cases": cases,
           "limit_amount": body["limit_amount"], "created_by": by, "member_id": member_id}
    async with c.engine.begin() as conn:
        res = await conn.execute(
            pg_insert(accounts).values(**row).on_conflict_do_nothing())
        if res.rowcount == 0:
            raise Conflict("C-01", "customer_id", "a credit account with this customer_id or member_id exists")
    mobile = body.get("contact_mobile")
    return {**row, "contact_mobile": mask_mobile(mobile) if mobile else None}  # N-06: never echoed in clear


async def limits_and_exposure(conn: AsyncConnection, customer_id: str, now: datetime,
                              lock: bool = False) -> tuple[Any, Limits, Exposure]:
    """The account (row-locked when `lock`), its limits with unexpired approved raises, and what is outstanding."""
    q = sa.select(accounts).where(accounts.c.customer_id == customer_id)
    acct = (await conn.execute(q.with_for_update() if lock else q)).first()
    if acct is None:
        raise NotFound("customer_id", "no credit account for this customer", "C-01")

    def total(*cols: Any) -> list[Any]:
        return [sa.func.coalesce(sa.func.sum(col), 0) for col in cols]

    # one round trip for what the limit check needs: unexpired raises, live holds, unpaid receivables
    raised = sa.select(*total(limit_raises.c.extra_cases, limit_raises.c.extra_amount)).where(
        limit_raises.c.customer_id == customer_id, limit_raises.c.status == "approved",
        limit_raises.c.expires_at > now).subquery()
    held_q = sa.select(*total(authorizations.c.cases, authorizations.c.amount)).where(
        authorizations.c.customer_id == customer_id, authorizations.c.status == "held",
        authorizations.c.expires_at > now).subquery()
    owed_q = sa.select(*total(receivables.c.cases, OUTSTANDING)).where(
        receivables.c.customer_id == customer_id, OUTSTANDING > 0).subquery()
    row = (await conn.execute(sa.select(*raised.c, *held_q.c, *owed_q.c).select_from(
        raised.join(held_q, sa.true()).join(owed_q, sa.true())))).one()
    extra, held, owed = row[0:2], row[2:4], row[4:6]
    limits = Limits(acct.limit_cases + int(extra[0]), acct.limit_amount + int(extra[1]), acct.suspended,
                    acct.overdue)
    return acct, limits, Exposure(int(held[0]) + int(owed[0]), int(held[1]) + int(owed[1]))


async def account_view(c: Credit, customer_id: str) -> dict[str, Any]:
    async with c.engine.connect() as conn:
        acct, lim, exp = await limits_and_exposure(conn, customer_id, c.clock())
    out = dict(acct._mapping)
    mobile = c.unseal(out["contact_mobile"])
    out["contact_mobile"] = mask_mobile(mobile) if mobile else None
    out.update(effective_limit_cases=lim.cases, effective_limit_amount=lim.amount,
               outstanding_cases=exp.cases, outstanding_amount=exp.amount,
               available_cases=max(lim.cases - exp.cases, 0), available_amount=max(lim.amount - exp.amount, 0))
    return out


async def request_raise(c: Credit, customer_id: str, body: dict[str, Any], by: str) -> dict[str, Any]:
    """C-02: more than the class limit needs a written application; it waits for a manager's approval."""
    if body["expires_at"] <= c.clock():
        raise RuleViolation("C-02", "expires_at", "a temporary raise needs an expiry in the future")
    row = {"raise_id": f"RAISE-{uuid.uuid4().hex[:12]}", "customer_id": customer_id,
           "extra_cases": body["extra_cases"], "extra_amount": body["extra_amount"], "reason": body["reason"],
           "application_ref": body["application_ref"], "expires_at": body["expires_at"], "status": "pending",
           "requested_by": by}
    async with c.engine.begin() as conn:
        if await conn.scalar(sa.select(accounts.c.customer_id).where(accounts.c.customer_id == customer_id)) is None:
            raise NotFound("customer_id", "no credit account for this customer", "C-01")
        await conn.execute(limit_raises.insert().values(**row))
    return row


OnApproved = Callable[[AsyncConnection, Any], Awaitable[None]]


async def decide(c: Credit, table: sa.Table, key: str, ident: str, approve: bool, by: str,
                 on_approved: OnApproved | None = None) -> dict[str, Any]:
    """Approve or reject a pending application (raise, extension, write-off); the applicant cannot approve it."""
    async with c.engine.begin() as conn:
        row = (await conn.execute(sa.select(table).where(table.c[key] == ident).with_for_update())).first()
        if row is None:
            raise NotFound(key, "no such application")
        if row.status != "pending":
            raise Conflict(None, key, f"already {row.status}")
        if row.requested_by == by:
            raise Forbidden("C-02", "approver", "the applicant cannot decide their own application: it is approved "
                                                "by someone other than its applicant")
        await conn.execute(table.update().where(table.c[key] == ident).values(
            status="approved" if approve else "rejected", decided_by=by))
        if approve and on_approved is not None:
            await on_approved(conn, row)
    return {key: ident, "status": "approved" if approve else "rejected", "decided_by": by}


async def set_suspended(c: Credit, customer_id: str, suspended: bool, reason: str | None, by: str) -> None:
    """C-01: credit only for customers with a good record; a manager can suspend it (recorded with who and when)."""
    async with c.engine.begin() as conn:
        res = await conn.execute(accounts.update().where(accounts.c.customer_id == customer_id).values(
            suspended=suspended, suspended_reason=reason if suspended else None, suspension_by=by,
            suspension_at=c.clock()))
        if res.rowcount == 0:
            raise NotFound("customer_id", "no credit account for this customer", "C-01")
