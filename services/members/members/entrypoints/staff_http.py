"""Members HTTP API for staff (token from /v1/auth/login); every route names its action in the role matrix (O-02).
Thin routes: the bodies are `schemas.py`'s, the decisions the services'."""


from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.errors import RuleViolation
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Name, ShortIdent

from ..adapters.reports import Reports
from ..domain.access import MATRIX, REQUEST_KINDS, RequestKind
from ..domain.handover import FILE_STEPS, STEPS
from ..service.engagement import Engagement
from ..service.files import MemberFiles
from ..service.handovers import Handovers
from ..service.merges import Merges
from ..service.staffauth import StaffLogin
from ..service.workflows import Workflows
from .schemas import (
    AccessLog,
    AccessReason,
    BackFromLeave,
    BlacklistIn,
    BlacklistOut,
    CardReplacedOut,
    Day,
    DecisionIn,
    FileChange,
    FileHistory,
    FileIn,
    FileSaved,
    HandoverFileStepOut,
    HandoverIn,
    HandoverOut,
    HandoverRequested,
    HandoverStepOut,
    IdCardQuery,
    KpiOut,
    LeaveIn,
    LeaveOut,
    LoggedOut,
    LoginIn,
    MemberFile,
    MemberId,
    MergeIn,
    MergeOut,
    Mobile,
    Period,
    ProspectIn,
    ProspectOut,
    RefreshIn,
    RequestDecided,
    RequestIn,
    RequestQueue,
    RequestRaised,
    ReviewIn,
    ReviewOut,
    ReviewQueue,
    RevisitIn,
    RevisitOut,
    RevisitPlan,
    StaffId,
    StatusFilter,
    StepIn,
    StoreDay,
    StoreId,
    TodayOut,
    TokenOut,
)
from .schemas import MemberFiles as MemberFileList

Reason = Annotated[AccessReason, Header(alias="X-Access-Reason",
                                        description="M-07: why the file is read (written to the access log)")]
MemberPath = Annotated[MemberId, Path(description="a member file's id")]
HandoverPath = Annotated[MemberId, Path(description="a hand-over's id")]
RequestPath = Annotated[MemberId, Path(description="a request's id")]
FileStatus = Annotated[StatusFilter | None, Query(description="a file state, e.g. pending_review")]


