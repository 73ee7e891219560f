"""Members HTTP API: bulk export of member files as a background job (M-07: its own permission, files.export;
every file exported and every download written to the access log). Thin routes: the bodies are `schemas.py`'s,
the decisions `service/exports.py`'s."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import ShortIdent

from ..domain.access import MATRIX
from ..service.exports import FileExports
from .schemas import ExportIn, ExportList, ExportProgress, StaffId

ExportId = Annotated[ShortIdent, Path(description="as answered by POST /v1/member-file-exports")]


def router(exports: FileExports, verifier: TokenVerifier) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"], responses=PROBLEM_RESPONSES)
    Exporter = Annotated[Principal, Depends(require(verifier, *MATRIX["files.export"]))]

    @r.post("/member-file-exports", status_code=202)
    async def start_export(body: ExportIn, p: Exporter) -> ExportProgress:
        """Export the member files the caller may see (M-07: HQ every store or one, a store manager their own),
        filtered by store, state and registration days, as a CSV written in the background a chunk at a time (no
        cap on the count); follow it at /v1/member-file-exports/{export_id}. The job records the operator from the
        token and the reason; every file exported is written to the access log."""
        return ExportProgress(**await exports.start(p, body.store_id, body.status, body.registered_from,
                                                    body.registered_to, body.tz, body.reason))

    @r.get("/member-file-exports/{export_id}")
    async def export_progress(export_id: ExportId, p: Exporter) -> ExportProgress:
        """An export's progress (total, done, percent, state); only its starter or an HQ admin may follow it. A job
        whose process was stopped (no heartbeat for 2 minutes) reads as failed."""
        return ExportProgress(**await exports.progress(p, export_id))

    @r.get("/member-file-exports")
    async def list_exports(p: Exporter, started_by: Annotated[StaffId | None, Query(description="HQ admin only; "
                                                                                  "others see their own")] = None,
                           state: Annotated[Literal["running", "done", "failed"] | None, Query()] = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50,
                           before: Annotated[ShortIdent | None, Query(description="the last id of the previous "
                                                                                  "page (its `next_before`)")] = None
                           ) -> ExportList:
        """Exports newest first with their progress: an HQ admin every one (or one person's), a store manager
        their own; paged with `before`."""
        rows = await exports.listing(p, started_by, state, limit + 1, before)
        return ExportList(exports=[ExportProgress(**x) for x in rows[:limit]],
                          next_before=rows[limit - 1]["export_id"] if len(rows) > limit else None)

    @r.get("/member-file-exports/{export_id}/file", response_class=StreamingResponse,
           responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                            "description": "UTF-8 CSV with a BOM (Excel shows Chinese); mobile, ID card and name "
                                           "masked as the caller's search shows them"}})
    async def export_file(export_id: ExportId, p: Exporter) -> StreamingResponse:
        """The finished export's CSV, streamed; only its starter or an HQ admin may download it, and the download
        is written to the access log with every member id it holds (M-07)."""
        body = await exports.download(p, export_id)
        return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="member-files-{export_id}.csv"'})

    return r
