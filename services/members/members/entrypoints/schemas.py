"""Every request and response body of the members HTTP API, built from `vipcore.inputs` types.

Request bodies refuse unknown fields (`RequestModel`); identifiers, text, dates and mobiles are bounded
here, so nothing reaches the database or an event that either would refuse. Mobiles are normalised
(`+86 138-0013-8000` and full-width digits become `13800138000`) before M-02 is checked, so one phone
has one spelling, one keyed hash and one file (M-02, M-06, M-16).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, Strict, field_validator
from vipcore.auth import Role
from vipcore.inputs import (
    AwareTime,
    Ident,
    IdentOf,
    Mobile,
    RequestModel,
    ResponseModel,
    ShortIdent,
    TextOf,
    normalize_mobile,
)

# -- members' own input types ----------------------------------------------------------------------


def _normalised(v: Any) -> Any:
    return normalize_mobile(v) if isinstance(v, str) else v


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(v: str) -> str:
    if v not in _zones():
        raise ValueError("must be an IANA time zone, e.g. Asia/Shanghai")
    return v


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)

FileMobile = Annotated[str, TextOf(32), BeforeValidator(_normalised), Field(
    examples=["13800138000"], description="mainland mobile, normalised like every mobile; M-02 is checked with "
                                          "the file's other fields, so every fault is named in one answer")]
"""A mobile on a member file or prospect: normalised here, M-02 checked by the domain with the other fields."""
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY, examples=["2026-11-22"])]
"""A calendar day between 1900 and 2100 (business dates, birthdays, next visits)."""
Period = Annotated[str, Field(pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$", examples=["2026-10"],
                              description="a calendar month, YYYY-MM")]
"""A calendar month 'YYYY-MM' between 1900 and 2199."""
ProgramId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", examples=["generic"])]
"""A loyalty program's id (programs/*.yaml)."""
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{3}$", examples=["029"])]
"""A store's region code: three ASCII digits; card numbers start with it (M-17)."""
TimeZone = Annotated[str, TextOf(64, min_length=1), AfterValidator(_zone), Field(examples=["Asia/Shanghai"])]
"""An IANA time zone the server knows (business days use the store's zone)."""
StaffId = Ident
StoreId = ShortIdent
MemberId = ShortIdent
Name40 = Annotated[str, TextOf(40)]
ShortName = Annotated[str, TextOf(40, min_length=1)]
FullName = Annotated[str, TextOf(40, min_length=2)]
Position = Annotated[str, TextOf(60, min_length=1)]
Reason = Annotated[str, TextOf(500, min_length=2)]
Note = Annotated[str, TextOf(500)]
Password = Annotated[str, TextOf(200, min_length=10)]
LoginPassword = Annotated[str, TextOf(200, min_length=1)]
Line18 = Annotated[str, TextOf(18)]
Line20 = Annotated[str, TextOf(20)]
Line40 = Annotated[str, TextOf(40)]
Line60 = Annotated[str, TextOf(60)]
Line100 = Annotated[str, TextOf(100)]
Line200 = Annotated[str, TextOf(200)]
Summary = Annotated[str, TextOf(1000, min_length=2, multiline=True)]
AccessReason = Annotated[str, TextOf(200)]
FileName = Annotated[str, TextOf(200, min_length=1)]
MappingJson = Annotated[str, TextOf(4000)]
StatusFilter = Annotated[str, TextOf(20, min_length=1)]
IdCardQuery = Annotated[str, TextOf(18, min_length=1)]
Hours = Annotated[int, Strict(), Field(ge=1, le=72)]


# -- admin (HQ) ------------------------------------------------------------------------------------

class StoreIn(RequestModel):
    """A store and the program it runs (O-01)."""

    store_id: StoreId
    name: ShortName
    region_code: RegionCode
    timezone: TimeZone = "Asia/Shanghai"
    program: ProgramId


