"""A sale paid on credit becomes a receivable of the named group buyer, due by its class's terms (C-03), and
captures the authorisation it names (C-04); a refund of that sale reduces it and releases the hold."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import replace
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
from ..adapters.tables import accounts, authorizations, credit_refusals, receivables, staff_directory, stores
from ..domain.rules import due_date
from ..domain.tenancy import credit_sale_refusal
from .authorizations import state_of
from .context import Credit

log = logging.getLogger("credit.receivables")


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
        """C-04: a credit payment becomes a receivable only against an authorisation of the sale's store and
        customer that covers it and was not used by another receipt; otherwise no receivable is booked and the
        sale is kept in `credit_refusals` for finance (the gateway refuses such a sale at the till already)."""
        paid: dict[tuple[str, str, str | None], int] = {}  # (sale_id, customer, authorization) -> amount
        sale_of: dict[str, tuple[Delivery[SaleRecorded], SaleRecorded]] = {}
        for d in batch:
            if not isinstance(d.data, SaleRecorded):
                continue
            for p in d.data.payments:
                if p.method == "credit" and p.credit_customer_id is not None:
                    k = (d.data.sale_id, str(p.credit_customer_id), p.authorization_id)
                    paid[k] = paid.get(k, 0) + p.amount
                    sale_of[d.data.sale_id] = (d, d.data)
        if not paid:
            return
        conn = tx.conn
        cust_ids = {cust for _, cust, _ in paid}
        auth_ids = {a for _, _, a in paid if a}
        store_ids = {s.store_id for _, s in sale_of.values()}
        accts = {r.customer_id: r for r in await conn.execute(
            sa.select(accounts.c.customer_id, accounts.c.customer_class, accounts.c.responsible_staff_id,
                      accounts.c.line_leader_staff_id).where(accounts.c.customer_id.in_(cust_ids)))}
        auths = {r.authorization_id: r for r in await conn.execute(
            sa.select(authorizations).where(authorizations.c.authorization_id.in_(auth_ids))
            .order_by(authorizations.c.authorization_id).with_for_update())} if auth_ids else {}
        states = {a: state_of(r) for a, r in auths.items()}
        shops = {r.store_id: r for r in await conn.execute(sa.select(stores).where(stores.c.store_id.in_(store_ids)))}
        rows, captured, refused = [], [], []
        now = self.c.clock()
        for (sale_id, cust, auth_id), amount in paid.items():
            d, sale = sale_of[sale_id]
            refusal = credit_sale_refusal(states.get(auth_id or ""), sale.store_id, cust, sale.receipt_no, amount,
                                          now, sale.sale_id)
            if refusal is not None:
                log.warning("credit sale %s of store %s books no receivable (%s: %s)", sale.sale_id, sale.store_id,
                            refusal.rule, refusal.reason)
                refused.append({"sale_id": sale.sale_id, "customer_id": cust, "authorization_id": auth_id or "",
                                "store_id": sale.store_id, "receipt_no": sale.receipt_no, "amount": amount,
                                "rule": refusal.rule, "reason": refusal.reason})
                continue
            auth, acct, shop = auths[str(auth_id)], accts.get(cust), shops.get(sale.store_id)
            # captured now: a second sale of this batch naming it is refused above (C-04)
            states[str(auth_id)] = replace(states[str(auth_id)], status="captured", sale_id=sale.sale_id,
                                           receipt_no=sale.receipt_no)
            tz = shop.timezone if shop else self.c.default_tz
            delivered_on = self.c.business_date(tz, sale.occurred_at)
            cls = acct.customer_class if acct else "individual"
            rid = str(uuid.uuid5(d.env.id, f"{cust}/{auth_id}"))
            rows.append({"receivable_id": rid, "customer_id": cust, "sale_id": sale.sale_id,
                         "store_id": sale.store_id, "receipt_no": sale.receipt_no, "amount": amount,
                         "authorization_id": auth_id, "delivered_at": sale.occurred_at,
                         "cases": auth.cases, "due_date": due_date(cls, delivered_on),
                         "responsible_staff_id": auth.responsible_staff_id
                         or (acct.responsible_staff_id if acct else sale.cashier_staff_id),
                         "line_leader_staff_id": acct.line_leader_staff_id if acct else None,
                         "region_code": shop.region_code if shop else None})
            if auth.status != "captured":
                captured.append({"a_id": auth.authorization_id, "s_id": sale.sale_id, "r_no": sale.receipt_no})
            tx.emit(CREDIT_EVENTS, cust, Envelope.new(ReceivableRecorded(
                receivable_id=rid, customer_id=cust, sale_id=sale.sale_id, store_id=sale.store_id,
                amount=amount, authorization_id=auth_id), source="credit", subject=cust), cause=d)
        if refused:
            await conn.execute(pg_insert(credit_refusals).on_conflict_do_nothing(), refused)
        if not rows:
            return
        await fill_line_leaders(conn, rows)
        await conn.execute(pg_insert(receivables).on_conflict_do_nothing(), rows)
        if captured:
            await conn.execute(
                authorizations.update().where(authorizations.c.authorization_id == sa.bindparam("a_id"))
                .values(status="captured", sale_id=sa.bindparam("s_id"), receipt_no=sa.bindparam("r_no")), captured)

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
