"""The member-file screens (issue 12): file edit with change review (M-13), merge by agreement (M-06), the blacklist
(M-16) and deletion requests (M-15). Thin routes: members decides every action with the staff member's token and
records the operator from it; the console only hides what a role could never use (O-02) and shows members' refusal
with its field and rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain import files as f
from ..service.files import FileDesk
from .forms import read_form
from .http import HTML, PageNo, Pages, Search

Member = Annotated[Ident, Path()]
Status = Annotated[str, Query(pattern="^(" + "|".join(f.DELETION_STATES) + ")$")]
Done = Annotated[str, Query(pattern="^(|changed|merged|blacklisted|deletion_requested|deletion_approved|"
                                    "deletion_rejected)$")]


def router(desk: FileDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/members/{member_id}/edit", response_class=HTMLResponse, responses=HTML)
    async def edit_page(request: Request, member_id: Member) -> Response:
        """The file's edit form (M-13): the fields as this role sees them; masked ones start empty (unchanged)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            m = await desk.file(s, member_id, "edit")
        except Refusal as e:
            return pages.refused(request, s, e)
        return pages.render(request, "files_edit.html", s, m=m, v=f.form_values(m), opts=_options())

    @r.post("/members/{member_id}/edit", response_class=HTMLResponse, responses=HTML)
    async def edit(request: Request, member_id: Member) -> Response:
        """Send the changed fields to members (M-13): the file goes back to review; members records who changed
        which field."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            form = await read_form(request, {**f.LIMITS, **{f"was_{k}": n for k, n in f.LIMITS.items()}})
            await desk.change(s, member_id, f.changed(form, {k: form[f"was_{k}"] for k in f.EDIT_FIELDS}))
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse(f"/members/{member_id}?done=changed#files-changes", status_code=303)

    @r.get("/members/{member_id}/changes", response_class=HTMLResponse, responses=HTML)
    async def changes(request: Request, member_id: Member, page: PageNo = 1) -> Response:
        """The file's changes and review decisions (fragment, paged at members; M-13)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            ans = await desk.changes(s, member_id, page, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)  # htmx: the refusal in place; a page of its own: the 403 page
        return pages.fragment(request, "files_changes.html", s, member_id=member_id, file_status=ans["status"],
                            page=f.served_page(ans["changes"], page, page_size, ans["total"]))

    @r.get("/members/{member_id}/duplicates", response_class=HTMLResponse, responses=HTML)
    async def duplicates(request: Request, member_id: Member) -> Response:
        """Files of the store that may be the same customer, each with a merge form (fragment; M-06)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            kept = await desk.file(s, member_id, "merge")
            rows = await desk.duplicates(s, member_id)
        except Refusal as e:
            return pages.refused(request, s, e)  # htmx: the refusal in place; a page of its own: the 403 page
        return pages.fragment(request, "files_duplicates.html", s, kept=kept, rows=rows)

    @r.post("/members/{member_id}/merge", response_class=HTMLResponse, responses=HTML)
    async def merge(request: Request, member_id: Member) -> Response:
        """Merge a duplicate into this file by agreement, keeping one referrer (M-06); members audits it."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            form = await read_form(request, {"duplicate_member_id": 64, "referrer_staff_id": 64, "reason": 500},
                                   ("duplicate_member_id", "referrer_staff_id", "reason"))
            await desk.merge(s, member_id, form["duplicate_member_id"], form["referrer_staff_id"], form["reason"])
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse(f"/members/{member_id}?done=merged", status_code=303)

    @r.post("/members/{member_id}/deletion", response_class=HTMLResponse, responses=HTML)
    async def request_deletion(request: Request, member_id: Member) -> Response:
        """Ask HQ customer service to delete this file, with the reason (M-15)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            form = await read_form(request, {"reason": 500}, ("reason",))
            await desk.request_deletion(s, member_id, form["reason"])
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse("/deletions?done=deletion_requested", status_code=303)

    @r.get("/blacklist", response_class=HTMLResponse, responses=HTML)
    async def blacklist(request: Request, mobile: Search = "", store_id: Search = "", page: PageNo = 1,
                        done: Done = "") -> Response:
        """The blacklist shared by every store (M-16), filtered by phone or listing store, paged at members."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            ans = await desk.blacklist(s, mobile, store_id, page, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)
        return pages.render(request, "files_blacklist.html", s, q={"mobile": mobile, "store_id": store_id},
                            done=done, page=f.served_page(ans["entries"], page, page_size, ans["total"]))

    @r.post("/blacklist", response_class=HTMLResponse, responses=HTML)
    async def add_blacklist(request: Request) -> Response:
        """Blacklist a phone + name for every store, with the reason (M-16); members names the store and person."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            form = await read_form(request, {"mobile": 32, "full_name": 40, "reason": 500},
                                   ("mobile", "full_name", "reason"))
            await desk.add_to_blacklist(s, form["mobile"], form["full_name"], form["reason"])
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse("/blacklist?done=blacklisted", status_code=303)

    @r.get("/deletions", response_class=HTMLResponse, responses=HTML)
    async def deletions(request: Request, status: Status = "pending", page: PageNo = 1, done: Done = "") -> Response:
        """Deletion requests with their age and overdue flag (12-hour target), by status, paged at members (M-15)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            ans = await desk.deletions(s, status, page, page_size)
        except Refusal as e:
            return pages.refused(request, s, e)
        return pages.render(request, "files_deletions.html", s, shown=status, done=done,
                            statuses=f.DELETION_STATES,
                            page=f.served_page(ans["items"], page, page_size, ans["total"]))

    @r.post("/deletions/{request_id}", response_class=HTMLResponse, responses=HTML)
    async def decide_deletion(request: Request, request_id: Annotated[Ident, Path()]) -> Response:
        """Approve (members soft-deletes the file) or reject a deletion request (M-15); members checks the role and
        that this reviewer is the one the request is with (O-03)."""
        s = pages.session_of(request)
        if s is None:
            return pages.to_login(request)
        try:
            form = await read_form(request, {"decision": 10}, ("decision",))
            if form["decision"] not in ("approve", "reject"):
                raise Refusal("console", 422, "invalid form", errors=[{"field": "decision",
                                                                      "message": "approve or reject"}])
            approve = form["decision"] == "approve"
            await desk.decide_deletion(s, request_id, approve)
        except Refusal as e:
            return pages.refused(request, s, e)
        return RedirectResponse(f"/deletions?done=deletion_{'approved' if approve else 'rejected'}", status_code=303)

    return r


def _options() -> dict[str, Any]:
    return {"gender": f.GENDERS, "customer_class": f.CUSTOMER_CLASSES, "account_size": f.ACCOUNT_SIZES}
