"""Members HTTP API read routes for the console's store-desk screens (issue 12): hand-overs listed for the people
who take their steps (M-12) and spreadsheet imports listed for HQ (M-19). Thin routes: the bodies are
`schemas.py`'s, the queries the services'."""


from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.identity import BootstrapAdmin, Caller, ServiceCaller

from ..domain.access import MATRIX
from ..service.handovers import Handovers
from ..service.importer import Importer
from .schemas import HandoverList, HandoverSummary, ImportList, ImportProgress, MemberId, StaffId, StoreId

Limit = Annotated[int, Query(ge=1, le=200, description="rows per page")]
Before = Annotated[MemberId | None, Query(description="the last id of the previous page (its `next_before`)")]
HandoverState = Literal["requested", "hq_approved", "accepted", "confirmed", "rechecked", "completed", "rejected"]


def operator_of(caller: Caller) -> str:
    """Who did it, for the audit: a staff member's id, a service's name, or the bootstrap admin token."""
    if isinstance(caller, Principal):
        return caller.staff_id
    if isinstance(caller, ServiceCaller):
        return f"svc:{caller.name}"
    assert isinstance(caller, BootstrapAdmin)
    return "bootstrap-admin"


def staff_router(handovers: Handovers, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"], responses=PROBLEM_RESPONSES)

    @r.get("/handovers")
    async def list_handovers(p: Annotated[Principal, Depends(require(verifier, *MATRIX["handovers.read"]))],
                             state: Annotated[HandoverState | None, Query()] = None,
                             staff_id: Annotated[StaffId | None, Query(description="giving or receiving")] = None,
                             store_id: Annotated[StoreId | None, Query(description="HQ only; others see their "
                                                                                    "store's")] = None,
                             limit: Limit = 50, before: Before = None) -> HandoverList:
        """Hand-overs newest first (M-12): HQ every store's, a store lead their store's, staff the ones they give or
        receive; filtered by state and staff member, paged with `before`."""
        rows = await handovers.listing(p, state, staff_id, store_id, limit + 1, before)
        return HandoverList(handovers=[HandoverSummary(**x) for x in rows[:limit]],
                            next_before=rows[limit - 1]["handover_id"] if len(rows) > limit else None)

    return r


def admin_router(importer: Importer, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["members"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/imports")
    async def list_imports(store_id: Annotated[StoreId | None, Query()] = None,
                           status: Annotated[Literal["running", "done", "failed"] | None, Query()] = None,
                           limit: Limit = 50, before: Before = None) -> ImportList:
        """Spreadsheet imports newest first with their progress and who started each (M-19), paged with `before`."""
        rows = await importer.recent(store_id, status, limit + 1, before)
        return ImportList(imports=[ImportProgress(**x) for x in rows[:limit]],
                          next_before=rows[limit - 1]["import_id"] if len(rows) > limit else None)

    return r