class StaffIn(RequestModel):
    """A staff member of a store (O-01); new or changed ones are published to the staff directory."""

    staff_id: StaffId
    store_id: StoreId
    name: ShortName
    position: Position
    role: Role = Role.STAFF
    mobile: Mobile | None = Field(None, description=(
        "M-02 mobile: work number for service SMS (C-07), kept encrypted; M-05: matched against members"))
    line_leader_staff_id: StaffId | None = Field(None, description="C-06: the staff member's line leader")
    password: Password | None = Field(None, description="O-03: opens the account (stored as scrypt)")
    started_on: Day | None = Field(None, description="M-21: first day in the position (KPI ramp month 1)")

    @field_validator("role", mode="before")
    @classmethod
    def _legacy_role(cls, v: object) -> object:
        return "store_cs_manager" if v == "cs_manager" else v  # the name the first demo used


class MemberIn(RequestModel):
    """A member registered by HQ with a card at once (M-17)."""

    store_id: StoreId
    full_name: FullName
    mobile: Mobile
    birthday: Day | None = None
    referrer_staff_id: StaffId | None = None


class MonthIn(RequestModel):
    period: Period


class DayIn(RequestModel):
    date: Day


class ValidityIn(RequestModel):
    validity_years: Literal[1, 2] = Field(description="M-17: cards of the program are valid 1 or 2 years")


class StoreOut(ResponseModel):
    store_id: str


class CountOut(ResponseModel):
    count: int


class PublishedOut(ResponseModel):
    published: int


class StaffLeftOut(ResponseModel):
    staff_id: str
    active: bool


class RegisteredMember(ResponseModel):
    member_id: str
    card_no: str
    store_id: str


class RegisteredOut(ResponseModel):
    members: list[RegisteredMember]


class MemberSummary(ResponseModel):
    """A member as HQ admin sees it: the name masked."""

    member_id: str
    store_id: str
    display_name: str
    card_no: str | None
    card_status: str
    status: str
    referrer_staff_id: str | None


class Consumption(ResponseModel):
    sale_id: str
    member_id: str
    store_id: str
    cashier_staff_id: str | None = None
    booked_by_staff_id: str | None = None
    amount: int = Field(description="fen")
    occurred_at: str


class ConsumptionsOut(ResponseModel):
    member_id: str
    consumptions: list[Consumption]


class ImportStarted(ResponseModel):
    import_id: str
    progress: str = Field(description="where to follow the import")


class ImportProgress(ResponseModel):
    import_id: str
    store_id: str
    filename: str
    status: Literal["running", "done", "failed"]
    total: int
    processed: int
    imported: int
    rejected: int
    started_at: str
    finished_at: str | None
    percent: float
    seconds: float
    started_by: str | None = Field(None, description="who started it (staff id from the token); none before "
                                                     "members_0007")


class ImportList(ResponseModel):
    imports: list[ImportProgress] = Field(description="newest first")
    next_before: str | None = Field(description="pass as `before` for the next page; none on the last page")


class MonthEndOut(ResponseModel):
    period: str
    detached: int
    claimed: int
    tied: int
    already_ran: bool


class DailyOut(ResponseModel):
    date: str
    purged: int
    dormant: int
    expired: int
    already_ran: bool


class CardValidityOut(ResponseModel):
    program: str
    validity_years: int
    source: Literal["hq_setting", "program_document", "default"]


# -- staff: login and member files -----------------------------------------------------------------

class LoginIn(RequestModel):
    staff_id: StaffId
    password: LoginPassword


class RefreshIn(RequestModel):
    """O-03: the refresh token answered by the login (or the last refresh); it is spent by this call."""

    refresh_token: Annotated[str, IdentOf(100)]


class LoggedOut(ResponseModel):
    """O-03: the session of that refresh token is over (answered alike for a token unknown or already spent)."""

    logged_out: bool = True


class TokenOut(ResponseModel):
    token: str = Field(description="the staff token (Ed25519 JWT) for `Authorization: Bearer`; short-lived")
    token_type: str
    expires_in: int = Field(description="seconds the staff token is valid; renew it with the refresh token")
    refresh_token: str = Field(description="opaque, single use: POST /v1/auth/token:refresh answers a new pair")
    staff_id: str
    store_id: str | None
    region_code: str | None
    role: str


