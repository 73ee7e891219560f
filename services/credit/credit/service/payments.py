"""C-05: payments by cash, cheque, transfer or wire, allocated oldest-first (or to a named invoice); a cheque
is pending for 3 days, then clears or bounces — a bounce reopens what it paid. Due-date extensions (C-03)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.contracts.credit import PaymentReceived
from vipcore.errors import Conflict, NotFound, RuleViolation

from ..adapters.sql import OUTSTANDING
from ..adapters.tables import accounts, extensions, payments, receivables
from ..domain.rules import PAYMENT_METHODS, OpenInvoice, allocate, cheque_clears_on
from .accounts import decide
from .context import Credit


async def refresh_overdue(conn: AsyncConnection, customer_ids: list[str], today: date) -> None:
    """C-04: the overdue flag is on exactly while the customer has an unpaid invoice past its due date."""
    overdue = sa.exists().where(receivables.c.customer_id == accounts.c.customer_id, OUTSTANDING > 0,
                                receivables.c.due_date < today)
    await conn.execute(accounts.update().where(accounts.c.customer_id.in_(customer_ids)).values(overdue=overdue))


async def record_payment(c: Credit, customer_id: str, body: dict[str, Any], by: str) -> dict[str, Any]:
    """Allocate a payment to open invoices; a cheque's allocation stands until it bounces."""
    method, amount = body["method"], body["amount"]
    if method not in PAYMENT_METHODS:
        raise RuleViolation("C-05", "method", f"one of {', '.join(PAYMENT_METHODS)}")
    async with c.engine.begin() as conn:
        acct = (await conn.execute(sa.select(accounts).where(accounts.c.customer_id == customer_id)
                                   .with_for_update())).first()
        if acct is None:
            raise NotFound("customer_id", "no credit account for this customer", "C-01")
        today = c.business_date(await c.store_tz(conn, acct.store_id))
        open_ = [OpenInvoice(r.receivable_id, r.outstanding, r.delivered_at.date()) for r in await conn.execute(
            sa.select(receivables.c.receivable_id, receivables.c.delivered_at, OUTSTANDING.label("outstanding"))
            .where(receivables.c.customer_id == customer_id, OUTSTANDING > 0))]
        named = body.get("receivable_id")
        if named and named not in {i.receivable_id for i in open_}:
            raise RuleViolation("C-05", "receivable_id", "not an open invoice of this customer")
        owed = sum(i.outstanding for i in open_)
        if amount > owed:
            raise RuleViolation("C-05", "amount", f"the customer owes {owed} fen; a payment cannot exceed it")
        alloc = allocate(amount, open_, named)
        pid = f"PAY-{uuid.uuid4().hex[:16]}"
        cheque = method == "cheque"
        await conn.execute(payments.insert().values(
            payment_id=pid, customer_id=customer_id, method=method, amount=amount, reference=body.get("reference"),
            status="pending" if cheque else "cleared", received_on=today,
            clears_on=cheque_clears_on(today) if cheque else None, allocated=alloc, recorded_by=by))
        await _apply(conn, alloc, +1)
        await refresh_overdue(conn, [customer_id], today)
        await c.emit(conn, [(customer_id, PaymentReceived(payment_id=pid, customer_id=customer_id, method=method,
                                                          amount=amount, allocated=alloc))])
    c.wake()
    return {"payment_id": pid, "status": "pending" if cheque else "cleared", "allocated": alloc,
            "clears_on": cheque_clears_on(today).isoformat() if cheque else None}


async def _apply(conn: AsyncConnection, alloc: dict[str, int], sign: int) -> None:
    if alloc:
        await conn.execute(receivables.update().where(receivables.c.receivable_id == sa.bindparam("r_id"))
                           .values(paid=receivables.c.paid + sa.bindparam("amt")),
                           [{"r_id": k, "amt": sign * v} for k, v in alloc.items()])


async def settle_cheque(c: Credit, payment_id: str, cleared: bool, by: str) -> dict[str, Any]:
    """C-05: a pending cheque clears, or bounces and reopens the invoices it paid; `by` who said so."""
    async with c.engine.begin() as conn:
        p = (await conn.execute(sa.select(payments).where(payments.c.payment_id == payment_id)
                                .with_for_update())).first()
        if p is None:
            raise NotFound("payment_id", "no such payment")
        if p.method != "cheque" or p.status != "pending":
            raise Conflict("C-05", "payment_id",
                           f"only a pending cheque clears or bounces (this is {p.status} {p.method})")
        await conn.execute(payments.update().where(payments.c.payment_id == payment_id)
                           .values(status="cleared" if cleared else "bounced", settled_by=by, settled_at=c.clock()))
        if not cleared:
            await _apply(conn, p.allocated, -1)
            tz = await c.store_tz(conn, await conn.scalar(
                sa.select(accounts.c.store_id).where(accounts.c.customer_id == p.customer_id)) or "")
            await refresh_overdue(conn, [p.customer_id], c.business_date(tz))
    return {"payment_id": payment_id, "status": "cleared" if cleared else "bounced"}


async def request_extension(c: Credit, receivable_id: str, new_due: date, reason: str, by: str) -> dict[str, Any]:
    """C-03: a later due date needs an application, approved by a manager."""
    async with c.engine.begin() as conn:
        due = (await conn.execute(sa.select(receivables.c.due_date, OUTSTANDING.label("o"))
                                  .where(receivables.c.receivable_id == receivable_id))).first()
        if due is None or due.o <= 0:
            raise NotFound("receivable_id", "no open invoice with this id", "C-03")
        if due.due_date is not None and new_due <= due.due_date:
            raise RuleViolation("C-03", "new_due_date", f"an extension must be later than {due.due_date}")
        row = {"extension_id": f"EXT-{uuid.uuid4().hex[:12]}", "receivable_id": receivable_id,
               "new_due_date": new_due, "reason": reason, "status": "pending", "requested_by": by}
        await conn.execute(extensions.insert().values(**row))
    return row


async def decide_extension(c: Credit, extension_id: str, approve: bool, by: str) -> dict[str, Any]:
    """C-03: a manager approves or rejects an extension; approved, the invoice gets its new due date."""
    async def apply(conn: AsyncConnection, ext: Any) -> None:
        cust = await conn.scalar(receivables.update().where(receivables.c.receivable_id == ext.receivable_id)
                                 .values(due_date=ext.new_due_date).returning(receivables.c.customer_id))
        tz = await c.store_tz(conn, await conn.scalar(
            sa.select(accounts.c.store_id).where(accounts.c.customer_id == cust)) or "")
        await refresh_overdue(conn, [str(cust)], c.business_date(tz))

    return await decide(c, extensions, "extension_id", extension_id, approve, by, apply)
