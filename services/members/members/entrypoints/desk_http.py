"""Members HTTP API for the console's member-file screens (issue 12): the shared blacklist (M-16), a file's change
record (M-13) and its likely duplicates to merge (M-06). Staff tokens; every route names its action in the role
matrix (O-02). Thin routes: the bodies are `schemas.py`'s, the decisions the services'."""


from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES

from ..domain.access import MATRIX
from ..service.filedesk import FileDesk
from .schemas import (
    AccessReason,
    BlacklistLifted,
    BlacklistLiftIn,
    BlacklistPage,
    FileSteps,
    MemberId,
    Mobile,
    StoreId,
)
from .schemas import MemberFiles as MemberFileList

Reason = Annotated[AccessReason, Header(alias="X-Access-Reason",
                                        description="M-07: why the file is read (written to the access log)")]
MemberPath = Annotated[MemberId, Path(description="a member file's id")]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


def router(desk: FileDesk, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"], responses=PROBLEM_RESPONSES)

    def allow(action: str) -> Any:
        return Depends(require(verifier, *MATRIX[action]))

    @r.get("/blacklist")
    async def list_blacklist(p: Annotated[Principal, allow("blacklist.read")],
                             mobile: Annotated[Mobile | None, Query(description="look a phone up (M-02; "
                                                                                "normalised)")] = None,
                             store_id: Annotated[StoreId | None, Query(description="the listing store")] = None,
                             status: Annotated[Literal["listed", "lifted"], Query(
                                 description="listings in force, or lifted ones (kept with who, when, why)")]
                             = "listed", page: PageNo = 1, limit: Limit = 50) -> BlacklistPage:
        """The blacklist shared by every store, newest first (M-16): each phone with the store that listed it, who,
        why and since when; a phone looked up is flagged with that store. Mobiles masked."""
        return BlacklistPage.model_validate(await desk.blacklist(p, mobile, store_id, page, limit,
                                                                 status == "lifted"))

    @r.post("/blacklist/{entry_id}/lift")
    async def lift_blacklist(p: Annotated[Principal, allow("blacklist.lift")],
                             entry_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="a listing's id")],
                             body: BlacklistLiftIn) -> BlacklistLifted:
        """Lift a listing put in by mistake or whose conduct is settled, with the reason (M-16): the listing store's
        customer-service manager or HQ customer service (O-02; another store's manager is refused). The entry is
        kept with who lifted it, when and why; each file it blacklisted goes back to the state it had before; lookups
        stop flagging the phone (members.member.blacklist_lifted) and it may be listed again."""
        return BlacklistLifted.model_validate(await desk.lift(p, entry_id, body))

    @r.get("/member-files/{member_id}/changes")
    async def file_changes(p: Annotated[Principal, allow("files.read")], member_id: MemberPath,
                           reason: Reason = "not given", page: PageNo = 1, limit: Limit = 20) -> FileSteps:
        """Every change to a file — each field before and after, the state it left and entered — and every review
        decision on it, newest first (M-13, M-04). Only a file the caller may see (M-07); access-logged."""
        return FileSteps.model_validate(await desk.changes(p, member_id, reason, page, limit))

    @r.get("/member-files/{member_id}/duplicates")
    async def file_duplicates(p: Annotated[Principal, allow("files.duplicates")], member_id: MemberPath,
                              reason: Reason = "not given") -> MemberFileList:
        """Other open files of the same store with the same full name or ID card: the candidates to merge into
        this one by agreement (M-06). Access-logged (M-07)."""
        return MemberFileList.model_validate({"members": await desk.duplicates(p, member_id, reason)})

    return r