class FileIn(RequestModel):
    """A member file as entered by staff (M-01); stage 2 fields may follow later (M-03)."""

    full_name: Name40
    gender: Literal["female", "male"] | None = None
    mobile: FileMobile = Field(description="M-02: mainland mobile, 11 digits (normalised)")
    birth_date: Line20 | None = Field(
        None, description="M-01: YYYY-MM-DD, or --MM-DD when the year is unknown")
    address: Line200 | None = None
    work_unit: Line100 | None = None
    position: Line60 | None = None
    customer_class: Line40 | None = None
    account_size: Line20 | None = None
    id_card: Line18 | None = None
    referrer_staff_id: StaffId | None = Field(None, description="store leads may enter a file for a staff member")


class FileChange(RequestModel):
    """M-13: a change to a file; it goes back through review."""

    full_name: Name40 | None = None
    gender: Literal["female", "male"] | None = None
    mobile: FileMobile | None = None
    birth_date: Line20 | None = None
    address: Line200 | None = None
    work_unit: Line100 | None = None
    position: Line60 | None = None
    customer_class: Line40 | None = None
    account_size: Line20 | None = None
    id_card: Line18 | None = None


class ReviewIn(RequestModel):
    decision: Literal["approve", "reject"]
    note: Note | None = None


class BlacklistIn(RequestModel):
    mobile: Mobile
    full_name: ShortName
    reason: Reason


class BlacklistLiftIn(RequestModel):
    """M-16: why the listing is lifted (listed by mistake, the conduct settled); kept with the entry."""

    reason: Reason = Field(examples=["误列：同名不同人，门店已核实"])


class FileSaved(ResponseModel):
    member_id: str
    status: str
    stage: int = Field(description="M-03: 0 basic incomplete, 1 basic complete, 2 complete")
    missing: list[str]


class MemberFile(ResponseModel):
    """A file as the caller's role may see it: mobile and ID card masked unless the role needs them (M-07)."""

    member_id: str
    store_id: str
    referrer_staff_id: str | None
    full_name: str
    mobile: str
    id_card: str | None
    status: str
    stage: int
    card_no: str | None
    card_status: str
    gender: str | None = None
    birth_date: str | None = None
    address: str | None = None
    work_unit: str | None = None
    position: str | None = None
    customer_class: str | None = None
    account_size: str | None = None
    created_at: str
    review_note: str | None


class MemberFiles(ResponseModel):
    members: list[MemberFile]


class FileEvent(ResponseModel):
    at: str | None
    event: str = Field(description="opened, submitted, changed (M-13: the fields and the states), reviewed (M-04; "
                                   "the note starts with approved / rejected), merged_in / merged_into (M-06), "
                                   "blacklisted (M-16), handover_requested / handed_over (M-12), <kind>_requested "
                                   "and <kind>_<decision> for deletion (M-15), grant (M-07) and account requests")
    by: str | None = Field(description="the staff member who did it")
    note: str | None


class CardHistory(ResponseModel):
    card_no: str
    store_id: str
    status: str
    issued_at: str | None
    valid_until: str | None
    replaced_by: str | None


class RevisitDone(ResponseModel):
    at: str | None
    staff_id: str
    summary: str
    next_date: str | None


class Purchase(ResponseModel):
    sale_id: str
    store_id: str
    amount: int = Field(description="fen")
    cashier_staff_id: str | None
    occurred_at: str | None


class StoreDay(ResponseModel):
    store_id: str
    new_members: int = Field(description="member files opened since the local midnight")
    member_sales: int = Field(description="member sales recorded since the local midnight")
    member_sales_amount: int = Field(description="their amount, fen")


class TodayOut(ResponseModel):
    """A day so far per store (the console's dashboard): HQ every store, a store's leads their own."""

    since: str
    stores: list[StoreDay]


class FileHistory(ResponseModel):
    """A file's history (the console's member page): states newest first, every card issued, revisits, purchases."""

    member_id: str
    status: str
    events: list[FileEvent]
    cards: list[CardHistory]
    revisits: list[RevisitDone]
    consumptions: list[Purchase]


class ReviewOut(ResponseModel):
    member_id: str
    status: str
    card_no: str | None


class ReviewItem(ResponseModel):
    member_id: str
    store_id: str
    display_name: str
    referrer_staff_id: str | None
    age_hours: float
    overdue: bool


