"""Stored-value persistence (L-11): top-ups as HTTP commands, spending from sales paid with `stored_value`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.consumer import Delivery
from vipcore.contracts.pos import SaleRecorded

from ..adapters.tables import stored_value, stored_value_ledger
from ..domain import stored_value as sv
from ..domain.program import ProgramBook


async def _balances(conn: AsyncConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    rows = await conn.execute(sa.select(stored_value).where(
        sa.tuple_(stored_value.c.member_id, stored_value.c.program).in_(keys)).with_for_update())
    found = {(r.member_id, r.program): r.balance for r in rows}
    return {k: found.get(k, 0) for k in keys}


async def _save(conn: AsyncConnection, balances: dict[tuple[str, str], int], rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(pg_insert(stored_value_ledger).on_conflict_do_nothing(), rows)
    stmt = pg_insert(stored_value)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["member_id", "program"],
                                                  set_={"balance": stmt.excluded.balance}),
                       [{"member_id": m, "program": p, "balance": b} for (m, p), b in balances.items()])


async def spend_from_sales(conn: AsyncConnection, sales: list[tuple[Delivery, str]]) -> None:
    """Deduct `stored_value` payments of member sales (one read and two writes per batch)."""
    paying = [(d, pid) for d, pid in sales
              if any(p.method == "stored_value" and p.amount for p in d.data.payments)]
    if not paying:
        return
    balances = await _balances(conn, {(str(d.data.member_id), pid) for d, pid in paying})
    rows = []
    for d, pid in paying:
        sale: SaleRecorded = d.data
        k = (str(sale.member_id), pid)
        mv = sv.spend(balances[k], sum(p.amount for p in sale.payments if p.method == "stored_value"))
        balances[k] += mv.amount
        rows.append({"member_id": k[0], "program": pid, "kind": "spend", "amount": mv.amount,
                     "shortfall": mv.shortfall, "store_id": sale.store_id, "receipt_no": sale.receipt_no,
                     "cause_id": d.env.id, "occurred_at": sale.occurred_at})
    await _save(conn, balances, rows)


class StoredValueDesk:
    def __init__(self, engine: AsyncEngine, books: dict[str, ProgramBook], clock: Callable[[], datetime]) -> None:
        self.engine, self.books, self.clock = engine, books, clock

    async def top_up(self, *, topup_id: uuid.UUID, member_id: str, program: str, store_id: str, pay: int,
                     staff_id: str) -> dict[str, Any]:
        """Top up with the program's bonus (L-11); idempotent on `topup_id`."""
        now = self.clock()
        mv = sv.top_up(self.books[program].at(now), pay)
        async with self.engine.begin() as conn:
            done = await conn.scalar(sa.select(stored_value_ledger.c.amount).where(
                stored_value_ledger.c.cause_id == topup_id, stored_value_ledger.c.kind == "topup"))
            k = (member_id, program)
            balances = await _balances(conn, {k})
            if done is None:
                balances[k] += mv.amount
                await _save(conn, balances, [{
                    "member_id": member_id, "program": program, "kind": "topup", "amount": mv.amount,
                    "paid": mv.paid, "bonus": mv.bonus, "store_id": store_id, "staff_id": staff_id,
                    "cause_id": topup_id, "occurred_at": now}])
        return {"topup_id": str(topup_id), "paid": mv.paid, "bonus": mv.bonus, "credited": mv.amount,
                "balance_after": balances[k], "replayed": done is not None}

    async def balance(self, member_id: str, program: str) -> int:
        async with self.engine.connect() as conn:
            b = await conn.scalar(sa.select(stored_value.c.balance).where(
                stored_value.c.member_id == member_id, stored_value.c.program == program))
        return int(b or 0)
