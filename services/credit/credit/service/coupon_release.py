"""C-09: coupons spent at the till for a receipt whose sale never reached credit are given back.

The gateway spends a sale's coupons synchronously before it records the sale (a second use is refused to the
cashier). When that sale is then never recorded (the gateway's write failed, the POS gave up, a conflicting
body under the same receipt), nothing would ever tie the coupons to a sale: they would stay spent under the
receipt for good. As loyalty does with stored-value holds (L-11), a spend not claimed by its sale within the
window (`COUPON_RELEASE_AFTER_S`, 30 minutes) is released by the scheduler: the coupon is spendable again and
the ledger books the release naming C-09, the store and the receipt. A sale arriving later still spends its
coupons if nobody took them meanwhile, else it is listed in the coupon-conflicts report (sales_in)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from vipcore.logs import get_logger

from ..adapters.tables import coupon_movements, coupons
from ..domain.coupons import RELEASED, release_cutoff, unclaimed_spend
from .context import Credit

log = get_logger(__name__)
BATCH = 500


async def release_unclaimed(c: Credit, now: datetime | None = None) -> list[dict[str, Any]]:
    """Release every coupon whose till spend has waited longer than the window for its sale, as of `now`
    (default the clock). Idempotent: a released coupon is no longer spent, so a second run finds nothing;
    a sale being tied to its coupons at the same moment holds their rows and they are skipped."""
    at = now or c.clock()
    window = timedelta(seconds=c.coupon_release_s)
    released: list[dict[str, Any]] = []
    while True:
        async with c.engine.begin() as conn:
            rows = (await conn.execute(
                sa.select(coupons).where(coupons.c.status == "redeemed", coupons.c.redeemed_sale_id.is_(None),
                                         coupons.c.redeemed_at <= release_cutoff(at, window))
                .order_by(coupons.c.coupon_no).limit(BATCH).with_for_update(skip_locked=True))).all()
            due = [r for r in rows if unclaimed_spend(r.status, r.redeemed_sale_id, r.redeemed_at, at, window)]
            if due:
                await conn.execute(coupons.update().where(coupons.c.coupon_no.in_([r.coupon_no for r in due]))
                                   .values(status="sold", redeemed_store_id=None, redeemed_receipt_no=None,
                                           redeemed_at=None))
                await conn.execute(coupon_movements.insert(), [
                    {"coupon_no": r.coupon_no, "kind": RELEASED, "face_value": r.face_value, "at": at,
                     "rule": "C-09", "store_id": r.redeemed_store_id, "receipt_no": r.redeemed_receipt_no}
                    for r in due])
        released += [{"coupon_no": r.coupon_no, "store_id": r.redeemed_store_id,
                      "receipt_no": r.redeemed_receipt_no, "spent_at": r.redeemed_at.isoformat()} for r in due]
        if not due or len(rows) < BATCH:
            break
    if released:
        log.info("coupon spends released", rule="C-09", coupons=len(released),
                 receipts=sorted({f"{x['store_id']}/{x['receipt_no']}" for x in released}))
    return released
