"""The member-file screens (issue 12): file edit with change review (M-13), merge by agreement (M-06), the blacklist
(M-16: listing, and lifting by the listing store or HQ customer service) and deletion requests (M-15). Thin routes:
members decides every action with the staff member's token and records the operator from it; the console only hides
what a role could never use (O-02) and shows members' refusal with its field and rule (`Pages.guarded`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from vipcore.inputs import Ident

from ..adapters.upstream import Refusal
from ..domain import files as f
from ..service.desk import Session
from ..service.files import FileDesk
from .forms import read_form
from .http import HTML, PageNo, Pages, Search

Member = Annotated[Ident, Path()]
Status = Annotated[str, Query(pattern="^(" + "|".join(f.DELETION_STATES) + ")$")]
Listing = Annotated[str, Query(pattern="^(" + "|".join(f.BLACKLIST_STATES) + ")$")]
Done = Annotated[str, Query(pattern="^(|changed|merged|blacklisted|lifted|deletion_requested|deletion_approved|"
                                    "deletion_rejected)$")]


def router(desk: FileDesk, pages: Pages, page_size: int) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/members/{member_id}/edit", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def edit_page(request: Request, s: Session, member_id: Member) -> Response:
        """The file's edit form (M-13): the fields as this role sees them; masked ones start empty (unchanged)."""
        m = await desk.file(s, member_id, "edit")
        return pages.render(request, "files_edit.html", s, m=m, v=f.form_values(m), opts=_options())

    @r.post("/members/{member_id}/edit", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def edit(request: Request, s: Session, member_id: Member) -> Response:
        """Send the changed fields to members (M-13): the file goes back to review; members records who changed
        which field."""
        form = await read_form(request, {**f.LIMITS, **{f"was_{k}": n for k, n in f.LIMITS.items()}})
        await desk.change(s, member_id, f.changed(form, {k: form[f"was_{k}"] for k in f.EDIT_FIELDS}))
        return RedirectResponse(f"/members/{member_id}?done=changed#files-changes", status_code=303)

    @r.get("/members/{member_id}/changes", response_class=HTMLResponse, responses=HTML)
    @pages.guarded(fragment=True)
    async def changes(request: Request, s: Session, member_id: Member, page: PageNo = 1) -> Response:
        """The file's changes and review decisions (fragment, paged at members; M-13)."""
        ans = await desk.changes(s, member_id, page, page_size)
        return pages.fragment(request, "files_changes.html", s, member_id=member_id, file_status=ans["status"],
                            page=f.served_page(ans["changes"], page, page_size, ans["total"]))

    @r.get("/members/{member_id}/duplicates", response_class=HTMLResponse, responses=HTML)
    @pages.guarded(fragment=True)
    async def duplicates(request: Request, s: Session, member_id: Member) -> Response:
        """Files of the store that may be the same customer, each with a merge form (fragment; M-06)."""
        kept = await desk.file(s, member_id, "merge")
        rows = await desk.duplicates(s, member_id)
        return pages.fragment(request, "files_duplicates.html", s, kept=kept, rows=rows)

    @r.post("/members/{member_id}/merge", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def merge(request: Request, s: Session, member_id: Member) -> Response:
        """Merge a duplicate into this file by agreement, keeping one referrer (M-06); members audits it."""
        form = await read_form(request, {"duplicate_member_id": 64, "referrer_staff_id": 64, "reason": 500},
                               ("duplicate_member_id", "referrer_staff_id", "reason"))
        await desk.merge(s, member_id, form["duplicate_member_id"], form["referrer_staff_id"], form["reason"])
        return RedirectResponse(f"/members/{member_id}?done=merged", status_code=303)

    @r.post("/members/{member_id}/deletion", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def request_deletion(request: Request, s: Session, member_id: Member) -> Response:
        """Ask HQ customer service to delete this file, with the reason (M-15)."""
        form = await read_form(request, {"reason": 500}, ("reason",))
        await desk.request_deletion(s, member_id, form["reason"])
        return RedirectResponse("/deletions?done=deletion_requested", status_code=303)

    @r.get("/blacklist", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def blacklist(request: Request, s: Session, mobile: Search = "", store_id: Search = "",
                        status: Listing = "listed", page: PageNo = 1, done: Done = "") -> Response:
        """The blacklist shared by every store (M-16), filtered by phone or listing store, paged at members: the
        listings in force (each with a lift form for whoever may lift it), or the lifted ones with who lifted them,
        when and why."""
        ans = await desk.blacklist(s, mobile, store_id, status, page, page_size)
        return pages.render(request, "files_blacklist.html", s, q={"mobile": mobile, "store_id": store_id},
                            shown=status, statuses=f.BLACKLIST_STATES, done=done,
                            page=f.served_page(ans["entries"], page, page_size, ans["total"]))

    @r.post("/blacklist", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def add_blacklist(request: Request, s: Session) -> Response:
        """Blacklist a phone + name for every store, with the reason (M-16); members names the store and person."""
        form = await read_form(request, {"mobile": 32, "full_name": 40, "reason": 500},
                               ("mobile", "full_name", "reason"))
        await desk.add_to_blacklist(s, form["mobile"], form["full_name"], form["reason"])
        return RedirectResponse("/blacklist?done=blacklisted", status_code=303)

    @r.post("/blacklist/{entry_id}/lift", response_class=HTMLResponse, responses=HTML)
    @pages.guarded("blacklist.lift")
    async def lift_blacklist(request: Request, s: Session,
                             entry_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> Response:
        """Lift a listing with the reason (M-16): members lets the listing store's CS manager or HQ customer service
        do it (another store's is refused, O-02), restores the files' states and records who lifted it."""
        form = await read_form(request, {"reason": 500}, ("reason",))
        await desk.lift_blacklist(s, entry_id, form["reason"])
        return RedirectResponse("/blacklist?status=lifted&done=lifted", status_code=303)

    @r.get("/deletions", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def deletions(request: Request, s: Session, status: Status = "pending", page: PageNo = 1,
                        done: Done = "") -> Response:
        """Deletion requests by status, paged at members (M-15): pending ones with their age against the 12-hour
        target (overdue flagged), decided ones with who decided, how long it took and the decider's note."""
        ans = await desk.deletions(s, status, page, page_size)
        return pages.render(request, "files_deletions.html", s, shown=status, done=done,
                            statuses=f.DELETION_STATES,
                            page=f.served_page(ans["items"], page, page_size, ans["total"]))

    @r.post("/deletions/{request_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def decide_deletion(request: Request, s: Session, request_id: Annotated[Ident, Path()]) -> Response:
        """Approve (members soft-deletes the file) or reject a deletion request with the note the store will read
        (M-15); members checks the role and that this reviewer is the one the request is with (O-03)."""
        form = await read_form(request, {"decision": 10, "note": 500}, ("decision",))
        if form["decision"] not in ("approve", "reject"):
            raise Refusal("console", 422, "invalid form", errors=[{"field": "decision",
                                                                  "message": "approve or reject"}])
        approve = form["decision"] == "approve"
        await desk.decide_deletion(s, request_id, approve, form["note"])
        return RedirectResponse(f"/deletions?done=deletion_{'approved' if approve else 'rejected'}", status_code=303)

    return r


def _options() -> dict[str, Any]:
    return {"gender": f.GENDERS, "customer_class": f.CUSTOMER_CLASSES, "account_size": f.ACCOUNT_SIZES}
