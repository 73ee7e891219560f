"""Export member files (issue 12; M-07): the filter form starts an export job at members, a progress fragment
polled every second while it runs (htmx), the download once done, and the list of this person's recent exports.
Members decides everything: who may export (files.export), which files (HQ all, a store manager their store),
masking, and the access log of every file exported and every download."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain.screens import may
from ..service.desk import Session
from ..service.export import ExportDesk
from .forms import read_form
from .http import HTML, Pages

Token = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]*$")]
State = Annotated[str, Query(pattern="^(|running|done|failed)$")]
FILE_STATES = ("active", "pending_review", "incomplete", "rejected", "dormant", "deleted")


def router(desk: ExportDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def session(request: Request) -> Session | Response:
        """The logged-in person, or the login page; a role without the screen is refused before members is asked
        (O-02; members refuses it too: files.export)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        if not may(s.who.role, "exports"):
            return pages.refused(request, s, Refusal("console", 403, "not for this role", errors=[
                {"field": "role", "rule": "O-02", "message": f"{s.who.role.value} does not use this screen"}]))
        return s

    @r.get("/exports", response_class=HTMLResponse, responses=HTML)
    async def exports(request: Request, state: State = "", before: Token = "") -> Response:
        """The export form (store for HQ, file state, registration days, reason) and this person's recent exports,
        newest first, filtered by state and paged at members."""
        s = session(request)
        if not isinstance(s, Session):
            return s
        try:
            got = await desk.mine(s, state, before, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)
        return pages.render(request, "export_list.html", s, items=got["exports"], state=state,
                            next_before=got.get("next_before"), paged=bool(before), file_states=FILE_STATES,
                            query=urlencode({"state": state} if state else {}))

    @r.post("/exports", response_class=HTMLResponse, responses=HTML)
    async def start(request: Request) -> Response:
        """Start an export at members; its page follows the progress."""
        s = session(request)
        if not isinstance(s, Session):
            return s
        try:
            f = await read_form(request, {"store_id": 32, "status": 20, "registered_from": 10, "registered_to": 10,
                                          "reason": 200}, ("reason",))
            job = await desk.start(s, f["store_id"].strip(), f["status"].strip(), f["registered_from"].strip(),
                                   f["registered_to"].strip(), f["reason"].strip())
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse(f"/exports/{quote(job['export_id'])}", status_code=303)

    @r.get("/exports/{export_id}", response_class=HTMLResponse, responses=HTML)
    async def job(request: Request, export_id: Annotated[Ident, Path()]) -> Response:
        """One export's progress; htmx asks for the fragment alone every second while it runs, and the fragment
        stops polling once done (showing the download) or failed (showing why)."""
        s = session(request)
        if not isinstance(s, Session):
            return s
        try:
            p = await desk.progress(s, export_id)
        except Refusal as e:
            return pages.refused(request, s, e)
        fragment = request.headers.get("HX-Request") == "true"
        return pages.render(request, "export_progress.html" if fragment else "export_job.html", s, p=p)

    @r.get("/exports/{export_id}/file", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    async def download(request: Request, export_id: Annotated[Ident, Path()]) -> Response:
        """The CSV as members streams it (UTF-8 with a BOM, masked as this person's search; the download is
        access-logged by members)."""
        s = session(request)
        if not isinstance(s, Session):
            return s
        try:
            body, disposition = await desk.file(s, export_id)
        except Refusal as e:
            return pages.refused(request, s, e)
        return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": disposition})

    return r
