"""Credit HTTP API for group-buy coupons (C-09) and rebates (C-08)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from vipcore.auth import Principal, Role, TokenVerifier, require

from ..service import coupon_release, coupons, rebates
from ..service.context import Credit
from . import models as m
from .http import APPROVERS, OFFICE, READERS, STAFF


def coupons_router(c: Credit, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["coupons and rebates"])
    Staff = Annotated[Principal, Depends(require(verifier, *STAFF))]
    Office = Annotated[Principal, Depends(require(verifier, *OFFICE))]
    Approver = Annotated[Principal, Depends(require(verifier, *APPROVERS))]
    Reader = Annotated[Principal, Depends(require(verifier, *READERS))]
    Finance = Annotated[Principal, Depends(require(verifier, Role.HQ_ADMIN))]

    @r.post("/coupon-batches", status_code=201)
    async def draw(body: m.CouponBatchIn, p: Finance) -> dict[str, Any]:
        """Draw a batch of numbered coupons from finance (C-09)."""
        return await coupons.draw_batch(c, body.model_dump(), p.staff_id)

    @r.post("/coupon-sales", status_code=201)
    async def sell(body: m.CouponSaleIn, p: Staff) -> dict[str, Any]:
        """Sell numbered coupons to an organisation (C-09); paid by cheque they wait for clearing (C-05)."""
        return await coupons.sell(c, body.model_dump(), p.staff_id)

    @r.post("/coupon-sales/{coupon_sale_id}/clearing")
    async def cleared(coupon_sale_id: str, p: Approver) -> dict[str, Any]:
        """The cheque paying a coupon sale cleared: its coupons are released (C-05)."""
        return await coupons.settle_cheque(c, coupon_sale_id, True)

    @r.post("/coupon-sales/{coupon_sale_id}/bounce")
    async def bounced(coupon_sale_id: str, p: Approver) -> dict[str, Any]:
        """The cheque bounced: the coupons go back to stock (C-05)."""
        return await coupons.settle_cheque(c, coupon_sale_id, False)

    @r.get("/reports/coupon-tally")
    async def tally(p: Reader, day: Annotated[date, Query(alias="date")], store_id: str | None = None) -> Any:
        """The daily 17:00 tally of coupon sales (C-09)."""
        return await coupons.tally(c, day, store_id)

    @r.get("/reports/coupon-conflicts")
    async def conflicts(p: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """Recorded sales that named coupons they could not spend (already spent, unknown, unpaid): C-09."""
        return {"conflicts": await coupons.conflicts(c, limit)}

    @r.put("/rebate-tiers")
    async def tiers(body: m.TiersIn, p: Finance) -> dict[str, Any]:
        """Set the rebate tiers: purchases over a period -> rate (C-08)."""
        return {"tiers": await rebates.set_tiers(c, [(t.min_purchases, t.rate_bp) for t in body.tiers])}

    @r.post("/rebate-runs")
    async def compute(body: m.RebateRunIn, p: Office) -> dict[str, Any]:
        """Compute rebates for a period; each waits for a manager's approval (C-08)."""
        return {"rebates": await rebates.compute(c, body.start, body.end, p.staff_id)}

    @r.post("/rebates/{rebate_id}/decision")
    async def decide(rebate_id: str, body: m.DecisionIn, p: Approver) -> dict[str, Any]:
        """Approve (numbered slip, credit.rebate.approved) or reject a rebate (C-08)."""
        return await rebates.decide_rebate(c, rebate_id, body.approve, p.staff_id)

    @r.post("/rebate-slips/{slip_no}/collection")
    async def collect(slip_no: str, body: m.CollectionIn, p: Staff) -> dict[str, Any]:
        """Record the collection of a rebate as coupons against its slip (C-08)."""
        return await rebates.collect(c, slip_no, body.coupon_nos, body.collected_by)

    @r.get("/reports/coupon-reconciliation")
    async def reconcile(p: Reader, month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]) -> Any:
        """Monthly reconciliation with finance: opening, issued, sold, returned, rebates, closing (C-08, R-04);
        a closed month answers its snapshot."""
        return await rebates.reconciliation(c, month)

    @r.post("/reconciliation-closes", status_code=201)
    async def close(body: m.CloseIn, p: Finance) -> dict[str, Any]:
        """Close a month that is over (C-08): its reconciliation is kept as closed; later movements (a cheque
        bouncing) are booked in the month they happen."""
        return await rebates.close_month(c, body.month, p.staff_id)

    return r


def redemption_router(c: Credit, guard: Any) -> APIRouter:
    r = APIRouter(tags=["internal"], dependencies=[Depends(guard)])

    @r.post("/internal/coupon-redemptions", status_code=201)
    async def redeem(body: m.RedemptionIn) -> JSONResponse:
        """Spend coupons as a POS payment (C-09): once each; the same receipt again replays (200)."""
        status, answer = await coupons.redeem(c, body.store_id, body.receipt_no, body.coupon_nos,
                                              body.amount)
        return JSONResponse(answer, status_code=status)

    @r.post("/admin/coupon-redemptions/release")
    async def release(body: m.ReleaseIn) -> dict[str, Any]:
        """Release coupons spent at the till for a receipt whose sale has not reached credit within the window
        (C-09), as of now or the given time; the scheduler does this every tick. Idempotent."""
        done = await coupon_release.release_unclaimed(c, body.as_of)
        return {"released": len(done), "coupons": done}

    return r
