"""Staff routes (staff tokens, O-02) for the console: a threshold reward claimed at the desk of the staff member's
own store (L-09: the member proven present by SMS code or PIN as for a POS redemption, L-07, and the ID checked by
the logged-in staff member, whom members and loyalty record), and today's sales per store (every receipt)."""

from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.errors import Forbidden, RuleViolation
from vipcore.http import PROBLEM, PROBLEM_RESPONSES
from vipcore.telemetry import current_trace_id

from ..service import daybook
from ..service.redemptions import Redemptions
from .schemas import DeskClaimIn, DeskClaimOut, DeskCodeIn, MemberIn, ProofCodeOut, RedemptionIn, SalesTodayOut

DESK = (Role.STAFF, Role.STORE_CS_MANAGER, Role.STORE_MANAGER)  # L-09: at the desk of their own store
ALL_STORES = (Role.HQ_ADMIN, Role.HQ_CS, Role.AUDITOR)  # O-02: HQ and auditors see every store
SALES_READERS = (*ALL_STORES, Role.STORE_MANAGER, Role.STORE_CS_MANAGER)
Zone = Annotated[str, Query(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$", max_length=64)]


def desk_store(who: Principal) -> str:
    """The store whose desk this person works at (O-02); staff of no store cannot hand out a store's rewards."""
    if not who.store_id:
        raise Forbidden("O-02", "store_id", "a desk claim is made at the desk of the staff member's own store")
    return who.store_id


def desk_router(verifier: TokenVerifier, redemptions: Redemptions, engine: AsyncEngine) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["desk"], responses=PROBLEM_RESPONSES)
    Desk = Annotated[Principal, Depends(require(verifier, *DESK))]
    Reader = Annotated[Principal, Depends(require(verifier, *SALES_READERS))]

    @r.post("/desk/proof-codes", status_code=201, response_model=ProofCodeOut)
    async def desk_code(body: DeskCodeIn, who: Desk) -> JSONResponse:
        """Text the card holder a one-time code (L-07) for a claim at this desk; the staff member is recorded."""
        store = desk_store(who)
        out = await redemptions.send_code(store, body.card_no, store, who.staff_id)
        return JSONResponse({**out, "trace_id": current_trace_id()}, status_code=201)

    @r.post("/desk/claims", status_code=201, response_model=DeskClaimOut, responses={
        200: {"model": DeskClaimOut, "description": "replay of the same claim_id"},
        422: {"description": "L-09 no ID check (`id_checked`); L-07 proof, window, same-day points, balance; "
                             "M-17 card"}})
    async def desk_claim(body: DeskClaimIn, who: Desk) -> JSONResponse:
        """Hand out a threshold reward (L-09): the ID checked by this staff member and the member proven present
        (L-07); loyalty deducts the points and its ledger names this staff member; final, never cancelled."""
        store = desk_store(who)
        if not body.id_checked:
            raise RuleViolation("L-09", "id_checked", "a threshold reward is handed out only after the member's ID "
                                                      "was checked at the desk")
        member_id, resp = await redemptions.redeem(store, RedemptionIn(
            store_id=store, member=MemberIn(card_no=body.card_no), reward_id=body.reward_id, points_to_cash=None,
            id_verified=True,
            redemption_id=body.claim_id, cashier_staff_id=who.staff_id, proof=body.proof))
        if resp.status >= 400:
            return JSONResponse({**resp.body, "trace_id": current_trace_id()}, status_code=resp.status,
                                media_type=PROBLEM)
        b = resp.body
        return JSONResponse({"claim_id": str(body.claim_id), "member_id": member_id, "reward_id": b.get("reward_id"),
                             "points_spent": b["points_spent"], "balance_after": b.get("balance_after"),
                             "replayed": b.get("replayed"), "handed_out_by": who.staff_id},
                            status_code=200 if b.get("replayed") else 201)

    @r.get("/stats/sales-today", response_model=SalesTodayOut)
    async def sales_today(who: Reader, tz: Zone = "Asia/Shanghai") -> SalesTodayOut:
        """Today so far per store, from the local midnight of `tz`: every receipt recorded (members' or not), the
        amount paid and how many named a member. HQ and auditors see every store, a store's managers their own
        (O-02)."""
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleViolation("input", "tz", "an IANA time zone, e.g. Asia/Shanghai") from None
        since = datetime.combine(datetime.now(zone).date(), time(0), zone)
        mine = None if who.role in ALL_STORES else who.store_id
        if mine is None and who.role not in ALL_STORES:
            raise Forbidden("O-02", "store_id", "a store role without a store sees no store's sales")
        rows = await daybook.sales_since(engine, since, mine)
        return SalesTodayOut.model_validate({"since": since.isoformat(), "stores": rows})

    return r