def router(files: MemberFiles, login: StaffLogin, verifier: TokenVerifier, flows: Workflows,
           handovers: Handovers, engagement: Engagement, merges: Merges, reports: Reports) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["staff"], responses=PROBLEM_RESPONSES)

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
    async def staff_login(body: LoginIn, request: Request) -> TokenOut:
        """Log in with staff id and password; answers a short-lived signed staff token and a refresh token (O-02,
        O-03). Failed logins are throttled per staff id and per client address (429 with Retry-After)."""
        address = request.client.host if request.client else ""
        return TokenOut.model_validate(await login.login(body.staff_id, body.password, address))

    @r.post("/auth/token:refresh")
    async def staff_refresh(body: RefreshIn) -> TokenOut:
        """Renew a staff token with the refresh token (spent: a new one is answered; O-03). Refused once the person
        left or changed role, store or password."""
        return TokenOut.model_validate(await login.refresh(body.refresh_token))

    @r.post("/auth/logout")
    async def staff_logout(body: RefreshIn) -> LoggedOut:
        """Log out: the refresh token is revoked at once and can renew nothing more (O-03); the person's other
        sessions stay. The refresh token is the credential (the staff token may already have lapsed); an unknown or
        spent one is answered the same."""
        await login.logout(body.refresh_token)
        return LoggedOut()

    @r.post("/member-files", status_code=201)
    async def create_file(body: FileIn, p: As_files_create) -> FileSaved:
        """Open a member file (M-01, M-02); complete files go to review (M-03, M-04)."""
        return FileSaved(**await files.create(p, body))

    @r.patch("/member-files/{member_id}")
    async def change_file(member_id: MemberPath, body: FileChange, p: As_files_update) -> FileSaved:
        """Complete or change a file; the change goes back through review (M-03, M-13)."""
        return FileSaved(**await files.change(p, member_id, body))

    @r.get("/member-files/{member_id}")
    async def read_file(p: As_files_read, member_id: MemberPath, reason: Reason = "not given") -> MemberFile:
        """One file the caller may see (M-07); the read is written to the access log."""
        return MemberFile(**await files.read(p, member_id, reason))

    @r.get("/stats/today")
    async def today(p: Annotated[Principal, allow("stats.today")],
                    tz: Annotated[str, Query(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$", max_length=64)]
                    = "Asia/Shanghai") -> TodayOut:
        """Today so far per store, from the local midnight of `tz`: member files opened, member sales and their
        amount. HQ and auditors see every store; a store's manager and customer-service manager their own (O-02)."""
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleViolation("input", "tz", "an IANA time zone, e.g. Asia/Shanghai") from None
        since = datetime.combine(datetime.now(zone).date(), time(0), zone)
        mine = None if p.role in (Role.HQ_ADMIN, Role.HQ_CS, Role.AUDITOR) else p.store_id
        return TodayOut(since=since.isoformat(), stores=[StoreDay(**x) for x in await reports.today(mine, since)])

    @r.get("/member-files/{member_id}/history")
    async def file_history(p: As_files_read, member_id: MemberPath, reason: Reason = "not given",
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> FileHistory:
        """A file's history for the member page (M-07 decides, the read is access-logged): every state change with
        who, when and why, every card issued (M-17), revisits (M-20) and purchases, newest first."""
        return FileHistory.model_validate(await files.history(p, member_id, reason, limit))

    @r.get("/member-files")
    async def search_files(p: As_files_search,
                           mobile: Annotated[Mobile | None, Query(description="M-02; normalised")] = None,
                           status: FileStatus = None,
                           id_card: Annotated[IdCardQuery | None, Query()] = None,
                           card_no: Annotated[ShortIdent | None, Query()] = None,
                           name: Annotated[Name | None, Query(description="prefix of the full name")] = None,
                           reason: Reason = "not given") -> MemberFileList:
        """Search the files the caller may see (M-07) by mobile or ID card (keyed hash), card number, name (prefix)
        or state; access-logged."""
        return MemberFileList.model_validate({"members": await files.search(p, mobile, status, reason,
                                                                            id_card=id_card, card_no=card_no,
                                                                            name=name)})

    @r.get("/member-files:export")
    async def export_files(p: As_files_export, status: FileStatus = None,
                           reason: Reason = "not given") -> MemberFileList:
        """Bulk export (its own permission, M-07), logged with every member id exported; at most 10,000 files,
        answered at once. Any number, in the background with progress: POST /v1/member-file-exports."""
        return MemberFileList.model_validate({"members": await files.search(p, None, status, reason, export=True,
                                                                            limit=10000)})

    @r.post("/member-files/{member_id}/merge")
    async def merge_files(member_id: MemberPath, body: MergeIn, p: Annotated[Principal, allow("files.merge")]
                          ) -> MergeOut:
        """Merge a duplicate file of the same customer into this one by agreement, keeping one referrer (M-06)."""
        return MergeOut(**await merges.merge(p, member_id, body))

    @r.post("/member-files/{member_id}/review")
    async def review_file(member_id: MemberPath, body: ReviewIn, p: As_files_review) -> ReviewOut:
        """Approve (card issued, the member earns) or reject a complete file (M-04)."""
        return ReviewOut(**await files.review(p, member_id, body))

    @r.get("/review-queue")
    async def review_queue(p: As_files_review_queue, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ReviewQueue:
        """Files waiting for review with their age, oldest first, one page; overdue past the 12-hour target
        (M-04); `total` and `overdue` count the whole queue."""
        return ReviewQueue.model_validate(await files.review_queue(p, page, limit))

    @r.post("/member-files/{member_id}/card:report-lost")
    async def report_lost(member_id: MemberPath, p: As_cards_report_lost) -> CardReplacedOut:
        """Block the lost card at once and issue a new number (M-17)."""
        return CardReplacedOut(**await files.report_lost(p, member_id))

    @r.post("/blacklist", status_code=201)
    async def add_blacklist(body: BlacklistIn, p: As_blacklist_add) -> BlacklistOut:
        """Blacklist a phone + name for every store (M-16)."""
        return BlacklistOut(**await files.add_to_blacklist(p, body))

    @r.get("/access-log")
    async def read_access_log(p: As_access_log_read, staff_id: Annotated[StaffId | None, Query()] = None,
                              member_id: Annotated[MemberId | None, Query()] = None,
                              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AccessLog:
        """Who read which member files, when and why (M-07)."""
        return AccessLog.model_validate({"entries": await reports.access_entries(staff_id, member_id, limit)})

    @r.get("/spot-check")
    async def spot_check(p: As_files_spot_check, size: Annotated[int, Query(ge=1, le=200)] = 10,
                         reason: Reason = "spot check") -> MemberFileList:
        """A random sample of approved files for HQ customer service (M-04); the sample is access-logged."""
        return MemberFileList.model_validate({"members": await flows.spot_check(p, size, reason)})

    @r.put("/reviewer-leave")
    async def go_on_leave(body: LeaveIn, p: Annotated[Principal, allow("reviewers.leave")]) -> LeaveOut:
        """An HQ reviewer goes on leave naming a delegate, who decides their requests until it ends (O-03)."""
        return LeaveOut(**await flows.set_leave(p, body))

    @r.delete("/reviewer-leave")
    async def back_from_leave(p: Annotated[Principal, allow("reviewers.leave")]) -> BackFromLeave:
        """Back from leave: the reviewer's items come back to them (O-03)."""
        return BackFromLeave(**await flows.end_leave(p))

    for kind in REQUEST_KINDS:
        request_routes(r, kind, flows, allow)
    handover_routes(r, handovers, allow)
    engagement_routes(r, engagement, allow)
    return r


def engagement_routes(r: APIRouter, e: Engagement, allow: Any) -> None:
    """Revisits and prospects (M-20), staff KPIs (M-21)."""

    @r.post("/member-files/{member_id}/revisits", status_code=201)
    async def log_revisit(member_id: MemberPath, body: RevisitIn, p: Annotated[Principal, allow("revisits.log")]
                          ) -> RevisitOut:
        """Log a revisit of a member: what was said and the next date (M-20)."""
        return RevisitOut(**await e.log_revisit(p, member_id, body))

    @r.get("/revisits/plan")
    async def revisit_plan(p: Annotated[Principal, allow("revisits.plan")],
                           on: Annotated[Day | None, Query(description="default: today")] = None) -> RevisitPlan:
        """Members and prospects due a visit, and the holiday calls to key accounts (M-20)."""
        return RevisitPlan.model_validate(await e.plan(p, on))

    @r.post("/prospects", status_code=201)
    async def add_prospect(body: ProspectIn, p: Annotated[Principal, allow("prospects.create")]) -> ProspectOut:
        """A prospect with intent H/A/B/C; the next visit follows from the level (M-20)."""
        return ProspectOut(**await e.add_prospect(p, body))

    @r.get("/kpi")
    async def staff_kpi(p: Annotated[Principal, allow("kpi.read")], period: Annotated[Period, Query()],
                        store_id: Annotated[StoreId | None, Query(description="HQ only")] = None) -> KpiOut:
        """Held members per staff member against their position's 9-month ramp, and members lost (M-21)."""
        return KpiOut.model_validate(await e.kpis(p, period, store_id))


def handover_routes(r: APIRouter, hs: Handovers, allow: Any) -> None:
    """M-12: request, then one route per step; the actor of each step is the role matrix's."""

    @r.post("/handovers", status_code=201)
    async def request_handover(body: HandoverIn, p: Annotated[Principal, allow("handovers.request")]
                               ) -> HandoverRequested:
        """Ask to hand a referrer's members (all, or some) to a colleague (M-12)."""
        return HandoverRequested(**await hs.request(p, body))

    @r.get("/handovers/{handover_id}")
    async def read_handover(handover_id: HandoverPath, p: Annotated[Principal, allow("handovers.read")]
                            ) -> HandoverOut:
        """The hand-over record: state, members, every step with who and when (M-12)."""
        return HandoverOut.model_validate(await hs.get(p, handover_id))

    for step in STEPS.values():
        def make(name: str) -> Any:
            async def take(handover_id: HandoverPath, body: StepIn,
                           p: Annotated[Principal, allow(STEPS[name].action)]) -> HandoverStepOut:
                return HandoverStepOut(**await hs.step(p, handover_id, name, body))
            return take

        r.add_api_route(f"/handovers/{{handover_id}}/{step.name}", make(step.name), methods=["POST"],
                        response_model=HandoverStepOut, name=f"handover_{step.name}",
                        summary=f"Hand-over step '{step.name}': {step.from_state} → {step.to_state} (M-12)")

    for fstep in FILE_STEPS.values():
        def make_file(name: str) -> Any:
            async def take(handover_id: HandoverPath, member_id: MemberPath, body: StepIn,
                           p: Annotated[Principal, allow(FILE_STEPS[name].action)]) -> HandoverFileStepOut:
                return HandoverFileStepOut(**await hs.file_step(p, handover_id, member_id, name, body))
            return take

        r.add_api_route(f"/handovers/{{handover_id}}/files/{{member_id}}/{fstep.name}", make_file(fstep.name),
                        methods=["POST"], response_model=HandoverFileStepOut, name=f"handover_file_{fstep.name}",
                        summary=f"Hand-over, per file: '{fstep.name}' (M-12)" + (
                            " — the receiver re-checks the file" if fstep.name == "recheck" else
                            " — the store manager approves the re-checked file, or sends it back (decision=reject);"
                            " the last approval completes the hand-over"))


def request_routes(r: APIRouter, k: RequestKind, flows: Workflows, allow: Any) -> None:
    """Raise / decide / list one kind of request; who may do each is the role matrix's (O-02)."""
    Raiser = Annotated[Principal, allow(f"{k.prefix}.request")]
    Decider = Annotated[Principal, allow(f"{k.prefix}.decide")]
    Reader = Annotated[Principal, allow(f"{k.prefix}.queue")]

    async def raise_(body: RequestIn, p: Raiser) -> RequestRaised:
        return RequestRaised(**await flows.raise_request(k, p, body))

    async def decide(request_id: RequestPath, body: DecisionIn, p: Decider) -> RequestDecided:
        return RequestDecided(**await flows.decide(k, p, request_id, body))

    async def queue(p: Reader, status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RequestQueue:
        return RequestQueue.model_validate(await flows.queue(k, p, status, page, limit))

    r.add_api_route(f"/{k.collection}", raise_, methods=["POST"], status_code=201, response_model=RequestRaised,
                    summary=f"Raise a {k.kind} request ({k.rule})", name=f"raise_{k.kind}")
    r.add_api_route(f"/{k.collection}/{{request_id}}/decision", decide, methods=["POST"],
                    response_model=RequestDecided, summary=f"Decide a {k.kind} request ({k.rule})",
                    name=f"decide_{k.kind}")
    r.add_api_route(f"/{k.collection}", queue, methods=["GET"], response_model=RequestQueue, name=f"queue_{k.kind}",
                    summary=f"{k.kind} requests with their age, oldest first, a page at a time; overdue past "
                            f"{k.target_hours} h ({k.rule})")
