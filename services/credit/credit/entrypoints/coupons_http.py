"""Credit HTTP API for group-buy coupons (C-09) and rebates (C-08). Thin routes over the use cases."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..service import coupon_release, coupons, desk, rebates
from ..service.context import Credit
from ..service.tenancy import reach, reach_store, report_scope
from . import schemas as s
from .http import APPROVERS, OFFICE, READERS, STAFF, PathId


def coupons_router(c: Credit, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["coupons and rebates"], responses=PROBLEM_RESPONSES)
    Staff = Annotated[Principal, Depends(require(verifier, *STAFF))]
    Office = Annotated[Principal, Depends(require(verifier, *OFFICE))]
    Approver = Annotated[Principal, Depends(require(verifier, *APPROVERS))]
    Reader = Annotated[Principal, Depends(require(verifier, *READERS))]
    Finance = Annotated[Principal, Depends(require(verifier, Role.HQ_ADMIN))]

    @r.post("/coupon-batches", status_code=201)
    async def draw(body: s.CouponBatchIn, p: Finance) -> s.CouponBatchOut:
        """Draw a batch of numbered coupons from finance (C-09)."""
        return s.CouponBatchOut(**await coupons.draw_batch(c, body.model_dump(), p.staff_id))

    @r.post("/coupon-sales", status_code=201)
    async def sell(body: s.CouponSaleIn, p: Staff) -> s.CouponSaleOut:
        """Sell numbered coupons to an organisation (C-09); paid by cheque they wait for clearing (C-05)."""
        await reach_store(c, p, body.store_id)  # O-02: for the seller's own store
        return s.CouponSaleOut(**await coupons.sell(c, body.model_dump(), p.staff_id))

    @r.post("/coupon-sales/{coupon_sale_id}/clearing")
    async def cleared(coupon_sale_id: PathId, p: Approver) -> s.CouponChequeOut:
        """The cheque paying a coupon sale cleared: its coupons are released (C-05)."""
        await reach(c, p, "coupon_sale", coupon_sale_id)
        return s.CouponChequeOut(**await coupons.settle_cheque(c, coupon_sale_id, True, p.staff_id))

    @r.post("/coupon-sales/{coupon_sale_id}/bounce")
    async def bounced(coupon_sale_id: PathId, p: Approver) -> s.CouponChequeOut:
        """The cheque bounced: the coupons go back to stock (C-05)."""
        await reach(c, p, "coupon_sale", coupon_sale_id)
        return s.CouponChequeOut(**await coupons.settle_cheque(c, coupon_sale_id, False, p.staff_id))

    @r.get("/reports/coupon-tally")
    async def tally(p: Reader, day: Annotated[s.Day, Query(alias="date")],
                    store_id: Annotated[Ident | None, Query()] = None) -> s.TallyOut:
        """The daily 17:00 tally of coupon sales (C-09); store roles tally their own store (O-02)."""
        store, region = report_scope(p, store_id)
        return s.TallyOut(**await coupons.tally(c, day, store, region))

    @r.get("/reports/coupon-conflicts")
    async def conflicts(p: Reader, store_id: Annotated[Ident | None, Query(description="one store")] = None,
                        region: Annotated[Ident | None, Query(description="one region's stores")] = None,
                        receipt_no: Annotated[Ident | None, Query()] = None,
                        coupon_no: Annotated[Ident | None, Query()] = None,
                        page: Annotated[s.Page, Query()] = 1,
                        limit: Annotated[s.Limit, Query()] = 100) -> s.ConflictsOut:
        """Recorded sales that named coupons they could not spend (C-09), newest first; store roles their store's."""
        return s.ConflictsOut(**await desk.coupon_conflicts(c, report_scope(p, store_id, region), receipt_no,
                                                            coupon_no, page, limit))

    @r.put("/rebate-tiers")
    async def tiers(body: s.TiersIn, p: Finance) -> s.TiersOut:
        """A new version of the rebate tiers (C-08) from `effective_from` (today or later); earlier ones stay."""
        return s.TiersOut(**await rebates.set_tiers(c, [(t.min_purchases, t.rate_bp) for t in body.tiers],
                                                    body.effective_from, p.staff_id))

    @r.get("/rebate-tiers")
    async def tier_versions(p: Reader, page: Annotated[s.Page, Query()] = 1,
                            limit: Annotated[s.Limit, Query()] = 50) -> s.TierVersionsOut:
        """Every version of the rebate tiers with who set it and from when, the one in force today marked (C-08)."""
        return s.TierVersionsOut(**await rebates.tier_versions(c, page, limit))

    @r.post("/rebate-runs")
    async def compute(body: s.RebateRunIn, p: Office) -> s.RebatesOut:
        """Compute rebates for a period; each waits for a manager's approval (C-08)."""
        return s.RebatesOut.model_validate({"rebates": await rebates.compute(c, body.start, body.end, p.staff_id)})

    @r.post("/rebates/{rebate_id}/decision")
    async def decide(rebate_id: PathId, body: s.DecisionIn, p: Approver) -> s.RebateDecisionOut:
        """Approve (numbered slip, credit.rebate.approved) or reject a rebate (C-08)."""
        await reach(c, p, "rebate", rebate_id)
        return s.RebateDecisionOut(**await rebates.decide_rebate(c, rebate_id, body.approve, p.staff_id))

    @r.post("/rebate-slips/{slip_no}/collection")
    async def collect(slip_no: PathId, body: s.CollectionIn, p: Staff) -> s.CollectionOut:
        """Record the collection of a rebate as coupons against its slip (C-08)."""
        await reach(c, p, "slip", slip_no)
        return s.CollectionOut(**await rebates.collect(c, slip_no, body.coupon_nos, body.collected_by,
                                                               p.staff_id))

    @r.get("/reports/coupon-reconciliation")
    async def reconcile(p: Reader, month: Annotated[s.Month, Query()]) -> s.ReconciliationOut:
        """Monthly coupon reconciliation with finance (C-08, R-04); a closed month answers its snapshot."""
        return s.ReconciliationOut(**await rebates.reconciliation(c, month))

    @r.post("/reconciliation-closes", status_code=201)
    async def close(body: s.CloseIn, p: Finance) -> s.ReconciliationOut:
        """Close a month that is over (C-08); later movements are booked in the month they happen."""
        return s.ReconciliationOut(**await rebates.close_month(c, body.month, p.staff_id))

    return r


def redemption_router(c: Credit, guard: Any) -> APIRouter:
    r = APIRouter(tags=["internal"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/internal/coupon-redemptions", status_code=201,
            responses={200: {"model": s.RedemptionOut, "description": "replay of the same receipt"}})
    async def redeem(body: s.RedemptionIn, response: Response) -> s.RedemptionOut:
        """Spend coupons as a POS payment (C-09): once each; the same receipt again replays (200)."""
        status, answer = await coupons.redeem(c, body.store_id, body.receipt_no, body.coupon_nos, body.amount)
        response.status_code = status
        return s.RedemptionOut(**answer)

    @r.post("/admin/coupon-redemptions/release")
    async def release(body: s.ReleaseIn) -> s.ReleasedSpendsOut:
        """Release till coupon spends whose sale has not reached credit within the window (C-09); idempotent."""
        done = await coupon_release.release_unclaimed(c, body.as_of)
        return s.ReleasedSpendsOut.model_validate({"released": len(done), "coupons": done})

    return r
