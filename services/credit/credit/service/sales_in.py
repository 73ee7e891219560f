"""What credit takes from every POS sale besides credit receivables:
- C-09: the group-buy coupons a `coupon` payment names are marked spent by that sale, exactly once. The gateway
  spent them synchronously (refusing a second use to the cashier); here the sale is tied to them. A coupon the
  sale could not spend (spent by another receipt, unpaid cheque, unknown) is recorded as a conflict for finance.
- C-08: purchases a credit customer pays without credit (cash, card, transfer...) count toward the rebate tier.
  A purchase is the customer's when a payment names it (`credit_customer_id` on any method), else when the
  sale's member has a credit account (M-14: an account for a member)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.pos import SaleRecorded, SaleRefunded

from ..adapters.sql import OUTSTANDING
from ..adapters.tables import accounts, coupon_conflicts, coupon_movements, coupons, purchases, receivables
from ..domain.coupons import RELEASED
from .receivables import ReceivableBook

# C-08: what counts as buying (credit is counted by its receivable; coupons and points are not new money)
PURCHASE_METHODS = frozenset({"cash", "bank_card", "wechat", "alipay", "stored_value", "cheque", "transfer"})


async def spend_coupons(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
    """C-09: each coupon a sale names is spent once, by that sale. A `coupon` payment without numbers (a POS
    that redeemed them before the sale, POST /v1/credit/coupon-redemptions) gets the coupons of its receipt.
    A sale arriving after its coupons were released (no sale within the window, coupon_release) still spends
    them when they are unspent; spent by another receipt meanwhile, it is a conflict for finance."""
    sales = [d.data for d in batch if isinstance(d.data, SaleRecorded)]
    unnamed = [s for s in sales if any(p.method == "coupon" and not p.coupon_numbers for p in s.payments)]
    items = [(s, n) for s in sales for p in s.payments if p.method == "coupon" and p.coupon_numbers
             for n in p.coupon_numbers]
    if unnamed:
        await tx.conn.execute(coupons.update().where(
            coupons.c.redeemed_store_id == sa.bindparam("s"), coupons.c.redeemed_receipt_no == sa.bindparam("r"),
            coupons.c.redeemed_sale_id.is_(None)).values(redeemed_sale_id=sa.bindparam("sid")),
            [{"s": s.store_id, "r": s.receipt_no, "sid": s.sale_id} for s in unnamed])
        items += await released_for(tx, unnamed)
    if not items:
        return
    rows = await tx.conn.execute(sa.select(coupons).where(coupons.c.coupon_no.in_({n for _, n in items}))
                                 .order_by(coupons.c.coupon_no).with_for_update())
    state: dict[str, dict[str, Any]] = {r.coupon_no: dict(r._mapping) for r in rows}
    spent, conflicts = {}, []
    for sale, n in items:
        r = state.get(n)
        mine = r is not None and r["status"] == "redeemed" and (r["redeemed_store_id"], r["redeemed_receipt_no"]) \
            == (sale.store_id, sale.receipt_no) and r["redeemed_sale_id"] in (None, sale.sale_id)
        if r is not None and (mine or r["status"] == "sold"):
            r.update(status="redeemed", redeemed_store_id=sale.store_id, redeemed_receipt_no=sale.receipt_no,
                     redeemed_sale_id=sale.sale_id, redeemed_at=r["redeemed_at"] or sale.occurred_at)
            spent[n] = r
            continue
        # O-02: the reason is read by the selling store's staff: another store's receipt is never named
        reason = ("no such coupon" if r is None else
                  (f"already spent by receipt {r['redeemed_receipt_no']} of this store"
                   if r["redeemed_store_id"] == sale.store_id else "already spent at another store")
                  if r["status"] == "redeemed" else f"coupon is {r['status']}")
        conflicts.append({"sale_id": sale.sale_id, "coupon_no": n, "store_id": sale.store_id,
                          "receipt_no": sale.receipt_no, "reason": reason})
    if spent:
        await tx.conn.execute(
            coupons.update().where(coupons.c.coupon_no == sa.bindparam("n"))
            .values(status="redeemed", redeemed_store_id=sa.bindparam("s"), redeemed_receipt_no=sa.bindparam("r"),
                    redeemed_sale_id=sa.bindparam("sid"), redeemed_at=sa.bindparam("at")),
            [{"n": n, "s": r["redeemed_store_id"], "r": r["redeemed_receipt_no"], "sid": r["redeemed_sale_id"],
              "at": r["redeemed_at"]} for n, r in spent.items()])
    if conflicts:
        await tx.conn.execute(pg_insert(coupon_conflicts).on_conflict_do_nothing(), conflicts)


async def released_for(tx: Tx, unnamed: list[SaleRecorded]) -> list[tuple[SaleRecorded, str]]:
    """C-09: the coupons released from these receipts (their sale came after the window): each sale claims them
    now, as if it had named them."""
    by_receipt = {(s.store_id, s.receipt_no): s for s in unnamed}
    rows = await tx.conn.execute(sa.select(coupon_movements.c.store_id, coupon_movements.c.receipt_no,
                                           coupon_movements.c.coupon_no).distinct().where(
        coupon_movements.c.kind == RELEASED,
        sa.tuple_(coupon_movements.c.store_id, coupon_movements.c.receipt_no).in_(list(by_receipt))))
    return [(by_receipt[(r.store_id, r.receipt_no)], r.coupon_no) for r in rows]


async def record_purchases(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
    """C-08: the non-credit part of a sale counts toward its buyer's rebate tier."""
    sales = [d.data for d in batch if isinstance(d.data, SaleRecorded)
             and any(p.method in PURCHASE_METHODS and p.amount > 0 for p in d.data.payments)]
    named = {p.credit_customer_id for s in sales for p in s.payments if p.credit_customer_id}
    members = {s.member_id for s in sales if s.member_id}
    if not (named or members):
        return
    known = (await tx.conn.execute(sa.select(accounts.c.customer_id, accounts.c.member_id).where(
        sa.or_(accounts.c.customer_id.in_(named), accounts.c.member_id.in_(members))))).all()
    ids = {r.customer_id for r in known}
    by_member = {r.member_id: r.customer_id for r in known if r.member_id}
    rows = []
    for s in sales:
        cands = [p.credit_customer_id for p in s.payments if p.method != "credit" and p.credit_customer_id]
        cands += [p.credit_customer_id for p in s.payments if p.method == "credit" and p.credit_customer_id]
        cands.append(by_member.get(s.member_id or "", ""))
        cust = next((c for c in cands if c in ids), None)
        amount = sum(p.amount for p in s.payments if p.method in PURCHASE_METHODS)
        if cust is not None and amount > 0:
            rows.append({"sale_id": s.sale_id, "customer_id": cust, "store_id": s.store_id,
                         "occurred_at": s.occurred_at, "amount": amount})
    if rows:
        await tx.conn.execute(pg_insert(purchases).on_conflict_do_nothing(), rows)


