"""Staff routes (staff tokens, O-02): manual adjustments with a second approver, stored-value top-ups."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..adapters.stores import StoreCache
from ..service.commands import Commands
from ..service.stored_value import StoredValueDesk, check_own_store
from .schemas import (
    AdjustmentDecided,
    AdjustmentIn,
    AdjustmentList,
    AdjustmentRequested,
    StoredValueBalance,
    TopUpIn,
    TopUpOut,
)


def staff_router(verifier: TokenVerifier, commands: Commands, desk: StoredValueDesk, stores: StoreCache) -> APIRouter:
    r = APIRouter(prefix="/v1/adjustments", tags=["adjustments"], responses=PROBLEM_RESPONSES)
    sv = APIRouter(prefix="/v1/stored-value", tags=["stored value"], responses=PROBLEM_RESPONSES)
    Cashier = Annotated[Principal, Depends(require(verifier, Role.STAFF, Role.STORE_CS_MANAGER,
                                                     Role.STORE_MANAGER, Role.HQ_ADMIN))]
    Requester = Annotated[Principal, Depends(require(verifier, Role.STORE_CS_MANAGER, Role.HQ_CS, Role.HQ_ADMIN))]
    Approver = Annotated[Principal, Depends(require(verifier, Role.HQ_CS, Role.HQ_ADMIN))]

    @sv.post("/topups", status_code=201, response_model=TopUpOut)
    async def top_up(body: TopUpIn, who: Cashier) -> dict[str, Any]:
        """Top up a member's stored value with the program's bonus (L-11); staff top up in their own store (O-02)."""
        check_own_store(who, body.store_id)
        return await desk.top_up(topup_id=body.topup_id, member_id=body.member_id,
                                 program=await stores.program_of(body.store_id), store_id=body.store_id,
                                 pay=body.pay, staff_id=who.staff_id)

    @sv.get("/{member_id}", response_model=StoredValueBalance)
    async def balance(member_id: Annotated[Ident, Path()], store_id: Annotated[Ident, Query()],
                      who: Cashier) -> StoredValueBalance:
        """Stored-value balance under the program of `store_id` (L-11)."""
        program = await stores.program_of(store_id)
        return StoredValueBalance(member_id=member_id, program=program,
                                  balance=await desk.balance(member_id, program))

    @r.post("", status_code=201, response_model=AdjustmentRequested)
    async def request(body: AdjustmentIn, who: Requester) -> AdjustmentRequested:
        """Ask for a manual adjustment or a back-filled receipt; a second person must approve (L-02, M-18)."""
        adj = await commands.request_adjustment(member_id=body.member_id, program=body.program,
                                                points=body.points, reason=body.reason,
                                                receipt_no=body.receipt_no, requested_by=who.staff_id)
        return AdjustmentRequested(adjustment_id=str(adj), status="requested")

    @r.get("")
    async def list_adjustments(who: Requester,
                               status: Annotated[Literal["requested", "approved", "rejected"], Query()] = "requested",
                               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> AdjustmentList:
        """Adjustments waiting for (or given) a second person's decision (L-02, M-18); a store's customer-service
        manager sees the ones they asked for, HQ every one."""
        mine = None if who.role in (Role.HQ_CS, Role.HQ_ADMIN) else who.staff_id
        return AdjustmentList.model_validate(
            {"items": await commands.list_adjustments(status=status, requested_by=mine, limit=limit)})

    @r.post("/{adjustment_id}/approve", response_model=AdjustmentDecided)
    async def approve(adjustment_id: uuid.UUID, who: Approver) -> dict[str, Any]:
        """Approve and apply an adjustment, never by the person who asked (L-02, M-18)."""
        return await commands.decide_adjustment(adjustment_id, approve=True, decided_by=who.staff_id)

    @r.post("/{adjustment_id}/reject", response_model=AdjustmentDecided)
    async def reject(adjustment_id: uuid.UUID, who: Approver) -> dict[str, Any]:
        """Reject an adjustment, never by the person who asked (L-02)."""
        return await commands.decide_adjustment(adjustment_id, approve=False, decided_by=who.staff_id)

    outer = APIRouter()
    outer.include_router(r)
    outer.include_router(sv)
    return outer
