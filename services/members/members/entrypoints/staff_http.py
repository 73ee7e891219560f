"""Members HTTP API for staff (token from /v1/auth/login); every route names its action in the role matrix."""


import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from vipcore.auth import Principal, TokenVerifier, require
from vipcore.inputs import Name, ShortIdent

from ..domain.access import MATRIX, REQUEST_KINDS, RequestKind
from ..domain.handover import FILE_STEPS, STEPS
from ..service.engagement import Engagement, ProspectIn, RevisitIn
from ..service.files import BlacklistIn, FileChange, FileIn, MemberFiles, ReviewIn
from ..service.handovers import HandoverIn, Handovers, StepIn
from ..service.merges import MergeIn, Merges
from ..service.reviewers import LeaveIn
from ..service.staffauth import StaffLogin
from ..service.workflows import DecisionIn, RequestIn, Workflows

Reason = Annotated[str, Header(alias="X-Access-Reason", max_length=200,
                               description="M-07: why the file is read (written to the access log)")]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


def router(files: MemberFiles, login: StaffLogin, verifier: TokenVerifier, flows: Workflows,
           handovers: Handovers, engagement: Engagement, merges: Merges) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"])

    def allow(action: str) -> Any:
        return Depends(require(verifier, *MATRIX[action]))

    As_files_create = Annotated[Principal, allow("files.create")]
    As_files_update = Annotated[Principal, allow("files.update")]
    As_files_read = Annotated[Principal, allow("files.read")]
    As_files_search = Annotated[Principal, allow("files.search")]
    As_files_export = Annotated[Principal, allow("files.export")]
    As_files_review = Annotated[Principal, allow("files.review")]
    As_files_review_queue = Annotated[Principal, allow("files.review_queue")]
    As_cards_report_lost = Annotated[Principal, allow("cards.report_lost")]
    As_blacklist_add = Annotated[Principal, allow("blacklist.add")]
    As_access_log_read = Annotated[Principal, allow("access_log.read")]
    As_files_spot_check = Annotated[Principal, allow("files.spot_check")]

    @r.post("/auth/login")
    async def staff_login(body: LoginIn) -> dict[str, str | None]:
        """Log in with staff id and password; answers a signed staff token (O-02, O-03)."""
        return await login.login(body.staff_id, body.password)

    @r.post("/member-files", status_code=201)
    async def create_file(body: FileIn, p: As_files_create) -> dict[str, Any]:
        """Open a member file (M-01, M-02); complete files go to review (M-03, M-04)."""
        return await files.create(p, body)

    @r.patch("/member-files/{member_id}")
    async def change_file(member_id: str, body: FileChange, p: As_files_update) -> dict[str, Any]:
        """Complete or change a file; the change goes back through review (M-03, M-13)."""
        return await files.change(p, member_id, body)

    @r.get("/member-files/{member_id}")
    async def read_file(p: As_files_read, member_id: str, reason: Reason = "not given") -> dict[str, Any]:
        """One file the caller may see (M-07); the read is written to the access log."""
        return await files.read(p, member_id, reason)

    @r.get("/member-files")
    async def search_files(p: As_files_search, mobile: Annotated[str | None, Query(max_length=20)] = None,
                           status: Annotated[str | None, Query(max_length=20)] = None,
                           id_card: Annotated[str | None, Query(max_length=18)] = None,
                           card_no: Annotated[ShortIdent | None, Query()] = None,
                           name: Annotated[Name | None, Query(description="prefix of the full name")] = None,
                           reason: Reason = "not given") -> dict[str, Any]:
        """Search the files the caller may see (M-07) by mobile or ID card (found by keyed hash, never stored in
        clear), card number, name (prefix) or state; the result is written to the access log."""
        return {"members": await files.search(p, mobile, status, reason, id_card=id_card, card_no=card_no,
                                              name=name)}

    @r.get("/member-files:export")
    async def export_files(p: As_files_export, status: Annotated[str | None, Query(max_length=20)] = None,
                           reason: Reason = "not given") -> dict[str, Any]:
        """Bulk export (its own permission, M-07), logged with every member id exported."""
        return {"members": await files.search(p, None, status, reason, export=True, limit=10000)}

    @r.post("/member-files/{member_id}/merge")
    async def merge_files(member_id: str, body: MergeIn, p: Annotated[Principal, allow("files.merge")]
                          ) -> dict[str, Any]:
        """Merge a duplicate file of the same customer into this one by agreement, keeping one referrer (M-06):
        the duplicate ends deleted (soft) pointing here; its consumption history stays; the merge is audited."""
        return await merges.merge(p, member_id, body)

    @r.post("/member-files/{member_id}/review")
    async def review_file(member_id: str, body: ReviewIn, p: As_files_review) -> dict[str, Any]:
        """Approve (card issued, the member earns) or reject a complete file (M-04)."""
        return await files.review(p, member_id, body)

    @r.get("/review-queue")
    async def review_queue(p: As_files_review_queue) -> dict[str, Any]:
        """Files waiting for review with their age; overdue past the 12-hour target (M-04)."""
        return {"items": await files.review_queue(p)}

    @r.post("/member-files/{member_id}/card:report-lost")
    async def report_lost(member_id: str, p: As_cards_report_lost) -> dict[str, Any]:
        """Block the lost card at once and issue a new number (M-17)."""
        return await files.report_lost(p, member_id)

    @r.post("/blacklist", status_code=201)
    async def add_blacklist(body: BlacklistIn, p: As_blacklist_add) -> dict[str, Any]:
        """Blacklist a phone + name for every store (M-16)."""
        return await files.add_to_blacklist(p, body)

    @r.get("/access-log")
    async def read_access_log(p: As_access_log_read, staff_id: Annotated[str | None, Query(max_length=64)] = None,
                              member_id: Annotated[str | None, Query(max_length=32)] = None,
                              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """Who read which member files, when and why (M-07)."""
        return {"entries": await files.access_entries(staff_id, member_id, limit)}

    @r.get("/spot-check")
    async def spot_check(p: As_files_spot_check, size: Annotated[int, Query(ge=1, le=200)] = 10,
                         reason: Reason = "spot check") -> dict[str, Any]:
        """A random sample of approved files for HQ customer service (M-04); the sample is access-logged."""
        return {"members": await flows.spot_check(p, size, reason)}

    @r.put("/reviewer-leave")
    async def go_on_leave(body: LeaveIn, p: Annotated[Principal, allow("reviewers.leave")]) -> dict[str, Any]:
        """An HQ reviewer goes on leave naming a delegate: account and deletion requests assigned to them are
        routed to the delegate (queue and decision) until the leave ends (O-03)."""
        return await flows.set_leave(p, body)

    @r.delete("/reviewer-leave")
    async def back_from_leave(p: Annotated[Principal, allow("reviewers.leave")]) -> dict[str, Any]:
        """Back from leave: the reviewer's items come back to them (O-03)."""
        return await flows.end_leave(p)

    for kind in REQUEST_KINDS:
        request_routes(r, kind, flows, allow)
    handover_routes(r, handovers, allow)
    engagement_routes(r, engagement, allow)
    return r


def engagement_routes(r: APIRouter, e: Engagement, allow: Any) -> None:
    """Revisits and prospects (M-20), staff KPIs (M-21)."""

    @r.post("/member-files/{member_id}/revisits", status_code=201)
    async def log_revisit(member_id: str, body: RevisitIn, p: Annotated[Principal, allow("revisits.log")]
                          ) -> dict[str, Any]:
        """Log a revisit of a member: what was said and the next date (M-20)."""
        return await e.log_revisit(p, member_id, body)

    @r.get("/revisits/plan")
    async def revisit_plan(p: Annotated[Principal, allow("revisits.plan")],
                           on: Annotated[dt.date | None, Query()] = None) -> dict[str, Any]:
        """Members and prospects due a visit, and the holiday calls to key accounts (M-20)."""
        return await e.plan(p, on)

    @r.post("/prospects", status_code=201)
    async def add_prospect(body: ProspectIn, p: Annotated[Principal, allow("prospects.create")]) -> dict[str, Any]:
        """A prospect with intent H/A/B/C; the next visit follows from the level (M-20)."""
        return await e.add_prospect(p, body)

    @r.get("/kpi")
    async def staff_kpi(p: Annotated[Principal, allow("kpi.read")],
                        period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
                        store_id: Annotated[str | None, Query(max_length=32)] = None) -> dict[str, Any]:
        """Held members per staff member against their position's 9-month ramp, and members lost (M-21)."""
        return await e.kpis(p, period, store_id)


def handover_routes(r: APIRouter, hs: Handovers, allow: Any) -> None:
    """M-12: request, then one route per step; the actor of each step is the role matrix's."""

    @r.post("/handovers", status_code=201)
    async def request_handover(body: HandoverIn, p: Annotated[Principal, allow("handovers.request")]
                               ) -> dict[str, Any]:
        """Ask to hand a referrer's members (all, or some) to a colleague (M-12)."""
        return await hs.request(p, body)

    @r.get("/handovers/{handover_id}")
    async def read_handover(handover_id: str, p: Annotated[Principal, allow("handovers.read")]) -> dict[str, Any]:
        """The hand-over record: state, members, every step with who and when (M-12)."""
        return await hs.get(p, handover_id)

    for step in STEPS.values():
        def make(name: str) -> Any:
            async def take(handover_id: str, body: StepIn, p: Annotated[Principal, allow(STEPS[name].action)]
                           ) -> dict[str, Any]:
                return await hs.step(p, handover_id, name, body)
            return take

        r.add_api_route(f"/handovers/{{handover_id}}/{step.name}", make(step.name), methods=["POST"],
                        name=f"handover_{step.name}", summary=f"Hand-over step '{step.name}': "
                        f"{step.from_state} → {step.to_state} (M-12)")

    for fstep in FILE_STEPS.values():
        def make_file(name: str) -> Any:
            async def take(handover_id: str, member_id: str, body: StepIn,
                           p: Annotated[Principal, allow(FILE_STEPS[name].action)]) -> dict[str, Any]:
                return await hs.file_step(p, handover_id, member_id, name, body)
            return take

        r.add_api_route(f"/handovers/{{handover_id}}/files/{{member_id}}/{fstep.name}", make_file(fstep.name),
                        methods=["POST"], name=f"handover_file_{fstep.name}",
                        summary=f"Hand-over, per file: '{fstep.name}' (M-12)" + (
                            " — the receiver re-checks the file" if fstep.name == "recheck" else
                            " — the store manager approves the re-checked file, or sends it back (decision=reject);"
                            " the last approval completes the hand-over"))


def request_routes(r: APIRouter, k: RequestKind, flows: Workflows, allow: Any) -> None:
    """Raise / decide / list one kind of request; who may do each is the role matrix's (O-02)."""
    Raiser = Annotated[Principal, allow(f"{k.prefix}.request")]
    Decider = Annotated[Principal, allow(f"{k.prefix}.decide")]
    Reader = Annotated[Principal, allow(f"{k.prefix}.queue")]

    async def raise_(body: RequestIn, p: Raiser) -> dict[str, Any]:
        return await flows.raise_request(k, p, body)

    async def decide(request_id: str, body: DecisionIn, p: Decider) -> dict[str, Any]:
        return await flows.decide(k, p, request_id, body)

    async def queue(p: Reader, status: Annotated[str, Query(pattern="^(pending|approved|rejected)$")] = "pending"
                    ) -> dict[str, Any]:
        return {"items": await flows.queue(k, p, status)}

    r.add_api_route(f"/{k.collection}", raise_, methods=["POST"], status_code=201,
                    summary=f"Raise a {k.kind} request ({k.rule})", name=f"raise_{k.kind}")
    r.add_api_route(f"/{k.collection}/{{request_id}}/decision", decide, methods=["POST"],
                    summary=f"Decide a {k.kind} request ({k.rule})", name=f"decide_{k.kind}")
    r.add_api_route(f"/{k.collection}", queue, methods=["GET"], name=f"queue_{k.kind}",
                    summary=f"{k.kind} requests with their age; overdue past {k.target_hours} h ({k.rule})")
