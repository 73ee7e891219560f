"""POS API v1: credit authorisation for group buyers (C-04), proxied synchronously to the credit service."""

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict, Field
from vipcore.http import PROBLEM, FieldError, Problem
from vipcore.telemetry import current_trace_id

from ..config import GatewaySettings
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


def credit_router(settings: GatewaySettings, keys: KeyVerifier, tracer_provider: TracerProvider) -> APIRouter:
    client = httpx.AsyncClient(
        base_url=settings.credit_url, timeout=5.0,
        headers={"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"},
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)
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
        """Pay with group-buy coupons (C-09): each coupon is spent once; a second use is refused."""
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