class ReviewQueue(ResponseModel):
    items: list[ReviewItem] = Field(description="one page, oldest submission first")
    total: int = Field(0, description="files waiting for review that the caller may see, over every page")
    overdue: int = Field(0, description="of those, waiting longer than the 12-hour target (M-04)")
    page: int = 1
    limit: int = 100


class CardReplacedOut(ResponseModel):
    member_id: str
    blocked_card_no: str
    card_no: str
    valid_until: str


class BlacklistOut(ResponseModel):
    store_id: str
    since: str
    members: list[str]
    entry_id: int = Field(description="the listing in force (lift it with POST /v1/blacklist/{entry_id}/lift)")


class BlacklistLifted(ResponseModel):
    entry_id: int
    store_id: str = Field(description="the store that had listed it")
    lifted_at: str
    lifted_by: str = Field(description="from the staff token")
    reason: str
    restored: dict[str, str] = Field(description="member_id → the state each blacklisted file went back to")


class AccessEntry(ResponseModel):
    id: int
    at: str
    staff_id: str
    role: str
    action: str
    member_ids: list[str]
    reason: str


class AccessLog(ResponseModel):
    entries: list[AccessEntry]


class MergeIn(RequestModel):
    duplicate_member_id: MemberId = Field(description="the file that ends merged")
    referrer_staff_id: StaffId = Field(
        description="M-06: the referrer kept — one of the two files' referrers, agreed")
    reason: Reason = Field(examples=["same customer, second phone; 张 and 李 agreed"])


class MergeOut(ResponseModel):
    merge_id: str
    kept_member_id: str
    merged_member_id: str
    referrer_staff_id: str
    dropped_referrer_staff_id: str | None
    merged_state: str


# -- requests (O-03, M-15, M-07) and reviewer leave ------------------------------------------------

class AccountIn(RequestModel):
    staff_id: StaffId
    name: FullName
    position: Position
    role: Literal["staff", "store_manager", "store_cs_manager"] = "staff"
    mobile: Mobile | None = Field(None, description="M-02: work mobile for service SMS")
    line_leader_staff_id: StaffId | None = Field(None, description="C-06: the new hire's line leader")


class RequestIn(RequestModel):
    reason: Reason
    member_id: MemberId | None = Field(None, description="deletions and grants")
    account: AccountIn | None = Field(None, description="account requests (O-03)")
    hours: Hours = Field(8, description="grants: how long the grant lasts once approved")


class DecisionIn(RequestModel):
    decision: Literal["approve", "reject"]
    note: Note | None = Field(None, description="the decider's reason, kept and shown to the requester; required "
                                                "to reject a deletion request (M-15)")
    initial_password: Password | None = Field(None, description="account requests")


class RequestRaised(ResponseModel):
    request_id: str
    status: str
    reviewer: str | None
    routed_to: str | None


class RequestDecided(ResponseModel):
    request_id: str
    status: str
    valid_until: str | None


class RequestItem(ResponseModel):
    request_id: str
    store_id: str
    member_id: str | None
    raised_by: str
    reason: str
    status: str
    raised_at: str
    age_hours: float
    overdue: bool
    valid_until: str | None
    reviewer: str | None
    routed_to: str | None
    account: dict[str, Any] | None = Field(description="account requests: the account asked for, mobile masked")
    decided_by: str | None = Field(None, description="who approved or rejected it (from their staff token)")
    decided_at: str | None = None
    decision_note: str | None = Field(None, description="the decider's note; a rejected deletion always has one "
                                                        "(M-15), shown to the store that asked")
    target_hours: int = Field(12, description="the service target: decided within this many hours of raising")
    decided_in_hours: float | None = Field(None, description="decided ones: hours from raising to the decision")
    decided_late: bool = Field(False, description="decided after the target")


class RequestQueue(ResponseModel):
    items: list[RequestItem]
    total: int = Field(0, description="items of this status the caller may see, over every page")
    page: int = 1
    limit: int = 100


class LeaveIn(RequestModel):
    delegate_staff_id: StaffId = Field(description="another HQ reviewer")
    until: AwareTime = Field(description="end of the leave; items route back after it")


class LeaveOut(ResponseModel):
    staff_id: str
    delegate_staff_id: str
    until: str


class BackFromLeave(ResponseModel):
    staff_id: str
    on_leave: bool


