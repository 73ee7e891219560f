"""Member-present proof for spending (L-07, L-11): internal routes for the gateway (its service token), the
desk's PIN route (staff token) and the audit of attempts (admin)."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES

from ..domain.access import MATRIX
from ..service.proofs import Proofs
from .schemas import (
    MemberId,
    PinIn,
    PinOut,
    ProofAuditOut,
    ProofCodeIn,
    ProofCodeOut,
    ProofVerifyIn,
    ProofVerifyOut,
)

MemberPath = Annotated[MemberId, Path(description="a member's id")]


def internal_router(proofs: Proofs, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/internal", tags=["internal"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/members/{member_id}/proof-codes", status_code=201)
    async def send_code(member_id: MemberPath, body: ProofCodeIn) -> ProofCodeOut:
        """Send a one-time code to the member's registered mobile as a transactional SMS (L-07, L-11)."""
        return ProofCodeOut(**await proofs.send_code(member_id, body.store_id, body.cashier_staff_id))

    @r.post("/members/{member_id}/proofs:verify")
    async def verify(member_id: MemberPath, body: ProofVerifyIn) -> ProofVerifyOut:
        """Judge the member's code or PIN for one spend; a signed proof token, or the refusal (L-07, L-11)."""
        return ProofVerifyOut(**await proofs.verify(
            member_id=member_id, store_id=body.store_id, cashier=body.cashier_staff_id, purpose=body.purpose,
            ref=body.ref, amount=body.amount, otp=body.proof.otp, pin=body.proof.pin, id_verified=body.id_verified))

    return r


def admin_router(proofs: Proofs, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["members"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/members/{member_id}/proof-audit")
    async def proof_audit(member_id: MemberPath,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ProofAuditOut:
        """Every proof attempt of a member, newest first: code sent, ok, wrong, expired, locked (L-07, L-11)."""
        return ProofAuditOut.model_validate({"member_id": member_id,
                                             "entries": await proofs.audit(member_id, limit)})

    return r


def staff_router(proofs: Proofs, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"], responses=PROBLEM_RESPONSES)
    Desk = Annotated[Principal, Depends(require(verifier, *MATRIX["pins.set"]))]

    @r.put("/member-files/{member_id}/pin")
    async def set_pin(member_id: MemberPath, body: PinIn, who: Desk) -> PinOut:
        """Set or change the member's spending PIN at the desk of the member's store (L-07, L-11); audited."""
        return PinOut(**await proofs.set_pin(who, member_id, body.pin))

    return r
