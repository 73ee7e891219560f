"""POS API v1 (docs/pos-api.md): thin adapters over the sales desk, directory and loyalty."""


from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem, validation_errors
from vipcore.httpclient import InternalClient, Unreachable
from vipcore.telemetry import current_trace_id

from ..adapters.tables import member_directory, stores
from ..domain.models import MemberIn, QuoteIn, RefundIn, SaleIn, SalesBatchIn
from ..service.apikeys import KeyVerifier, issue_key
from ..service.coalescer import SaleCoalescer
from ..service.directory import Directory
from ..service.quotes import QuoteBatcher
from ..service.sales import SalesDesk
from ..service.stored_value import StoredValuePayments, pays_with_stored_value
from .credit import CouponGate

NOT_A_MEMBER: dict[str, Any] = {"member_id": None, "display_name": None, "tier": None, "points_balance": None,
                                "card_status": None, "status": None, "birthday_today": False}


def pos_router(desk: SalesDesk, keys: KeyVerifier, directory: Directory, engine: AsyncEngine,
               loyalty_api: InternalClient, coalescer: SaleCoalescer | None = None,
               stored_value: StoredValuePayments | None = None, coupons: CouponGate | None = None) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"])
    quotes = QuoteBatcher(loyalty_api)

    async def terminal_store(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "Authorization: Bearer <store API key> is required",
                          [FieldError("Authorization", "missing store API key")])
        store = await keys.store_of(auth[7:].strip())
        if store is None:
            raise Problem(401, "Unauthorized", "unknown or revoked API key",
                          [FieldError("Authorization", "unknown store API key")])
        return store

    Store = Annotated[str, Depends(terminal_store)]

    def same_store(key_store: str, store_id: str, field: str = "store_id") -> None:
        if key_store != store_id:
            raise Problem(403, "Forbidden", f"this API key belongs to store {key_store}",
                          [FieldError(field, f"a key of store {key_store} cannot act for {store_id}", "O-02")])

    @r.post("/sales", status_code=201, responses={200: {"description": "replay of an accepted sale"},
                                                    409: {"description": "same receipt, different body"},
                                                    422: {"description": "a coupon payment's coupon already spent, "
                                                                         "unknown or expired (C-09, C-05)"}})
    async def record_sale(sale: SaleIn, store: Store) -> JSONResponse:
        """Record one sale; durable (database + outbox) before 201, idempotent on (store, receipt).
        A `coupon` payment's `coupon_numbers` are spent first, each once (C-09)."""
        same_store(store, sale.store_id)
        if stored_value is not None and pays_with_stored_value(sale):
            await stored_value.hold(sale)  # L-11: refused (422) when the member's free balance is short
        if coupons:  # after the hold: a refused coupon leaves only a hold that expires, never a spent coupon
            await coupons.spend(sale)
        out = await coalescer.submit(sale) if coalescer else (await desk.record([sale]))[0]
        return JSONResponse(out.body, status_code=out.status,
                            media_type="application/problem+json" if out.status == 409 else None)

    @r.post("/sales:batch", status_code=207)
    async def record_sales_batch(batch: SalesBatchIn, store: Store) -> JSONResponse:
        """Upload up to 500 offline receipts; each validated and idempotent on its own."""
        results: list[dict[str, Any] | None] = [None] * len(batch.sales)
        valid: list[tuple[int, SaleIn]] = []
        for i, raw in enumerate(batch.sales):
            receipt = raw.get("receipt_no") if isinstance(raw, dict) else None
            try:
                sale = SaleIn.model_validate(raw)
            except ValidationError as e:
                results[i] = {"receipt_no": receipt, "status": 422, "errors": validation_errors(e.errors())}
                continue
            if sale.store_id != store:
                results[i] = {"receipt_no": receipt, "status": 403, "errors": [
                    FieldError("store_id", f"a key of store {store} cannot act for {sale.store_id}", "O-02")]}
                continue
            if coupons:
                try:
                    await coupons.spend(sale)  # C-09: each coupon once, checked before the sale is recorded
                except Problem as p:
                    results[i] = {"receipt_no": receipt, "status": p.status, "errors": p.errors}
                    continue
            valid.append((i, sale))
        if valid:
            outcomes = await desk.record([s for _, s in valid])
            for (i, sale), out in zip(valid, outcomes, strict=True):
                item: dict[str, Any] = {"receipt_no": sale.receipt_no, "status": out.status}
                if out.status in (200, 201):
                    item["sale_id"] = out.body["sale_id"]
                    item["member_id"] = out.body["member_id"]
                else:
                    item["errors"] = out.body["errors"]
                results[i] = item
        return JSONResponse({"results": results, "trace_id": current_trace_id()}, status_code=207)

    @r.post("/refunds", status_code=201)
    async def record_refund(refund: RefundIn, store: Store) -> JSONResponse:
        """Refund lines of an earlier receipt; never more than was sold (L-03)."""
        same_store(store, refund.store_id)
        out = await desk.refund(refund)
        return JSONResponse(out.body, status_code=out.status)

    @r.get("/members/lookup")
    async def lookup(store: Store, card_no: Annotated[str | None, Query(max_length=32)] = None,
                     mobile: Annotated[str | None, Query(pattern=r"^1[3-9]\d{9}$")] = None,
                     name: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, Any]:
        """Identify a member by card, or by mobile and name (M-18); a blacklisted phone is flagged first,
        naming the listing store, even when it is not a member (M-16)."""
        async with engine.connect() as conn:
            listed = await directory.blacklisted(conn, directory.mobile_index(mobile)) if mobile else None
            if listed and not card_no and not name:  # M-16: a phone alone is enough to flag the blacklist
                return {**NOT_A_MEMBER, "blacklisted": listed, "trace_id": current_trace_id()}
            try:
                ref = MemberIn(card_no=card_no, mobile=mobile, name=name)
            except ValidationError as e:
                raise Problem(422, "Invalid request", errors=[
                    FieldError("card_no", err["msg"], "M-18") for err in e.errors()]) from None
            (found,) = await directory.resolve_full(conn, [ref.model_dump()])
            if found is None:
                if listed:
                    return {**NOT_A_MEMBER, "blacklisted": listed, "trace_id": current_trace_id()}
                raise Problem(404, "Not found", "no member with these details")
            member_id, _, card_status = found
            m = (await conn.execute(sa.select(member_directory).where(
                member_directory.c.member_id == member_id))).one()
            listed = listed or await directory.blacklisted(conn, m.mobile_index)
            tz = await conn.scalar(sa.select(stores.c.timezone).where(stores.c.store_id == store))
        try:
            acct = await loyalty_api.get(f"/internal/accounts/{member_id}", params={"store_id": store})
        except Unreachable:
            raise Problem(503, "Service Unavailable", "points and tier cannot be read right now; retry") from None
        if acct.status != 200:
            raise Problem(502, "Bad Gateway", f"loyalty answered {acct.status} to an account read")
        a = acct.body
        today = datetime.now(UTC).astimezone(ZoneInfo(tz or "Asia/Shanghai")).date()
        return {"member_id": member_id, "display_name": m.display_name, "tier": a["tier"],
                "points_balance": a["points_balance"], "card_status": card_status, "status": m.status,
                "points_available": a.get("points_available", a["points_balance"]),  # L-14: spendable now
                "blacklisted": listed,
                "birthday_today": bool(m.birthday and (m.birthday.month, m.birthday.day) ==
                                       (today.month, today.day)),
                "trace_id": current_trace_id()}

    @r.post("/quotes", responses={
        200: {"description": "member price per line, totals and points to earn (L-06)", "content": {
            "application/json": {"example": {
                "lines": [{"line_no": 1, "unit_price": 98800, "member_price": 86944, "discount_rule": "L-06 tier"}],
                "total": 98800, "member_total": 86944, "points_to_earn": 869, "benefit": "tier", "tier": "vip",
                "member_id": "m-1f2e3d", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}}}},
        503: {"description": "loyalty cannot be reached: charge the regular price or retry"}})
    async def quote(q: QuoteIn, store: Store) -> Any:
        """Price a basket for a member: member price per line and points to earn (L-06)."""
        same_store(store, q.store_id)
        member_id = None
        if q.member is not None:
            ref = q.member.model_dump()
            member_id = directory.cached_member(ref)
            if member_id is None:
                async with engine.connect() as conn:
                    (member_id,) = await directory.resolve(conn, [ref])
                directory.remember_member(ref, member_id)
        try:
            reply = await quotes.price({
                "store_id": q.store_id, "member_id": member_id, "id_verified": q.id_verified,
                "by_mobile": q.member is not None and q.member.card_no is None,  # L-06 birthday proof
                "lines": [ln.model_dump() for ln in q.lines]})
        except Unreachable:
            raise Problem(503, "Service Unavailable", "member prices cannot be computed right now; "
                          "charge the regular price or retry") from None
        if reply.status != 200:
            if 400 <= reply.status < 500 and isinstance(reply.body, dict):
                return JSONResponse({**reply.body, "trace_id": current_trace_id()}, status_code=reply.status,
                                    media_type="application/problem+json")
            raise Problem(502, "Bad Gateway", f"loyalty answered {reply.status} to a quote")
        return Response(orjson.dumps({**reply.body, "member_id": member_id, "trace_id": current_trace_id()}),
                        media_type="application/json")

    return r


def admin_router(engine: AsyncEngine, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(guard)])

    @r.post("/stores/{store_id}/api-keys", status_code=201)
    async def new_key(store_id: str) -> dict[str, str]:
        """Issue an API key for a store's POS; it is shown only in this answer."""
        return {"store_id": store_id, "api_key": await issue_key(engine, store_id)}

    return r