# -- revisits, prospects, KPIs (M-20, M-21) --------------------------------------------------------

class RevisitIn(RequestModel):
    summary: Summary
    next_date: Day | None = Field(None, description="default: a year later (M-20: at least yearly)")


class RevisitOut(ResponseModel):
    member_id: str
    next_date: str


class ProspectIn(RequestModel):
    full_name: Name40
    mobile: FileMobile
    intent: Literal["H", "A", "B", "C"]
    note: Note | None = None


class ProspectOut(ResponseModel):
    prospect_id: str
    intent: str
    next_visit: str


class DueMember(ResponseModel):
    member_id: str
    display_name: str
    referrer_staff_id: str | None
    planned: str | None


class KeyAccount(ResponseModel):
    member_id: str
    display_name: str


class HolidayCalls(ResponseModel):
    holidays: list[str]
    key_accounts: list[KeyAccount]


class DueProspect(ResponseModel):
    prospect_id: str
    display_name: str
    intent: str
    next_visit: str


class RevisitPlan(ResponseModel):
    on: str
    members: list[DueMember]
    holiday_calls: HolidayCalls
    prospects: list[DueProspect]


class StaffKpi(ResponseModel):
    staff_id: str
    position: str
    month_in_position: int | None
    target: int | None
    held: int
    lost_this_month: int
    met: bool | None
    short_by: int | None


class KpiOut(ResponseModel):
    store_id: str | None
    period: str
    staff: list[StaffKpi]


# -- hand-overs (M-12) -----------------------------------------------------------------------------

class HandoverIn(RequestModel):
    from_staff_id: StaffId
    to_staff_id: StaffId
    type: Literal["same_position", "different_position"]
    reason: Reason = Field(examples=["resigned", "transferred", "long leave"])
    member_ids: list[MemberId] | None = Field(None, min_length=1, max_length=10000,
                                              description="default: all the referrer's files")


class StepIn(RequestModel):
    decision: Literal["approve", "reject"] = "approve"
    note: Note | None = None


class HandoverRequested(ResponseModel):
    handover_id: str
    state: str
    member_ids: list[str]


class HandoverStepOut(ResponseModel):
    handover_id: str
    state: str


class HandoverFileStepOut(ResponseModel):
    handover_id: str
    member_id: str
    file: Literal["approved", "rechecked", "to_recheck"]
    state: str


class HandoverFile(ResponseModel):
    member_id: str
    rechecked_by: str | None
    rechecked_at: str | None
    recheck_note: str | None
    approved_by: str | None
    approved_at: str | None
    approval_note: str | None


class HandoverSummary(ResponseModel):
    handover_id: str
    store_id: str
    from_staff_id: str
    to_staff_id: str
    type: str
    reason: str
    state: str
    raised_at: str
    files: int = Field(description="how many member files it moves")


class HandoverList(ResponseModel):
    handovers: list[HandoverSummary] = Field(description="newest first")
    next_before: str | None = Field(description="pass as `before` for the next page; none on the last page")


class HandoverOut(ResponseModel):
    handover_id: str
    store_id: str
    from_staff_id: str
    to_staff_id: str
    type: str
    reason: str
    member_ids: list[str]
    state: str
    history: list[dict[str, Any]] = Field(description="every step: {step, state, by, at, note}")
    raised_at: str
    files: list[HandoverFile]


# -- member-present proof for spending (L-07, L-11) --------------------------------------------------

Otp = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the 6-digit code the member received by SMS")]
Pin = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the member's 6-digit PIN")]


class ProofCodeIn(RequestModel):
    """Internal (gateway): send a one-time code to the member's registered mobile."""

    store_id: Ident
    cashier_staff_id: Ident | None = None


class ProofCodeOut(ResponseModel):
    method: Literal["sms_code"] = "sms_code"
    sent_to: str = Field(description="the registered mobile, masked")
    expires_at: str = Field(description="RFC 3339")


class ProofAnswerIn(RequestModel):
    otp: Otp | None = None
    pin: Pin | None = None


