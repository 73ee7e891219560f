"""POST /v1/redemptions (docs/pos-api.md): points for a catalogue reward or as money, decided by loyalty (L-07)."""


import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import PROBLEM, FieldError, Problem
from vipcore.httpclient import InternalClient, Unreachable
from vipcore.telemetry import current_trace_id

from ..domain.models import MemberIn
from ..service.apikeys import KeyVerifier
from ..service.directory import Directory


class RedemptionIn(BaseModel):
    """POST /v1/redemptions."""

    model_config = ConfigDict(extra="forbid")
    store_id: str = Field(min_length=1, max_length=32)
    member: MemberIn
    reward_id: str | None = Field(None, max_length=64)
    points_to_cash: int | None = Field(None, gt=0, description="points converted to money (L-07)")
    id_verified: bool = False
    redemption_id: uuid.UUID | None = Field(None, description="optional: the same id again returns the first answer")

    @model_validator(mode="after")
    def _one_kind(self) -> "RedemptionIn":
        if (self.reward_id is None) == (self.points_to_cash is None):
            raise ValueError("give exactly one of reward_id or points_to_cash (L-07)")
        return self


def redemptions_router(keys: KeyVerifier, directory: Directory, engine: AsyncEngine,
                       loyalty: InternalClient) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["pos"])

    async def terminal_store(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        store = await keys.store_of(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if store is None:
            raise Problem(401, "Unauthorized", "a valid store API key is required",
                          [FieldError("Authorization", "missing or unknown store API key")])
        return store

    @r.post("/redemptions", status_code=201)
    async def redeem(body: RedemptionIn, store: Annotated[str, Depends(terminal_store)]) -> JSONResponse:
        """Redeem points (L-07): refused with the rule (window, same-day points, balance); never cancelled."""
        if body.store_id != store:
            raise Problem(403, "Forbidden", f"this API key belongs to store {store}",
                          [FieldError("store_id", f"a key of store {store} cannot act for {body.store_id}", "O-02")])
        async with engine.connect() as conn:
            (found,) = await directory.resolve_full(conn, [body.member.model_dump()])
        if found is None:
            raise Problem(404, "Not found", "no member with these details")
        member_id, _, card_status = found
        if card_status not in (None, "active"):
            raise Problem(422, "Refused by a rule", f"card is {card_status}",
                          [FieldError("member.card_no", f"a {card_status} card cannot redeem", "M-17")])
        try:
            resp = await loyalty.post("/internal/redemptions", {
                "redemption_id": str(body.redemption_id or uuid.uuid4()), "store_id": body.store_id,
                "member_id": member_id, "reward_id": body.reward_id, "points_to_cash": body.points_to_cash,
                "id_verified": body.id_verified})
        except Unreachable:
            raise Problem(503, "Loyalty unavailable", "try again with the same redemption_id") from None
        if resp.status >= 500:
            raise Problem(503, "Loyalty unavailable", "try again with the same redemption_id")
        out: dict[str, Any] = resp.body
        if resp.status >= 400:
            return JSONResponse({**out, "trace_id": current_trace_id()}, status_code=resp.status,
                                media_type=PROBLEM)
        return JSONResponse({**out, "member_id": member_id, "trace_id": current_trace_id()},
                            status_code=200 if out.get("replayed") else 201)

    return r
