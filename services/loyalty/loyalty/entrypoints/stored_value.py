"""Internal stored-value routes for the gateway (admin token): hold a POS payment, release it (L-11)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ..domain.account import RuleViolation
from ..service.stored_value import StoredValueDesk
from .problems import refused


class HoldIn(BaseModel):
    store_id: str = Field(min_length=1, max_length=32)
    receipt_no: str = Field(min_length=1, max_length=64)
    member_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0, description="fen paid with stored value on this receipt")


class ReleaseIn(BaseModel):
    store_id: str = Field(min_length=1, max_length=32)
    receipt_no: str = Field(min_length=1, max_length=64)


def internal_router(desk: StoredValueDesk, guard: object,
                    program_of_store: Callable[[str], Awaitable[str]]) -> APIRouter:
    r = APIRouter(prefix="/internal/stored-value", tags=["internal"], dependencies=[Depends(guard)])  # type: ignore[arg-type]

    @r.post("/holds", status_code=201, responses={422: {"description": "L-11: the free balance is short"}})
    async def hold(body: HoldIn) -> dict[str, Any]:
        """Hold a stored-value payment while the cashier rings the sale up; the sale's event captures it,
        a sale that never arrives releases it after the hold's expiry (L-11)."""
        program = await program_of_store(body.store_id)
        try:
            return await desk.hold(store_id=body.store_id, receipt_no=body.receipt_no, member_id=body.member_id,
                                   program=program, amount=body.amount)
        except RuleViolation as e:
            raise refused(e) from None

    @r.post("/holds/release")
    async def release(body: ReleaseIn) -> dict[str, Any]:
        """Release the hold of a sale the gateway did not record (a captured hold is never released)."""
        return {"released": await desk.release(body.store_id, body.receipt_no)}

    return r
