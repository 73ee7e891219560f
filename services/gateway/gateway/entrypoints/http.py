"""POS API v1 routes: thin adapters over the checkout, the member lookup and quoting (use cases in service/)."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import PROBLEM, PROBLEM_RESPONSES
from vipcore.inputs import Mobile, Name, ShortIdent
from vipcore.telemetry import current_trace_id, tag_span

from ..domain.access import same_store
from ..service.apikeys import KeyVerifier, issue_key
from ..service.checkout import Checkout
from ..service.lookup import MemberLookup
from ..service.quotes import Quoting
from ..service.sales import SalesDesk
from .deps import terminal_store
from .limits import PosLimits
from .schemas import (
    ApiKeyOut,
    MemberLookupOut,
    QuoteIn,
    QuoteOut,
    RefundAccepted,
    RefundIn,
    SaleAccepted,
    SaleIn,
    SalesBatchIn,
    SalesBatchOut,
)

SALE_ACCEPTED = SaleAccepted.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


def _json(model: type[Any]) -> dict[str, Any]:
    return {"application/json": {"example": model.model_config["json_schema_extra"]["examples"][0]}}


def pos_router(checkout: Checkout, desk: SalesDesk, keys: KeyVerifier, lookup: MemberLookup,
               quoting: Quoting, limits: PosLimits) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"], responses=PROBLEM_RESPONSES)
    Store = Annotated[str, Depends(terminal_store(keys, limits.gate(limits.writes, "sales and refunds")))]
    QuotingStore = Annotated[str, Depends(terminal_store(keys, limits.gate(limits.quotes, "quotes")))]
    LookupStore = Annotated[str, Depends(terminal_store(keys, limits.gate(limits.lookups, "member lookups")))]

    @r.post("/sales", status_code=201, response_model=SaleAccepted, responses={
        200: {"model": SaleAccepted, "description": "replay of an accepted sale (same body): the first answer"},
        201: {"content": _json(SaleAccepted)},
        409: {"description": "same receipt, different body"},
        422: {"description": "input refused; or a coupon payment's coupon already spent, unknown or expired "
                             "(C-09, C-05); or the stored-value balance short (L-11)"}})
    async def record_sale(sale: SaleIn, store: Store) -> JSONResponse:
        """Record one sale; durable (database + outbox) before 201, idempotent on (store, receipt)."""
        out = await checkout.record(store, sale)
        tag_span(data=sale, member_id=out.body.get("member_id"))  # the trace is found by receipt
        if out.refusal is not None:
            raise out.refusal
        return JSONResponse(out.body, status_code=out.status)

    @r.post("/sales:batch", status_code=207, response_model=SalesBatchOut,
            responses={207: {"content": _json(SalesBatchOut)}})
    async def record_sales_batch(batch: SalesBatchIn, store: Store, request: Request) -> JSONResponse:
        """Upload up to 500 offline receipts; each validated, paid and recorded on its own, one status each."""
        limits.receipts(request, len(batch.sales))  # an upload counts its receipts, not one request
        results = await checkout.record_batch(store, batch.sales)
        tag_span(store_id=store, sales=str(len(batch.sales)))
        return JSONResponse({"results": results, "trace_id": current_trace_id()}, status_code=207)

    @r.post("/refunds", status_code=201, response_model=RefundAccepted, responses={
        200: {"model": RefundAccepted, "description": "replay of an accepted refund"},
        201: {"content": _json(RefundAccepted)},
        422: {"description": "refunding more than was sold, or an unknown original receipt (L-03)"}})
    async def record_refund(refund: RefundIn, store: Store) -> JSONResponse:
        """Refund lines of an earlier receipt; never more than was sold (L-03)."""
        same_store(store, refund.store_id)
        out = await desk.refund(refund)
        return JSONResponse(out.body, status_code=out.status)

    @r.get("/members/lookup", response_model=MemberLookupOut, responses={200: {"content": _json(MemberLookupOut)}})
    async def member_lookup(store: LookupStore, request: Request,
                            card_no: Annotated[ShortIdent | None, Query()] = None,
                            mobile: Annotated[Mobile | None, Query()] = None,
                            name: Annotated[Name | None, Query()] = None) -> dict[str, Any]:
        """Identify a member by card, or by mobile and name (M-18); a blacklisted phone is flagged first (M-16).

        Lookups finding nobody are limited per key far tighter than lookups (429): the card range is not walkable."""
        found = await limits.unless_missed(request, lambda: lookup.find(store, card_no, mobile, name),
                                           missed=lambda a: a.get("member_id") is None)
        return {**found, "trace_id": current_trace_id()}

    @r.post("/quotes", response_model=QuoteOut, responses={
        200: {"content": _json(QuoteOut)},
        503: {"description": "loyalty cannot be reached: charge the regular price or retry"}})
    async def quote(q: QuoteIn, store: QuotingStore, request: Request) -> Response:
        """Price a basket for a member: member price per line and points to earn (L-06)."""
        same_store(store, q.store_id)
        if q.member is None:
            member_id, reply = await quoting.quote(q)
        else:  # naming a card nobody has is a miss, as for a lookup
            member_id, reply = await limits.unless_missed(request, lambda: quoting.quote(q),
                                                          missed=lambda a: a[0] is None)
        if reply.status != 200:
            return JSONResponse({**reply.body, "trace_id": current_trace_id()}, status_code=reply.status,
                                media_type=PROBLEM)
        # on the cashier's path: orjson bytes, no generic re-encoding
        return Response(orjson.dumps({**reply.body, "member_id": member_id, "trace_id": current_trace_id()}),
                        media_type="application/json")

    return r


def admin_router(engine: AsyncEngine, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/stores/{store_id}/api-keys", status_code=201, response_model=ApiKeyOut)
    async def new_key(store_id: Annotated[ShortIdent, Path()]) -> dict[str, str]:
        """Issue an API key for a store's POS; it is shown only in this answer."""
        return {"store_id": store_id, "api_key": await issue_key(engine, store_id)}

    return r
