"""The ops page (issue 13, O-02: hq_admin only): every instance of every service with its health and readiness,
consumer lag, outbox backlog, DLQ depth and entries with redrive, recent error traces linked to the viewer. Thin
routes: the owning services answer (their /ops routes) with the logged-in staff member's token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..adapters.upstream import Refusal
from ..domain.ops import OPS_SERVICES, dlq_depth, lag_rows, parse_since
from ..domain.screens import may
from ..service.desk import Session
from ..service.ops import OpsDesk
from .forms import read_form
from .http import HTML, Pages

Service = Annotated[str, Path(pattern="^(" + "|".join(OPS_SERVICES) + ")$")]
EntryId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")]
Done = Annotated[str, Query(pattern="^(|replayed|discarded|replayed_since)$")]


def not_allowed() -> Refusal:
    """The ops page's own O-02 refusal (a new one each time: it is raised)."""
    return Refusal("console", 403, "Forbidden", "the ops page is for HQ admins",
                   [{"field": "role", "message": "needs hq_admin", "rule": "O-02"}])


def router(ops: OpsDesk, pages: Pages) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def admit(s: Session) -> None:
        """Only an hq_admin goes on; another role gets the O-02 refusal of the ops page (shown by Pages.guarded)."""
        if not may(s.who.role, "ops"):
            raise not_allowed()

    @r.get("/ops", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def ops_page(request: Request, s: Session, done: Done = "",
                       n: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
        """Instances, lag, outbox, DLQ and error traces of every service (O-02: hq_admin)."""
        admit(s)
        status, dlq, errors = await ops.overview(s)
        lag = {svc: lag_rows(sec.data["instances"]) for svc, sec in status.items() if sec.data}
        depth = {svc: dlq_depth(sec.data["entries"]) for svc, sec in dlq.items() if sec.data}
        return pages.render(request, "ops.html", s, services=OPS_SERVICES, health=status, dlq=dlq, lag=lag,
                            depth=depth, errors=errors, viewer=ops.viewer, done=done, n=n)

    @r.get("/ops/dlq/{service}/{entry_id}", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def ops_entry(request: Request, s: Session, service: Service, entry_id: EntryId, done: Done = "") -> Response:
        """One dead-lettered event: headers, body, every failure, the audit; replay or discard it."""
        admit(s)
        e = await ops.entry(s, service, entry_id)
        return pages.render(request, "ops_entry.html", s, service=service, e=e, done=done)

    @r.post("/ops/dlq/{service}/{entry_id}/replay", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def ops_replay(request: Request, s: Session, service: Service, entry_id: EntryId) -> Response:
        """Replay one entry through its service; the audit names the logged-in person."""
        admit(s)
        f = await read_form(request, {"note": 500}, ())
        await ops.replay(s, service, entry_id, f["note"])
        return RedirectResponse(f"/ops/dlq/{service}/{entry_id}?done=replayed", status_code=303)

    @r.post("/ops/dlq/{service}/{entry_id}/discard", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def ops_discard(request: Request, s: Session, service: Service, entry_id: EntryId) -> Response:
        """Discard one entry with a reason; the audit names the logged-in person."""
        admit(s)
        f = await read_form(request, {"reason": 500}, ("reason",))
        await ops.discard(s, service, entry_id, f["reason"])
        return RedirectResponse(f"/ops/dlq/{service}/{entry_id}?done=discarded", status_code=303)

    @r.post("/ops/dlq/{service}/replay-since", response_class=HTMLResponse, responses=HTML)
    @pages.guarded()
    async def ops_replay_since(request: Request, s: Session, service: Service) -> Response:
        """Replay every pending entry of a service whose last failure is at or after a time (UTC)."""
        admit(s)
        f = await read_form(request, {"since": 40, "note": 500}, ("since",))
        try:
            since = parse_since(f["since"])
        except ValueError:
            raise Refusal("console", 422, "invalid form", errors=[
                {"field": "since", "message": "a date and time (UTC)"}]) from None
        out: dict[str, Any] = await ops.replay_since(s, service, since, f["note"])
        return RedirectResponse(f"/ops?done=replayed_since&n={len(out.get('replayed', []))}#dlq-{service}",
                                status_code=303)

    return r
