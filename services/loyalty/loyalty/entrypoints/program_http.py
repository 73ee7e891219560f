"""The program viewer (HQ: tiers, earn rules and every version of each program) and the desk-claim list of one
store (L-09: store staff of that store, HQ any) — staff tokens (O-02)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..service.programs import Programs
from ..service.stored_value import check_own_store
from .schemas import DeskRewards, ProgramList, ProgramVersions

VIEWERS = (Role.HQ_ADMIN, Role.HQ_CS)  # O-02: the programs are HQ's
DESK = (Role.STAFF, Role.STORE_CS_MANAGER, Role.STORE_MANAGER, Role.HQ_ADMIN, Role.HQ_CS)  # L-09 desk claims


def program_router(verifier: TokenVerifier, programs: Programs) -> APIRouter:
    r = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)
    Viewer = Annotated[Principal, Depends(require(verifier, *VIEWERS))]
    Desk = Annotated[Principal, Depends(require(verifier, *DESK))]

    @r.get("/programs", tags=["programs"], response_model=ProgramList)
    async def list_programs(who: Viewer) -> dict[str, Any]:
        """Every program with the version in force and the number of versions (HQ admin, HQ customer service)."""
        return {"programs": programs.summaries()}

    @r.get("/programs/{program_id}", tags=["programs"], response_model=ProgramVersions)
    async def program_versions(program_id: Annotated[Ident, Path()], who: Viewer) -> dict[str, Any]:
        """Every version of a program, newest first: tiers (L-04), earn rules (L-01), catalogue (L-07, L-09),
        expiry (L-08), pending days (L-14), returns (L-13); the version in force marked."""
        return programs.versions(program_id)

    @r.get("/desk/rewards", tags=["desk"], response_model=DeskRewards)
    async def desk_rewards(store_id: Annotated[Ident, Query()], who: Desk,
                           after: Annotated[Ident | None, Query(description="the last member id seen")] = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50,
                           reward_id: Annotated[Ident | None, Query(description="only members who reached this "
                                                                                "reward")] = None) -> dict[str, Any]:
        """L-09: the store's desk-claim rewards and the store's members who reached one (listed to be told and to
        claim at the desk with ID); store staff see their own store only (O-02)."""
        check_own_store(who, store_id)
        return await programs.desk_rewards(store_id, after, limit, reward_id)

    return r
