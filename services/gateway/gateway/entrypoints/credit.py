"""POS API v1: credit authorisation for group buyers (C-04) and group-buy coupons (C-09), proxied synchronously to
the credit service. A sale paying with `coupon_numbers` spends them here, before the sale is recorded, so a
second use is refused to the cashier (the sale itself reaches credit asynchronously, on pos.sales)."""

from typing import Annotated, Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import PROBLEM, FieldError, Problem
from vipcore.telemetry import current_trace_id

from ..adapters.tables import sales
from ..config import GatewaySettings
from ..domain.models import SaleIn
from ..service.apikeys import KeyVerifier

Id = Annotated[str, Field(min_length=1, max_length=64)]


class CreditAuthorizationIn(BaseModel):
    """A credit sale asks before the goods leave: customer, cases, amount (fen), who operates the bill."""

    model_config = ConfigDict(extra="forbid")
    store_id: Id
    customer_id: Id
    cases: int = Field(gt=0)
    amount: int = Field(gt=0, description="fen")
    responsible_staff_id: Id


class CouponRedemptionIn(BaseModel):
    """Group-buy coupons offered as payment at the till (C-09)."""

    model_config = ConfigDict(extra="forbid")
    store_id: Id
    receipt_no: Id
    coupon_nos: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(min_length=1, max_length=100)
    amount: int | None = Field(None, ge=0, description="added in v1: the payment the coupons cover (fen); refused "
                                                        "when more than their face value")


def credit_client(settings: GatewaySettings, tracer_provider: TracerProvider) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        base_url=settings.credit_url, timeout=5.0,
        headers={"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"},
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)
    return client


class CouponGate:
    """C-09: the coupons a sale pays with are spent (once) at credit before the sale is recorded; the same
    receipt again replays. A receipt already recorded is left to the sales desk (replay 200 or conflict 409)."""

    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        self.client = client
        self.engine = engine

    async def spend(self, sale: SaleIn) -> None:
        """Raise Problem (422 naming the coupon and rule, or 503) when the sale's coupons cannot be spent."""
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
            raise Problem(503, "Credit unavailable", f"the coupons could not be checked ({type(e).__name__})",
                          [FieldError("payments.coupon_numbers", "try again shortly", "C-09")]) from None
        if resp.status_code in (200, 201):
            return
        if resp.status_code == 422:
            p = resp.json()
            names = {"coupon_nos": "payments.coupon_numbers", "amount": "payments.amount"}
            errors = [FieldError(names.get(e["field"], e["field"]), e["message"], e.get("rule"))
                      for e in p.get("errors", [])]
            raise Problem(422, "Coupon refused", p.get("detail"), errors)
        raise Problem(503, "Credit unavailable", f"the credit service answered {resp.status_code}",
                      [FieldError("payments.coupon_numbers", "try again shortly", "C-09")])


def credit_router(settings: GatewaySettings, keys: KeyVerifier, client: httpx.AsyncClient) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"])

    async def terminal_store(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        store = await keys.store_of(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if store is None:
            raise Problem(401, "Unauthorized", "Authorization: Bearer <store API key> is required",
                          [FieldError("Authorization", "missing or unknown store API key")])
        return store

    @r.post("/credit/authorizations", status_code=201,
            responses={422: {"description": "refused with the rule: C-02 limit, C-04 overdue, C-01 no account"}})
    async def authorize(body: CreditAuthorizationIn, store: Annotated[str, Depends(terminal_store)]) -> Any:
        """Authorise a credit sale (C-04): a hold against the customer's limit, or 422 naming the rule."""
        return await forward(store, body.store_id, "/internal/authorizations", body.model_dump(), "C-04")

    @r.post("/credit/coupon-redemptions", status_code=201,
            responses={200: {"description": "replay of the same receipt"},
                       422: {"description": "a coupon already spent, unknown, expired or unpaid (C-09, C-05)"}})
    async def redeem(body: CouponRedemptionIn, store: Annotated[str, Depends(terminal_store)]) -> Any:
        """Pay with group-buy coupons (C-09): each coupon is spent once; a second use is refused.

        Call this before recording the sale, with its receipt number, or name the coupons on the sale's `coupon`
        payment (`coupon_numbers`): the gateway then spends them itself before recording it. Both ways are one
        redemption per receipt (a repeat of the same receipt answers 200)."""
        return await forward(store, body.store_id, "/internal/coupon-redemptions", body.model_dump(), "C-09")

    async def forward(store: str, store_id: str, path: str, body: dict[str, Any], rule: str) -> Any:
        if store_id != store:
            raise Problem(403, "Forbidden", f"this API key belongs to store {store}",
                          [FieldError("store_id", f"a key of store {store} cannot act for {store_id}", "O-02")])
        try:
            resp = await client.post(path, json=body)
        except httpx.HTTPError as e:
            raise Problem(503, "Credit unavailable", f"the credit service did not answer ({type(e).__name__})",
                          [FieldError("store_id", "try again shortly", rule)]) from None
        if resp.status_code in (200, 201):
            return JSONResponse({**resp.json(), "trace_id": current_trace_id()}, status_code=resp.status_code)
        if resp.status_code in (404, 409, 422):
            return JSONResponse({**resp.json(), "trace_id": current_trace_id()}, status_code=resp.status_code,
                                media_type=PROBLEM)
        raise Problem(503, "Credit unavailable", f"the credit service answered {resp.status_code}",
                      [FieldError("store_id", "try again shortly", rule)])

    return r
