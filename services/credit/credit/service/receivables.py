"""A sale paid on credit becomes a receivable of the named group buyer (C-03, C-04)."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.credit import ReceivableRecorded
from vipcore.contracts.pos import SaleRecorded
from vipcore.events import Envelope
from vipcore.topics import CREDIT_EVENTS

from ..adapters.tables import receivables


async def on_sales(tx: Tx, batch: list[Delivery]) -> None:
    rows = []
    for d in batch:
        sale = d.data
        if not isinstance(sale, SaleRecorded):
            continue
        for p in sale.payments:
            if p.method != "credit" or p.credit_customer_id is None:
                continue
            rid = str(uuid.uuid5(d.env.id, f"{p.credit_customer_id}/{p.authorization_id}"))
            rows.append({"receivable_id": rid, "customer_id": p.credit_customer_id, "sale_id": sale.sale_id,
                         "store_id": sale.store_id, "receipt_no": sale.receipt_no, "amount": p.amount,
                         "authorization_id": p.authorization_id, "delivered_at": sale.occurred_at})
            event = ReceivableRecorded(receivable_id=rid, customer_id=p.credit_customer_id,
                                       sale_id=sale.sale_id, store_id=sale.store_id, amount=p.amount,
                                       authorization_id=p.authorization_id)
            tx.emit(CREDIT_EVENTS, p.credit_customer_id,
                    Envelope.new(event, source="credit", subject=p.credit_customer_id), cause=d)
    if rows:
        await tx.conn.execute(pg_insert(receivables).on_conflict_do_nothing(), rows)