class ProofVerifyIn(RequestModel):
    """Internal (gateway): judge the member's answer for one spend; a proof token for loyalty if right."""

    store_id: Ident
    cashier_staff_id: Ident | None = None
    purpose: Literal["redeem", "stored_value"]
    ref: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
    amount: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]
    proof: ProofAnswerIn
    id_verified: bool = False


class ProofVerifyOut(ResponseModel):
    proof_token: str = Field(description="short-lived, signed by members, bound to member, store, purpose, "
                                          "reference and amount")
    method: str


class PinIn(RequestModel):
    """L-07, L-11: the member types a 6-digit PIN at the desk (stored as a salted scrypt hash)."""

    pin: Pin


class PinOut(ResponseModel):
    member_id: str
    pin_set: bool
    set_at: str


class ProofAuditEntry(ResponseModel):
    at: str
    member_id: str
    card_no: str | None = None
    store_id: str | None = None
    cashier_staff_id: str | None = None
    method: str
    outcome: str = Field(description="sent, send_failed, throttled, ok, replay, wrong, wrong_pin, expired, no_code, "
                                     "no_pin, locked, id_checked, pin_set")
    purpose: str | None = None
    ref: str | None = None


class ProofAuditOut(ResponseModel):
    member_id: str
    entries: list[ProofAuditEntry]


# -- the console's member-file desk (issue 12): blacklist, change record (M-13), duplicates (M-06) ----------------


class BlacklistEntry(ResponseModel):
    """One blacklisted phone + name (M-16): the store that listed it, who, why and since when; mobile masked."""

    store_id: str = Field(description="the store that listed it (M-16: named to every store)")
    full_name: str = Field(description="masked unless the role handles the blacklist (store CS manager, HQ CS)")
    mobile: str = Field(description="masked")
    listed_by: str
    reason: str
    since: str
    entry_id: int
    lifted_at: str | None = Field(None, description="lifted entries: when, by whom and why (kept as history)")
    lifted_by: str | None = None
    lift_reason: str | None = None


class BlacklistPage(ResponseModel):
    entries: list[BlacklistEntry]
    total: int
    page: int
    limit: int


class FieldChanged(ResponseModel):
    field: str
    before: str | None
    after: str | None


class FileStep(ResponseModel):
    """A change to a file (M-13) or a review decision on it (M-04), by whom and when."""

    id: int
    at: str
    by: str
    kind: Literal["changed", "approved", "rejected"]
    from_status: str
    to_status: str
    fields: list[FieldChanged] = Field(description="changed: each field before and after (mobile, ID card masked)")
    note: str | None


class FileSteps(ResponseModel):
    member_id: str
    status: str
    changes: list[FileStep] = Field(description="newest first")
    total: int
    page: int
    limit: int


# -- bulk export of member files as a job (M-07, issue 12: long work shows live progress) --------------------

class ExportIn(RequestModel):
    store_id: StoreId | None = Field(None, description="HQ: one store's files (default every store); a store "
                                                       "manager's export is their own store's, naming another is 403")
    status: StatusFilter | None = Field(None, description="a file state, e.g. active")
    registered_from: Day | None = Field(None, description="files registered on or after this day (in `tz`)")
    registered_to: Day | None = Field(None, description="files registered on or before this day (in `tz`)")
    tz: TimeZone = "Asia/Shanghai"
    reason: Annotated[str, TextOf(200, min_length=1)] = Field(
        description="why the files are exported: written to the access log with every member id (M-07)")


class ExportFilters(ResponseModel):
    store_id: str | None
    status: str | None
    registered_from: str | None
    registered_to: str | None
    tz: str


class ExportProgress(ResponseModel):
    export_id: str
    state: Literal["running", "done", "failed"]
    total: int = Field(description="files the export holds (counted at the start)")
    done: int = Field(description="files written so far")
    percent: float
    started_by: str = Field(description="the operator: staff id from the token")
    role: str
    reason: str
    filters: ExportFilters
    error: str | None = Field(description="why it failed (an interrupted job says so)")
    started_at: str
    finished_at: str | None
    expires_at: str = Field(description="the file is deleted after this")
    seconds: float
    file: str | None = Field(description="where to download it once done")


class ExportList(ResponseModel):
    exports: list[ExportProgress] = Field(description="newest first")
    next_before: str | None = Field(description="pass as `before` for the next page; none on the last page")