async def refund_purchases(tx: Tx, batch: list[Delivery[SaleRefunded]]) -> None:
    """A refund first gives back what the sale still owes on credit (its receivable), the rest reduces the
    purchase counted for rebates (C-08). Runs before the receivable book handles the same refunds."""
    refunds: dict[str, int] = defaultdict(int)
    for d in batch:
        if isinstance(d.data, SaleRefunded):
            refunds[d.data.sale_id] += sum(ln.paid for ln in d.data.lines)
    if not refunds:
        return
    bought = (await tx.conn.execute(sa.select(purchases).where(purchases.c.sale_id.in_(list(refunds)))
                                    .with_for_update())).all()
    if not bought:
        return
    owed = {s: o for s, o in await tx.conn.execute(
        sa.select(receivables.c.sale_id, sa.func.sum(sa.func.greatest(OUTSTANDING, 0)))
        .where(receivables.c.sale_id.in_([b.sale_id for b in bought])).group_by(receivables.c.sale_id))}
    updates = []
    for b in bought:
        give = min(b.amount - b.refunded, max(refunds[b.sale_id] - int(owed.get(b.sale_id) or 0), 0))
        if give > 0:
            updates.append({"s": b.sale_id, "cu": b.customer_id, "give": give})
    if updates:
        await tx.conn.execute(purchases.update().where(purchases.c.sale_id == sa.bindparam("s"),
                                                       purchases.c.customer_id == sa.bindparam("cu"))
                              .values(refunded=purchases.c.refunded + sa.bindparam("give")), updates)


class SalesIn:
    """The pos.sales handlers: receivables (C-03/C-04), coupons spent (C-09), purchases for rebates (C-08)."""

    def __init__(self, book: ReceivableBook) -> None:
        self.book = book

    async def on_sales(self, tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
        await self.book.on_sales(tx, batch)
        await spend_coupons(tx, batch)
        await record_purchases(tx, batch)

    async def on_refunds(self, tx: Tx, batch: list[Delivery[SaleRefunded]]) -> None:
        await refund_purchases(tx, batch)
        await self.book.on_refunds(tx, batch)
