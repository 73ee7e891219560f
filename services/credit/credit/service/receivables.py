"""A sale paid on credit becomes a receivable of the named group buyer, due by its class's terms (C-03), and
captures the authorisation it names (C-04); a refund of that sale reduces it and releases the hold."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.credit import AuthorizationReleased, ReceivableRecorded
from vipcore.contracts.members import StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.events import Envelope
from vipcore.topics import CREDIT_EVENTS

from ..adapters.sql import OUTSTANDING
from ..adapters.tables import accounts, authorizations, receivables, staff_directory, stores
from ..domain.rules import due_date
from .context import Credit


async def fill_line_leaders(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """C-06: a receivable whose account names no line leader gets the responsible staff member's line leader
    from the staff directory (members.staff.changed)."""
    missing = {r["responsible_staff_id"] for r in rows if not r["line_leader_staff_id"] and r["responsible_staff_id"]}
    if missing:
        leaders = {s: lead for s, lead in await conn.execute(
            sa.select(staff_directory.c.staff_id, staff_directory.c.line_leader_staff_id)
            .where(staff_directory.c.staff_id.in_(missing)))}
        for r in rows:
            r["line_leader_staff_id"] = r["line_leader_staff_id"] or leaders.get(r["responsible_staff_id"])


class ReceivableBook:
    """Batch handlers of pos.sales / members.events: a few statements per batch, none for non-credit sales."""

    def __init__(self, c: Credit) -> None:
        self.c = c

    async def on_stores(self, tx: Tx, batch: list[Delivery[StoreRegistered]]) -> None:
        """Stores give receivables their region and business time zone (O-01)."""
        rows = {d.data.store_id: {"store_id": d.data.store_id, "region_code": d.data.region_code,
                                  "timezone": d.data.timezone} for d in batch if isinstance(d.data, StoreRegistered)}
        if rows:
            stmt = pg_insert(stores)
            await tx.conn.execute(stmt.on_conflict_do_update(
                index_elements=[stores.c.store_id],
                set_={"region_code": stmt.excluded.region_code, "timezone": stmt.excluded.timezone}),
                list(rows.values()))
            for s in rows:
                self.c._tz_cache.pop(s, None)

    async def on_sales(self, tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
        credit = [(d, d.data, p) for d in batch if isinstance(d.data, SaleRecorded)
                  for p in d.data.payments if p.method == "credit" and p.credit_customer_id is not None]
        if not credit:
            return
        conn = tx.conn
        cust_ids = {p.credit_customer_id for _, _, p in credit}
        auth_ids = {p.authorization_id for _, _, p in credit if p.authorization_id}
        store_ids = {s.store_id for _, s, _ in credit}
        accts = {r.customer_id: r for r in await conn.execute(
            sa.select(accounts.c.customer_id, accounts.c.customer_class, accounts.c.responsible_staff_id,
                      accounts.c.line_leader_staff_id).where(accounts.c.customer_id.in_(cust_ids)))}
        auths = {r.authorization_id: r for r in await conn.execute(
            sa.select(authorizations.c.authorization_id, authorizations.c.customer_id, authorizations.c.cases,
                      authorizations.c.responsible_staff_id, authorizations.c.status, authorizations.c.sale_id)
            .where(authorizations.c.authorization_id.in_(auth_ids)))} if auth_ids else {}
        shops = {r.store_id: r for r in await conn.execute(sa.select(stores).where(stores.c.store_id.in_(store_ids)))}
        rows, captured = [], []
        taken: dict[str, str] = {}  # captures made earlier in this batch: two sales may name one hold
        for d, sale, p in credit:
            cust = str(p.credit_customer_id)
            acct, auth, shop = accts.get(cust), auths.get(p.authorization_id or ""), shops.get(sale.store_id)
            if auth is not None and (auth.customer_id != cust or (auth.status == "captured"
                                                                  and auth.sale_id != sale.sale_id)
                                     or taken.get(auth.authorization_id, sale.sale_id) != sale.sale_id):
                auth = None  # another customer's, or already captured by another sale: it captures nothing
            tz = shop.timezone if shop else self.c.default_tz
            delivered_on = self.c.business_date(tz, sale.occurred_at)
            # Unknown customer: the goods have left, so record it, on the strictest terms (20 days).
            cls = acct.customer_class if acct else "individual"
            rid = str(uuid.uuid5(d.env.id, f"{cust}/{p.authorization_id}"))
            rows.append({"receivable_id": rid, "customer_id": cust, "sale_id": sale.sale_id,
                         "store_id": sale.store_id, "receipt_no": sale.receipt_no, "amount": p.amount,
                         "authorization_id": p.authorization_id, "delivered_at": sale.occurred_at,
                         "cases": auth.cases if auth else 0, "due_date": due_date(cls, delivered_on),
                         "responsible_staff_id": (auth.responsible_staff_id if auth else None)
                         or (acct.responsible_staff_id if acct else sale.cashier_staff_id),
                         "line_leader_staff_id": acct.line_leader_staff_id if acct else None,
                         "region_code": shop.region_code if shop else None})
            if auth is not None and auth.authorization_id not in taken:
                taken[auth.authorization_id] = sale.sale_id
                captured.append({"a_id": auth.authorization_id, "s_id": sale.sale_id})
            tx.emit(CREDIT_EVENTS, cust, Envelope.new(ReceivableRecorded(
                receivable_id=rid, customer_id=cust, sale_id=sale.sale_id, store_id=sale.store_id,
                amount=p.amount, authorization_id=p.authorization_id), source="credit", subject=cust), cause=d)
        await fill_line_leaders(conn, rows)
        await conn.execute(pg_insert(receivables).on_conflict_do_nothing(), rows)
        if captured:
            await conn.execute(
                authorizations.update().where(authorizations.c.authorization_id == sa.bindparam("a_id"))
                .values(status="captured", sale_id=sa.bindparam("s_id")), captured)

    async def on_refunds(self, tx: Tx, batch: list[Delivery[SaleRefunded]]) -> None:
        """C-04: a refunded credit sale gives back what it owed; fully refunded, its hold is released."""
        refunds: dict[str, list[tuple[Delivery[SaleRefunded], int]]] = defaultdict(list)
        for d in batch:
            if isinstance(d.data, SaleRefunded):
                refunds[d.data.sale_id].append((d, sum(ln.paid for ln in d.data.lines)))
        if not refunds:
            return
        recs = (await tx.conn.execute(
            sa.select(receivables.c.receivable_id, receivables.c.customer_id, receivables.c.authorization_id,
                      receivables.c.sale_id, OUTSTANDING.label("outstanding"))
            .where(receivables.c.sale_id.in_(list(refunds))).order_by(receivables.c.receivable_id)
            .with_for_update())).all()
        updates: list[dict[str, Any]] = []
        for r in recs:
            left = r.outstanding
            give = 0
            for _, amount in refunds[r.sale_id]:
                take = min(left, amount)
                give, left = give + take, left - take
            if give <= 0:
                continue
            updates.append({"r_id": r.receivable_id, "give": give})
            if left == 0 and r.authorization_id:
                d = refunds[r.sale_id][-1][0]
                await tx.conn.execute(authorizations.update().where(
                    authorizations.c.authorization_id == r.authorization_id,
                    authorizations.c.customer_id == r.customer_id).values(status="released",
                                                                         released_reason="refunded"))
                tx.emit(CREDIT_EVENTS, r.customer_id, Envelope.new(AuthorizationReleased(
                    authorization_id=r.authorization_id, customer_id=r.customer_id, reason="refunded"),
                    source="credit", subject=r.customer_id), cause=d)
        if updates:
            await tx.conn.execute(
                receivables.update().where(receivables.c.receivable_id == sa.bindparam("r_id"))
                .values(refunded=receivables.c.refunded + sa.bindparam("give")), updates)
