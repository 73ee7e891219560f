"""POS API v1: credit authorisation for group buyers (C-04) and group-buy coupons (C-09), asked of the credit
service (service/credit.py). A sale paying with `coupon_numbers` has them spent by the checkout instead."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from vipcore.http import PROBLEM, PROBLEM_RESPONSES
from vipcore.telemetry import current_trace_id

from ..service.apikeys import KeyVerifier
from ..service.credit import CreditDesk
from .deps import terminal_store
from .limits import PosLimits
from .schemas import CouponRedemptionIn, CouponRedemptionOut, CreditAuthorizationIn, CreditAuthorizationOut


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    """Credit's answer with this request's trace id; a refusal stays credit's problem details (naming the rule)."""
    return JSONResponse({**body, "trace_id": current_trace_id()}, status_code=status,
                        media_type=None if status < 300 else PROBLEM)


def credit_router(keys: KeyVerifier, desk: CreditDesk, limits: PosLimits) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"], responses=PROBLEM_RESPONSES)
    Store = Annotated[str, Depends(terminal_store(keys, limits.gate(limits.writes, "credit requests")))]

    @r.post("/credit/authorizations", status_code=201, response_model=CreditAuthorizationOut, responses={
        201: {"content": {"application/json": {
            "example": CreditAuthorizationOut.model_config["json_schema_extra"]["examples"][0]}}},  # type: ignore[index]
        422: {"description": "refused with the rule: C-02 limit, C-04 overdue, C-01 no account"}})
    async def authorize(body: CreditAuthorizationIn, store: Store) -> JSONResponse:
        """Authorise a credit sale (C-04): a hold against the customer's limit, or 422 naming the rule."""
        return _answer(*await desk.ask(store, body.store_id, "/internal/authorizations", body.model_dump(), "C-04"))

    @r.post("/credit/coupon-redemptions", status_code=201, response_model=CouponRedemptionOut, responses={
        200: {"model": CouponRedemptionOut, "description": "replay of the same receipt"},
        201: {"content": {"application/json": {
            "example": CouponRedemptionOut.model_config["json_schema_extra"]["examples"][0]}}},  # type: ignore[index]
        422: {"description": "a coupon already spent, unknown, expired or unpaid (C-09, C-05)"}})
    async def redeem_coupons(body: CouponRedemptionIn, store: Store) -> JSONResponse:
        """Pay with group-buy coupons (C-09): each coupon is spent once; a second use is refused.

        Call this before recording the sale, with its receipt number, or name the coupons on the sale's `coupon`
        payment (`coupon_numbers`): the gateway then spends them itself before recording it. Both ways are one
        redemption per receipt (a repeat of the same receipt answers 200)."""
        return _answer(*await desk.ask(store, body.store_id, "/internal/coupon-redemptions", body.model_dump(),
                                       "C-09"))

    return r
