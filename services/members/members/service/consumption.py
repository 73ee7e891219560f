"""Consumption records (store, staff, amount, time) kept for dormancy and claiming rules (M-09..M-11)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.pos import SaleRecorded

from ..adapters.tables import consumptions


async def on_sales(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
    rows = [{"sale_id": s.sale_id, "member_id": s.member_id, "store_id": s.store_id,
             "cashier_staff_id": s.cashier_staff_id, "booked_by_staff_id": s.booked_by_staff_id,
             "amount": sum(ln.paid for ln in s.lines), "occurred_at": s.occurred_at}
            for s in (d.data for d in batch) if isinstance(s, SaleRecorded) and s.member_id]
    if rows:
        await tx.conn.execute(pg_insert(consumptions).on_conflict_do_nothing(), rows)
