"""Group-buy coupons as a sale payment (C-09): spent once at credit before the sale is recorded, so a second use
is refused to the cashier (the sale itself reaches credit asynchronously, on pos.sales)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation, Unavailable

from ..adapters.tables import sales
from ..entrypoints.schemas import SaleIn

FIELDS = {"coupon_nos": "payments.coupon_numbers", "amount": "payments.amount"}


class CouponGate:
    """C-09: the coupons a sale pays with are spent (once) at credit before the sale is recorded; the same
    receipt again replays. A receipt already recorded is left to the sales desk (replay 200 or conflict 409)."""

    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        self.client = client
        self.engine = engine

    async def spend(self, sale: SaleIn) -> None:
        """Raise RuleViolation (naming the coupon field and rule) or Unavailable when the coupons cannot be spent."""
        paid = [p for p in sale.payments if p.coupon_numbers]
        if not paid:
            return
        async with self.engine.connect() as conn:
            if await conn.scalar(sa.select(sa.literal(1)).where(
                    sales.c.store_id == sale.store_id, sales.c.receipt_no == sale.receipt_no)):
                return
        nos = [n for p in paid for n in p.coupon_numbers or ()]
        body = {"store_id": sale.store_id, "receipt_no": sale.receipt_no, "coupon_nos": nos,
                "amount": sum(p.amount for p in paid)}
        try:
            resp = await self.client.post("/internal/coupon-redemptions", json=body)
        except httpx.HTTPError as e:
            raise Unavailable("payments.coupon_numbers", f"the coupons could not be checked ({type(e).__name__}); "
                                                         "try again shortly", "C-09") from None
        if resp.status_code in (200, 201):
            return
        if resp.status_code == 422:
            problem = resp.json()
            errors = problem.get("errors") or [{}]
            first = errors[0]
            raise RuleViolation(first.get("rule") or "C-09",
                                FIELDS.get(first.get("field", "coupon_nos"), first.get("field") or "payments"),
                                first.get("message") or problem.get("detail") or "coupon refused")
        raise Unavailable("payments.coupon_numbers",
                          f"the credit service answered {resp.status_code}; try again shortly", "C-09")
