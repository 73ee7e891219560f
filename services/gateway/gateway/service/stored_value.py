"""Stored value as a POS payment (L-11): before a sale paying with `stored_value` is recorded, the gateway asks
loyalty to hold the amount against the member's balance; the sale's event captures the hold.

Only sales with a stored-value payment take this path (one extra round trip); every other sale goes straight to
the sales desk. The hold belongs to the receipt (store, receipt_no): a POS retry finds it (same member and amount);
a sale refused after its hold was taken (its coupons refused) has the hold released at once; a sale that never
arrives (the till gave up) has its hold released by loyalty after the hold's expiry.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation, Unavailable
from vipcore.httpclient import InternalClient, Unreachable

from ..adapters.tables import sales
from ..entrypoints.schemas import SaleIn
from .directory import Directory
from .proofs import MemberProofs

log = logging.getLogger("gateway.stored_value")


def pays_with_stored_value(sale: SaleIn) -> bool:
    return any(p.method == "stored_value" and p.amount for p in sale.payments)


class StoredValuePayments:
    def __init__(self, engine: AsyncEngine, directory: Directory, loyalty: InternalClient,
                 proofs: MemberProofs) -> None:
        self.engine, self.directory, self.loyalty, self.proofs = engine, directory, loyalty, proofs

    async def hold(self, sale: SaleIn) -> bool:
        """Hold the sale's stored-value payment (L-11); refused naming `proof` without the member's proof (SMS code
        or PIN), naming `payments[i].amount` when the member's free balance is short. False when the receipt is
        recorded already (nothing held now)."""
        i = next(n for n, p in enumerate(sale.payments) if p.method == "stored_value" and p.amount)
        if sale.member is None:
            raise RuleViolation("L-11", f"payments[{i}].method", "name the member whose stored value pays (L-11)")
        async with self.engine.connect() as conn:
            recorded = await conn.scalar(sa.select(sa.literal(1)).where(
                sales.c.store_id == sale.store_id, sales.c.receipt_no == sale.receipt_no))
            if recorded:
                return False  # a replay (200) or a conflict (409): the sales desk answers it
            (found,) = await self.directory.resolve_full(conn, [sale.member.model_dump()],
                                                         sale.store_id)  # O-02, L-11: this program's
        if found is None:
            raise RuleViolation("L-11", "member", "stored value is spent by a known member")
        member_id, _, card_status = found
        if card_status not in (None, "active"):
            raise RuleViolation("M-17", "member.card_no", f"a {card_status} card cannot pay")
        amount = sum(p.amount for p in sale.payments if p.method == "stored_value")
        # the member proves presence (SMS code or PIN) before any balance is held (L-11)
        token = await self.proofs.prove(member_id=member_id, store_id=sale.store_id, cashier=sale.cashier_staff_id,
                                        purpose="stored_value", ref=sale.receipt_no, amount=f"fen:{amount}",
                                        proof=sale.proof)
        try:
            resp = await self.loyalty.post("/internal/stored-value/holds", {
                "store_id": sale.store_id, "receipt_no": sale.receipt_no, "member_id": member_id,
                "amount": amount, "proof_token": token})
        except Unreachable as e:
            raise Unavailable(f"payments[{i}].amount", f"stored value could not be checked ({type(e).__name__}); "
                                                       "try again shortly", "L-11") from None
        if resp.status == 403:  # loyalty did not accept the proof: members' and loyalty's keys disagree
            raise Unavailable("proof", "the member's proof was not accepted by loyalty; try again shortly", "L-11")
        if resp.status == 422:
            errors = (resp.body.get("errors") if isinstance(resp.body, dict) else None) or [{}]
            raise RuleViolation("L-11", f"payments[{i}].amount",
                                errors[0].get("message", "stored-value balance is short"))
        if resp.status not in (200, 201):
            raise Unavailable(f"payments[{i}].amount",
                              f"stored value could not be checked ({resp.status}); try again shortly", "L-11")
        return True

    async def release(self, sale: SaleIn) -> None:
        """Give the receipt's hold back at once (its sale was refused after the hold); if loyalty cannot be
        reached the hold still lapses at its expiry (L-11)."""
        try:
            await self.loyalty.post("/internal/stored-value/holds:release",
                                    {"store_id": sale.store_id, "receipt_no": sale.receipt_no})
        except Unreachable as e:
            log.warning("hold of receipt %s not released now (%s); it lapses at its expiry", sale.receipt_no,
                        type(e).__name__)
