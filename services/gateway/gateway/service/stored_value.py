"""Stored value as a POS payment (L-11): before a sale paying with `stored_value` is recorded, the gateway asks
loyalty to hold the amount against the member's balance; the sale's event captures the hold.

Only sales with a stored-value payment take this path (one extra round trip); every other sale goes straight to
the sales desk. The hold belongs to the receipt (store, receipt_no): a POS retry finds it (same member and amount);
a sale that never arrives (an error, a conflicting body) has its hold released by loyalty after the hold's expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem
from vipcore.httpclient import InternalClient, Unreachable

from ..adapters.tables import sales
from ..domain.models import SaleIn
from .directory import Directory


def pays_with_stored_value(sale: SaleIn) -> bool:
    return any(p.method == "stored_value" and p.amount for p in sale.payments)


class StoredValuePayments:
    def __init__(self, engine: AsyncEngine, directory: Directory, loyalty: InternalClient) -> None:
        self.engine, self.directory, self.loyalty = engine, directory, loyalty

    async def hold(self, sale: SaleIn) -> None:
        """Hold the sale's stored-value payment (L-11); refused with 422 naming `payments[i].amount` when the
        member's free balance is short."""
        i = next(n for n, p in enumerate(sale.payments) if p.method == "stored_value" and p.amount)
        if sale.member is None:
            raise Problem(422, "Refused by a rule", "stored value is spent by a member", [FieldError(
                f"payments[{i}].method", "name the member whose stored value pays (L-11)", "L-11")])
        async with self.engine.connect() as conn:
            recorded = await conn.scalar(sa.select(sa.literal(1)).where(
                sales.c.store_id == sale.store_id, sales.c.receipt_no == sale.receipt_no))
            if recorded:
                return  # a replay (200) or a conflict (409): the sales desk answers it
            (found,) = await self.directory.resolve_full(conn, [sale.member.model_dump()])
        if found is None:
            raise Problem(422, "Refused by a rule", "no member with these details",
                          [FieldError("member", "stored value is spent by a known member", "L-11")])
        member_id, _, card_status = found
        if card_status not in (None, "active"):
            raise Problem(422, "Refused by a rule", f"card is {card_status}",
                          [FieldError("member.card_no", f"a {card_status} card cannot pay", "M-17")])
        amount = sum(p.amount for p in sale.payments if p.method == "stored_value")
        try:
            resp = await self.loyalty.post("/internal/stored-value/holds", {
                "store_id": sale.store_id, "receipt_no": sale.receipt_no, "member_id": member_id,
                "amount": amount})
        except Unreachable as e:
            raise Problem(503, "Loyalty unavailable", f"stored value could not be checked ({type(e).__name__})",
                          [FieldError(f"payments[{i}].amount", "try again shortly", "L-11")]) from None
        if resp.status == 422:
            errors = resp.body.get("errors") or [{}]
            raise Problem(422, "Refused by a rule", resp.body.get("detail"), [FieldError(
                f"payments[{i}].amount", errors[0].get("message", "stored-value balance is short"), "L-11")])
        if resp.status not in (200, 201):
            raise Problem(503, "Loyalty unavailable", f"stored value could not be checked ({resp.status})",
                          [FieldError(f"payments[{i}].amount", "try again shortly", "L-11")])
