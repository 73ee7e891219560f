"""The store desk (issue 12): hand-overs with their per-file steps (M-12), spreadsheet imports with live progress
and the rejected-rows file (M-19), the revisit plan and revisit log (M-20). Thin routes; every read and write goes
to members with the staff member's token, so members decides who may and records who did (O-02)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain import stores
from ..domain.paging import paginate
from ..service.desk import Session
from ..service.stores import StoreDesk
from . import csrf
from .forms import read_form
from .http import HTML, PageNo, Pages

Token = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]*$")]
State = Annotated[str, Query(pattern="^(|" + "|".join(stores.STATES) + ")$")]
ImportStatus = Annotated[str, Query(pattern="^(|running|done|failed)$")]
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2200, 12, 31))]
Done = Annotated[str, Query(pattern="^(|handover_requested|stepped|revisit_logged|prospect_added)$")]
FileName = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/\\]+$")]
HANDOVER_STEPS = ("review", "accept", "confirm")
FILE_STEPS = ("recheck", "approve")


def invalid(field: str, message: str, rule: str = "") -> Refusal:
    return Refusal("console", 422, "invalid form", errors=[{"field": field, "message": message,
                                                            **({"rule": rule} if rule else {})}])


def decision(f: dict[str, str]) -> bool:
    if f["decision"] not in ("approve", "reject"):
        raise invalid("decision", "approve or reject", "M-12")
    return f["decision"] == "approve"


def router(desk: StoreDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    # -- hand-overs (M-12) -----------------------------------------------------------------------------------

    @r.get("/handovers", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("handovers")
    async def handovers(request: Request, s: Session, state: State = "", staff_id: Token = "",
                        store_id: Token = "", before: Token = "", done: Done = "") -> Response:
        """Hand-overs newest first as members scopes them (HQ all, a store lead their store's, staff their own),
        filtered by state, staff member and (HQ) store; paged at members; the request form for store leads."""
        got = await desk.handovers(s, state, staff_id, store_id, before, page_size)
        filters = {"state": state, "staff_id": staff_id, "store_id": store_id}
        query = urlencode({k: v for k, v in filters.items() if v})
        return pages.render(request, "stores_handovers.html", s, items=got["handovers"], filters=filters,
                            next_before=got.get("next_before"), query=query, paged=bool(before), done=done,
                            states=stores.STATES)

    @r.post("/handovers", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("handover.request")
    async def request_handover(request: Request, s: Session) -> Response:
        """Ask to hand a referrer's members (all, or those named) to a colleague of the store (M-12)."""
        f = await read_form(request, {"from_staff_id": 64, "to_staff_id": 64, "type": 20, "reason": 500,
                                      "member_ids": 4000}, ("from_staff_id", "to_staff_id", "type", "reason"))
        ids = [m for m in re.split(r"[\s,，;；]+", f["member_ids"]) if m]
        got = await desk.request_handover(s, {
            "from_staff_id": f["from_staff_id"].strip(), "to_staff_id": f["to_staff_id"].strip(),
            "type": f["type"], "reason": f["reason"].strip(), **({"member_ids": ids} if ids else {})})
        return RedirectResponse(f"/handovers/{got['handover_id']}?done=handover_requested", status_code=303)

    @r.get("/handovers/{handover_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("handovers")
    async def handover(request: Request, s: Session, handover_id: Annotated[Ident, Path()], page: PageNo = 1,
                       done: Done = "") -> Response:
        """The hand-over record: its state, every step with who and when, each file's step (paged), and the step
        this person may take now (M-12)."""
        h = await desk.handover(s, handover_id)
        rows = stores.file_rows(h, s.who.role, s.who.staff_id)
        return pages.render(request, "stores_handover.html", s, h=h, done=done,
                            step=stores.next_step(h, s.who.role, s.who.staff_id),
                            page=paginate(rows, page, page_size))

    @r.post("/handovers/{handover_id}/steps/{step}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("handovers")
    async def take_step(request: Request, s: Session, handover_id: Annotated[Ident, Path()],
                        step: Annotated[str, Path(pattern="^(" + "|".join(HANDOVER_STEPS) + ")$")]) -> Response:
        """Review (approve or reject), accept or confirm; members checks the state and who takes it (M-12)."""
        f = await read_form(request, {"decision": 10, "note": 500}, ("decision",))
        await desk.step(s, handover_id, step, decision(f), f["note"].strip())
        return RedirectResponse(f"/handovers/{handover_id}?done=stepped", status_code=303)

    @r.post("/handovers/{handover_id}/files/{member_id}/{step}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("handovers")
    async def take_file_step(request: Request, s: Session, handover_id: Annotated[Ident, Path()],
                             member_id: Annotated[Ident, Path()],
                             step: Annotated[str, Path(pattern="^(" + "|".join(FILE_STEPS) + ")$")],
                             page: PageNo = 1) -> Response:
        """The receiver re-checks a file; the store manager approves it or sends it back (M-12)."""
        f = await read_form(request, {"decision": 10, "note": 500}, ("decision",))
        await desk.file_step(s, handover_id, member_id, step, decision(f), f["note"].strip())
        return RedirectResponse(f"/handovers/{handover_id}?done=stepped&page={page}", status_code=303)

    # -- imports (M-19) --------------------------------------------------------------------------------------

    @r.get("/imports", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("imports")
    async def imports(request: Request, s: Session, status: ImportStatus = "", store_id: Token = "",
                      before: Token = "") -> Response:
        """Imports newest first with their progress and who started each, filtered, paged at members; the upload
        form (the file's bytes are sent by a small script: the console reads no multipart)."""
        got = await desk.imports(s, status, store_id, before, page_size)
        filters = {"status": status, "store_id": store_id}
        return pages.render(request, "stores_imports.html", s, items=got["imports"], filters=filters,
                            next_before=got.get("next_before"), paged=bool(before),
                            query=urlencode({k: v for k, v in filters.items() if v}))

    @r.post("/imports/upload", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("imports")
    async def upload(request: Request, s: Session, store_id: Token, filename: FileName) -> Response:
        """The spreadsheet's bytes as the body (CSV or XLSX by the file name), the form token in X-CSRF-Token;
        members imports it (M-19) and the answer's X-Location is the import's progress page."""
        try:
            if not csrf.matches(request, request.headers.get("x-csrf-token", "")):
                raise Refusal("console", 403, "form refused", "reload the page and send the file again",
                              [{"field": csrf.FIELD, "message": "missing or wrong form token"}])
            if not store_id:
                raise invalid("store_id", "required", "M-19")
            import_id = await desk.start_import(s, store_id, stores.sheet_format(filename), filename,
                                                await request.body())
        except Refusal as e:
            return pages.render(request, "_refusal.html", s, status=200, e=e)  # shown in place by the script
        return Response(status_code=204, headers={"X-Location": f"/imports/{quote(import_id)}"})

    @r.get("/imports/{import_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("imports")
    async def import_page(request: Request, s: Session, import_id: Annotated[Ident, Path()]) -> Response:
        """One import: its progress, live while members works through it (M-19). htmx polls this page every second
        for the progress fragment alone while the import runs; done or failed, the fragment stops polling."""
        p = await desk.import_progress(s, import_id)
        fragment = request.headers.get("HX-Request") == "true"
        return pages.render(request, "stores_import_progress.html" if fragment else "stores_import.html", s, p=p)

    @r.get("/imports/{import_id}/rejected.csv", response_class=Response,
           responses={200: {"content": {"text/csv": {}}}})
    @pages.guarded("imports")
    async def rejected(request: Request, s: Session, import_id: Annotated[Ident, Path()]) -> Response:
        """Every refused row with its reasons, as members writes it (mobiles masked), with a BOM for Excel."""
        body = await desk.rejected_csv(s, import_id)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="rejected-{import_id}.csv"'})

    # -- revisits (M-20); the KPI page is the reports' (/reports/kpi, M-21) ----------------------------------

    @r.get("/revisits", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("revisits")
    async def revisits(request: Request, s: Session, on: Day = None, page: PageNo = 1, ppage: PageNo = 1,
                       done: Done = "") -> Response:
        """Members and prospects due a visit by a day, and the holiday calls to key accounts (M-20); log a
        revisit from the list."""
        plan = await desk.revisit_plan(s, on)
        return pages.render(request, "stores_revisits.html", s, plan=plan, on=on.isoformat() if on else "",
                            done=done, page=paginate(plan["members"], page, page_size),
                            prospects=paginate(plan["prospects"], ppage, page_size),
                            query=f"on={on.isoformat()}&" if on else "")

    @r.post("/revisits/prospects", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("revisits")
    async def add_prospect(request: Request, s: Session) -> Response:
        """A prospect with its intent level H/A/B/C; members sets the next visit from it and records who (M-20)."""
        f = await read_form(request, {"full_name": 40, "mobile": 20, "intent": 1, "note": 500},
                            ("full_name", "mobile", "intent"))
        got = await desk.add_prospect(s, f["full_name"].strip(), f["mobile"].strip(), f["intent"],
                                      f["note"].strip())
        return RedirectResponse(f"/revisits?done=prospect_added&on={got['next_visit']}", status_code=303)

    @r.post("/revisits/{member_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("revisits")
    async def log_revisit(request: Request, s: Session, member_id: Annotated[Ident, Path()]) -> Response:
        """Log a revisit (what was said, the next date); members records who from the token (M-20)."""
        f = await read_form(request, {"summary": 1000, "next_date": 10, "on": 10}, ("summary",))
        nxt = f["next_date"].strip()
        if nxt and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", nxt):
            raise invalid("next_date", "a date, YYYY-MM-DD", "M-20")
        await desk.log_revisit(s, member_id, f["summary"].strip(), nxt)
        back = f"&on={f['on']}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", f["on"]) else ""
        return RedirectResponse(f"/revisits?done=revisit_logged{back}", status_code=303)

    return r
