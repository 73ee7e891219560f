"""Loyalty's internal API for the gateway (its service token): standing, quotes, redemptions, stored-value holds."""

from __future__ import annotations

import json
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from vipcore.errors import Refused
from vipcore.http import PROBLEM_RESPONSES, Problem, refused_problem, validation_errors
from vipcore.inputs import Ident
from vipcore.proof import ProofVerifier

from ..adapters.stores import StoreCache
from ..service.commands import Commands, RedeemCommand
from ..service.pricing import Pricing
from ..service.stored_value import StoredValueDesk
from .schemas import (
    ENVELOPE,
    QUOTE,
    QUOTES,
    AccountOut,
    HoldIn,
    HoldOut,
    HoldReleaseIn,
    HoldReleaseOut,
    QuoteIn,
    QuoteOut,
    QuotesIn,
    QuotesOut,
    RedemptionIn,
    RedemptionOut,
)


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` written in place, for a body the route validates itself."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": walk(schema)}}}}


def _quote_from(raw: bytes) -> QuoteIn:
    """The quote in `raw`, validated by pydantic's own JSON parser (no dicts built first)."""
    try:
        return QUOTE.validate_json(raw)
    except ValidationError as e:
        if not any(err["type"] == "json_invalid" for err in e.errors()):
            raise RequestValidationError(e.errors()) from None
        try:  # valid JSON the fast parser refuses (a lone surrogate escape): judged field by field
            return QUOTE.validate_python(json.loads(raw))
        except ValidationError as field_errors:
            raise RequestValidationError(field_errors.errors()) from None
        except ValueError:  # not JSON at all
            raise RequestValidationError(e.errors()) from None


def _json(obj: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status_code, media_type="application/json")


def _invalid(e: ValidationError) -> dict[str, Any]:
    """The problem `/internal/quotes` answers for this quote alone."""
    return Problem(422, "Invalid request", "The request breaks the API contract",
                   validation_errors(e.errors())).body()


def _answer(res: dict[str, Any] | Refused) -> dict[str, Any]:
    return refused_problem(res).body() if isinstance(res, Refused) else res


def internal_router(pricing: Pricing, commands: Commands, desk: StoredValueDesk, stores: StoreCache,
                    guard: Any, proofs: ProofVerifier) -> APIRouter:
    r = APIRouter(tags=["internal"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/internal/accounts/{member_id}", response_model=AccountOut)
    async def account(member_id: Annotated[Ident, Path()], store_id: Annotated[Ident, Query()]) -> AccountOut:
        """Tier and points (total, spendable, pending) of a member under the program of `store_id` (L-14)."""
        return AccountOut(**await pricing.account(member_id, store_id))

    @r.post("/internal/quotes", response_model=QuoteOut, openapi_extra=_inline(QuoteIn))
    async def quote_basket(request: Request) -> Response:
        """One basket priced (L-06)."""
        # on the cashier's path: validated from the bytes, answered as orjson bytes, no generic re-encoding
        (res,) = await pricing.price([_quote_from(await request.body())])
        if isinstance(res, Refused):
            raise res
        return _json(res)

    @r.post("/internal/quotes:batch", response_model=QuotesOut, openapi_extra=_inline(QuotesIn))
    async def quote_baskets(request: Request) -> Response:
        """Baskets of several cashiers priced together, one answer per quote in order (L-06)."""
        # The gateway sends what queued while its previous call was in flight: one request and one read for all.
        # A quote that cannot be priced gets its own problem (with `status`) in its place; the others are priced.
        raw = await request.body()
        try:
            results = await pricing.price(QUOTES.validate_json(raw).quotes)
        except ValidationError:
            results = await _one_by_one(raw)
        return _json({"results": [_answer(x) for x in results]})

    async def _one_by_one(raw: bytes) -> list[dict[str, Any] | Refused]:
        try:
            items = ENVELOPE.validate_python(json.loads(raw)).quotes
        except ValidationError as e:
            raise RequestValidationError(e.errors()) from None
        except ValueError as e:  # not JSON at all
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error",
                                           "input": {}, "ctx": {"error": type(e).__name__}}]) from None
        slots: list[dict[str, Any] | None] = []
        valid: list[QuoteIn] = []
        for item in items:
            try:
                valid.append(QUOTE.validate_python(item))
                slots.append(None)
            except ValidationError as e:
                slots.append(_invalid(e))
        priced = iter(await pricing.price(valid)) if valid else iter(())
        return [s if s is not None else next(priced) for s in slots]

    @r.post("/internal/redemptions", status_code=201, response_model=RedemptionOut,
            response_model_exclude_unset=True)
    async def redeem(body: RedemptionIn) -> dict[str, Any]:
        """Redeem from the catalogue or as money (L-07, L-09, L-14); refused with the rule; cannot be cancelled."""
        return await commands.redeem(RedeemCommand(body.redemption_id, body.store_id, body.member_id,
                                                   body.reward_id, body.points_to_cash, body.id_verified,
                                                   body.proof_token))

    @r.post("/internal/stored-value/holds", status_code=201, response_model=HoldOut)
    async def hold(body: HoldIn) -> dict[str, Any]:
        """Hold a stored-value payment while the cashier rings the sale up; its sale captures it (L-11).

        Only with members' proof that the member is present, bound to this store, receipt and amount."""
        proofs.verify(body.proof_token, member_id=body.member_id, purpose="stored_value", store_id=body.store_id,
                      ref=body.receipt_no, amount=f"fen:{body.amount}")
        return await desk.hold(store_id=body.store_id, receipt_no=body.receipt_no, member_id=body.member_id,
                               program=await stores.program_of(body.store_id), amount=body.amount)

    @r.post("/internal/stored-value/holds:release", response_model=HoldReleaseOut)
    async def release_hold(body: HoldReleaseIn) -> dict[str, Any]:
        """Release a receipt's hold now: the sale was refused after the hold was taken (L-11)."""
        return {"released": await desk.release(body.store_id, body.receipt_no)}

    return r
