"""C-06: a bad debt is written off by approval; the responsible staff member is charged in full and the line
leader fined 10%, both on a per-staff statement."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.contracts.credit import WriteoffApproved
from vipcore.errors import Conflict, Forbidden, NotFound

from ..adapters import reports
from ..adapters.sql import OUTSTANDING
from ..adapters.tables import liabilities, receivables, staff_directory, writeoffs
from ..domain.rules import liability
from .accounts import decide
from .context import Credit


async def request_writeoff(c: Credit, receivable_id: str, reason: str, by: str) -> dict[str, Any]:
    """C-06: propose writing off what an open invoice still owes; one live request per invoice."""
    async with c.engine.begin() as conn:
        r = (await conn.execute(sa.select(receivables.c.customer_id, OUTSTANDING.label("o"))
                                .where(receivables.c.receivable_id == receivable_id))).first()
        if r is None or r.o <= 0:
            raise NotFound("receivable_id", "no open invoice with this id", "C-06")
        if await conn.scalar(sa.select(writeoffs.c.writeoff_id).where(
                writeoffs.c.receivable_id == receivable_id, writeoffs.c.status != "rejected")):
            raise Conflict("C-06", "receivable_id", "a write-off of this invoice is already requested")
        row = {"writeoff_id": f"WO-{uuid.uuid4().hex[:12]}", "receivable_id": receivable_id,
               "customer_id": r.customer_id, "amount": r.o, "reason": reason, "status": "pending",
               "requested_by": by}
        await conn.execute(sa.delete(writeoffs).where(writeoffs.c.receivable_id == receivable_id))
        await conn.execute(writeoffs.insert().values(**row))
    return row


async def decide_writeoff(c: Credit, writeoff_id: str, approve: bool, by: str) -> dict[str, Any]:
    """C-06: approved, the staff member is charged what is still owed and the line leader fined 10%."""
    async def apply(conn: AsyncConnection, wo: Any) -> None:
        r = (await conn.execute(sa.select(receivables, OUTSTANDING.label("o")).where(
            receivables.c.receivable_id == wo.receivable_id).with_for_update(of=receivables))).one()
        amount = r.o  # what is still owed at approval (payments since the request reduce it)
        charge, fine = liability(amount)
        await conn.execute(receivables.update().where(receivables.c.receivable_id == wo.receivable_id)
                           .values(written_off=receivables.c.written_off + amount))
        await conn.execute(writeoffs.update().where(writeoffs.c.writeoff_id == wo.writeoff_id).values(amount=amount))
        staff = r.responsible_staff_id or "unknown"
        leader = r.line_leader_staff_id or await conn.scalar(  # C-06: the staff directory's line leader
            sa.select(staff_directory.c.line_leader_staff_id).where(staff_directory.c.staff_id == staff))
        entries = [{"writeoff_id": wo.writeoff_id, "staff_id": staff, "kind": "charge", "amount": charge,
                    "receivable_id": wo.receivable_id}]
        if leader and leader != staff:
            entries.append({"writeoff_id": wo.writeoff_id, "staff_id": leader, "kind": "fine",
                            "amount": fine, "receivable_id": wo.receivable_id})
        await conn.execute(liabilities.insert(), entries)
        await c.emit(conn, [(r.customer_id, WriteoffApproved(
            writeoff_id=wo.writeoff_id, receivable_id=wo.receivable_id, customer_id=r.customer_id, amount=amount,
            responsible_staff_id=staff, line_leader_staff_id=leader))])

    out = await decide(c, writeoffs, "writeoff_id", writeoff_id, approve, by, apply)
    c.wake()
    return out


async def staff_statement(c: Credit, staff_id: str, own_only_of: str | None = None) -> dict[str, Any]:
    """C-06: every charge and fine of one staff member, with the total. `own_only_of`: the reader is a staff
    member (O-02), who sees only their own statement."""
    if own_only_of is not None and own_only_of != staff_id:
        raise Forbidden("O-02", "staff_id", "not your statement: staff see only their own")
    async with c.engine.connect() as conn:
        rows = await reports.staff_liabilities(conn, staff_id)
    return {"staff_id": staff_id, "entries": [dict(r) for r in rows], "total": sum(r["amount"] for r in rows)}
