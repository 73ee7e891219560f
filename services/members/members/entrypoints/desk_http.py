"""Members HTTP API for the console's member-file screens (issue 12): the shared blacklist (M-16), a file's change
record (M-13) and its likely duplicates to merge (M-06). Staff tokens; every route names its action in the role
matrix (O-02). Thin routes: the bodies are `schemas.py`'s, the decisions the services'."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES

from ..domain.access import MATRIX
from ..service.filedesk import FileDesk
from .schemas import AccessReason, BlacklistPage, FileSteps, MemberId, Mobile, StoreId
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
                             page: PageNo = 1, limit: Limit = 50) -> BlacklistPage:
        """The blacklist shared by every store, newest first (M-16): each phone with the store that listed it, who,
        why and since when; a phone looked up is flagged with that store. Mobiles masked."""
        return BlacklistPage.model_validate(await desk.blacklist(p, mobile, store_id, page, limit))

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
