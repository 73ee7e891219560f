"""POST /v1/redemptions (POS API): points for a catalogue reward or as money, decided by loyalty (L-07), with the
member proven present; POST /v1/members/{card_no}/proof-codes texts the member the one-time code (L-07, L-11)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from vipcore.http import PROBLEM, PROBLEM_RESPONSES
from vipcore.telemetry import current_trace_id

from ..service.apikeys import KeyVerifier
from ..service.redemptions import Redemptions
from .deps import terminal_store
from .limits import PosLimits
from .schemas import CardNo, ProofCodeIn, ProofCodeOut, RedemptionIn, RedemptionOut


def redemptions_router(keys: KeyVerifier, redemptions: Redemptions, limits: PosLimits) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"], responses=PROBLEM_RESPONSES)
    Store = Annotated[str, Depends(terminal_store(keys, limits.gate(limits.writes, "redemptions")))]

    @r.post("/redemptions", status_code=201, response_model=RedemptionOut, responses={
        200: {"model": RedemptionOut, "description": "replay of the same redemption_id"},
        201: {"content": {"application/json": {
            "example": RedemptionOut.model_config["json_schema_extra"]["examples"][0]}}},  # type: ignore[index]
        403: {"description": "the member's proofs are locked after too many wrong answers (field `proof`)"},
        422: {"description": "refused with the rule: L-07 no, wrong or expired proof (field `proof`), window, "
                             "same-day points, balance; M-17 card"}})
    async def redeem(body: RedemptionIn, store: Store, request: Request) -> JSONResponse:
        """Redeem points (L-07): refused with the rule (window, same-day points, balance); never cancelled."""
        # a card nobody has counts against the key's misses, as for a lookup (M-17: no walking the card range)
        member_id, resp = await limits.unless_missed(request, lambda: redemptions.redeem(store, body))
        if resp.status >= 400:
            return JSONResponse({**resp.body, "trace_id": current_trace_id()}, status_code=resp.status,
                                media_type=PROBLEM)
        return JSONResponse({**resp.body, "member_id": member_id, "trace_id": current_trace_id()},
                            status_code=200 if resp.body.get("replayed") else 201)

    @r.post("/members/{card_no}/proof-codes", status_code=201, response_model=ProofCodeOut, responses={
        201: {"content": {"application/json": {
            "example": ProofCodeOut.model_config["json_schema_extra"]["examples"][0]}}},  # type: ignore[index]
        403: {"description": "too many wrong answers or codes: locked for a while (field `proof`)"},
        422: {"description": "the store's program proves members by PIN, not SMS code (L-07); M-17 card"}})
    async def proof_code(card_no: Annotated[CardNo, Path()], body: ProofCodeIn, store: Store,
                         request: Request) -> JSONResponse:
        """Text a one-time code (5 minutes, used once) to the card holder's registered mobile (L-07, L-11)."""
        # an unknown card counts against the key's misses (M-17: no walking the card range to send codes)
        out = await limits.unless_missed(
            request, lambda: redemptions.send_code(store, card_no, body.store_id, body.cashier_staff_id))
        return JSONResponse({**out, "trace_id": current_trace_id()}, status_code=201)

    return r
