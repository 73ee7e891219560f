"""Every request and response body of loyalty's HTTP API, built from the shared input types (vipcore.inputs).

Requests refuse unknown fields and coerce nothing; amounts are bounded so that nothing accepted here overflows a
BIGINT column or an answer's JSON. Answers declare what each route returns, so the OpenAPI document is the contract.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, TypeAdapter, model_validator
from vipcore.http import ProblemDoc
from vipcore.inputs import (
    Count,
    Ident,
    Money,
    PositiveMoney,
    PositivePoints,
    Quantity,
    RequestModel,
    ResponseModel,
    SignedPoints,
    TextOf,
)

# -- loyalty's own input types ----------------------------------------------------------------------


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except Exception:  # noqa: BLE001 - unknown key, a path, NUL: all mean "not a zone"
        raise ValueError("must be an IANA time zone, e.g. Asia/Shanghai") from None
    return v


TimeZone = Annotated[str, Field(min_length=1, max_length=64, examples=["Asia/Shanghai"]), AfterValidator(_zone)]
"""An IANA time zone name (stores' business days, birthdays at 08:00 local: L-10)."""

ReportDate = Annotated[date, Field(ge=date(1970, 1, 1), le=date(2200, 12, 31), examples=["2026-11-01"])]
"""A calendar date of a report period or a job run, 1970-2200 (UTC dates)."""

ReportFormat = Literal["json", "csv"]
JobName = Ident
"""expiry | downgrade | downgrade_notice | birthday (an unknown job is a 404)."""
StatementLimit = Annotated[int, Field(ge=1, le=1000)]
Reason = Annotated[str, TextOf(500, min_length=5, multiline=True)]
"""Why points are adjusted: 5-500 characters, may span lines (L-02, M-18)."""
MAX_TOP_UP = 100_000_000
"""One top-up pays at most 1,000,000 yuan (fen)."""


# -- internal API (the gateway; service token) --------------------------------------------------------

class AccountOut(ResponseModel):
    """A member's standing under one program."""

    member_id: str
    program: str
    tier: str
    tier_name: str
    points_balance: int = Field(description="sum of the ledger entries (L-02)")
    points_available: int = Field(description="spendable now (L-14)")
    points_pending: int


class QuoteLineIn(RequestModel):
    line_no: Count
    sku: Ident | None = None
    qty: Quantity = 1
    unit_price: Money
    special_price: bool = False


class QuoteIn(RequestModel):
    """One basket to price for a member (or for nobody: regular prices)."""

    store_id: Ident
    member_id: Ident | None = None
    id_verified: bool = False
    by_mobile: bool = Field(False, description="identified by the registered mobile (L-06 birthday proof)")
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=500)


class QuotesIn(RequestModel):
    """Baskets of several cashiers gathered by the gateway."""

    quotes: list[QuoteIn] = Field(min_length=1, max_length=200)


class QuotesEnvelope(RequestModel):
    """The batch's outer shape, checked on its own when some quote in it is bad (each item is then judged alone)."""

    quotes: list[Any] = Field(min_length=1, max_length=200)


QUOTE = TypeAdapter(QuoteIn)
QUOTES = TypeAdapter(QuotesIn)
ENVELOPE = TypeAdapter(QuotesEnvelope)


class QuoteLineOut(ResponseModel):
    line_no: int
    unit_price: int
    member_price: int
    discount_rule: str | None = Field(description="`L-06 tier`, `L-06 birthday` or none (specials, no benefit)")


class QuoteOut(ResponseModel):
    """A priced basket (L-06): member price per line, totals in fen, points the sale would earn."""

    lines: list[QuoteLineOut]
    total: int
    member_total: int
    points_to_earn: int
    benefit: Literal["tier", "birthday"] | None
    tier: str | None


class QuoteProblem(ProblemDoc):
    """A quote of the batch that could not be priced: the problem details `/internal/quotes` would answer for it
    alone (`status` tells it apart from a priced basket, which has no `status`)."""


class QuotesOut(ResponseModel):
    """One answer per quote, in the order asked: a priced basket, or a problem for that quote only."""

    results: list[QuoteOut | QuoteProblem]


ProofToken = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"^[A-Za-z0-9_.-]+$")]


class RedemptionIn(RequestModel):
    redemption_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="the same id again is a replay")
    store_id: Ident
    member_id: Ident
    reward_id: Ident | None = None
    points_to_cash: PositivePoints | None = None
    id_verified: bool = Field(False, description="kept for v1 callers; the ID check a threshold reward needs (L-09) "
                                                 "counts only when the proof token names the cashier who made it")
    proof_token: ProofToken | None = Field(None, description="L-07: members' proof that the member is present, "
                                                             "bound to this redemption; refused without it")

    @model_validator(mode="after")
    def _one(self) -> RedemptionIn:
        if (self.reward_id is None) == (self.points_to_cash is None):
            raise ValueError("give exactly one of reward_id or points_to_cash (L-07)")
        return self


class RedemptionOut(ResponseModel):
    redemption_id: str
    points_spent: int
    balance_after: int | None = Field(None, description="absent on a replay")
    reward_id: str | None = None
    cash_value: int | None = Field(None, description="fen, for points turned into money")
    replayed: bool | None = Field(None, description="true when this redemption_id was done already")


class HoldIn(RequestModel):
    store_id: Ident
    receipt_no: Ident
    member_id: Ident
    amount: PositiveMoney = Field(description="fen paid with stored value on this receipt")
    proof_token: ProofToken | None = Field(None, description="L-11: members' proof that the member is present, "
                                                             "bound to this receipt and amount; refused without it")


class HoldReleaseIn(RequestModel):
    store_id: Ident
    receipt_no: Ident


class HoldReleaseOut(ResponseModel):
    released: int = Field(description="1 when a hold was released, 0 when the receipt held nothing (or was settled)")


class HoldOut(ResponseModel):
    amount: int
    status: Literal["held"]
    expires_at: str = Field(description="when the hold is released if its sale has not arrived (RFC 3339)")
    replayed: bool


# -- staff API (staff tokens) -----------------------------------------------------------------------

class AdjustmentIn(RequestModel):
    member_id: Ident
    program: Ident
    points: SignedPoints = Field(description="positive adds, negative takes; never 0 (L-02)")
    reason: Reason
    receipt_no: Ident | None = Field(None, description="for a back-filled receipt (M-18)")


class AdjustmentRequested(ResponseModel):
    adjustment_id: str
    status: Literal["requested"]


class AdjustmentListed(ResponseModel):
    adjustment_id: str
    member_id: str
    program: str
    points: int
    reason: str
    receipt_no: str | None
    requested_by: str
    requested_at: datetime
    status: Literal["requested", "approved", "rejected"]
    decided_by: str | None
    decided_at: datetime | None


class AdjustmentList(ResponseModel):
    items: list[AdjustmentListed]


class AdjustmentDecided(ResponseModel):
    adjustment_id: str
    status: Literal["approved", "rejected"]
    balance_after: int | None


class TopUpIn(RequestModel):
    topup_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="the same id again is a replay")
    member_id: Ident
    store_id: Ident
    pay: Annotated[PositiveMoney, Field(le=MAX_TOP_UP, description="fen paid")]


class TopUpOut(ResponseModel):
    topup_id: str
    paid: int
    bonus: int
    credited: int
    balance_after: int
    replayed: bool


class StoredValueBalance(ResponseModel):
    member_id: str
    program: str
    balance: int = Field(description="fen (L-11)")


# -- HQ reports, statements, jobs (hq_admin staff token) -----------------------------------------------------

class ProgramStats(ResponseModel):
    members: int
    points_outstanding: int
    tiers: dict[str, int]


class StatsOut(ResponseModel):
    ledger_entries: int
    programs: dict[str, ProgramStats]


class PointsValue(ResponseModel):
    points: int
    value: int = Field(description="fen at the program's cash conversion rate")


class LiabilityOut(ResponseModel):
    """Outstanding points and their value per program, store and region (R-03)."""

    program: dict[str, PointsValue]
    store: dict[str, PointsValue]
    region: dict[str, PointsValue]


class KindTotal(ResponseModel):
    entries: int
    points: int


class MovementsOut(ResponseModel):
    since: str
    until: str
    programs: dict[str, dict[str, KindTotal]] = Field(description="program → entry kind → totals")


class LedgerEntryOut(ResponseModel):
    id: int
    member_id: str
    program: str
    kind: str
    points: int
    spend: int
    store_id: str | None
    receipt_no: str | None
    cause_event_id: str
    occurred_at: datetime
    detail: dict[str, Any] | None
    created_at: datetime
    operator: str = Field(description="who made it: requester → approver of an adjustment (L-02), the store of a "
                                      "sale, refund or redemption, else `system` (scheduled jobs)")


class LedgerStatement(ResponseModel):
    member_id: str
    entries: list[LedgerEntryOut]


LedgerKind = Literal["earn", "reverse", "redeem", "expire", "adjust", "opening"]
"""The kinds of ledger entry (L-02)."""


class StandingOut(ResponseModel):
    program: str
    tier: str
    points_balance: int
    tier_spend: int = Field(description="fen counted toward the tier (L-04)")
    updated_at: datetime


class TierChangeOut(ResponseModel):
    id: int
    program: str
    from_tier: str
    to_tier: str
    reason: str = Field(description="why: the rule and the figure that moved the member (L-04, L-05)")
    cause_event_id: str
    occurred_at: datetime


class TierStatement(ResponseModel):
    member_id: str
    accounts: list[StandingOut]
    changes: list[TierChangeOut]


class JobResult(ResponseModel):
    """What a job did; only the counts of the job that ran are present."""

    already_ran: bool
    points_expired: int | None = None
    notices: int | None = None
    programs: list[str] | None = None
    tier_changes: int | None = None
    birthdays: int | None = None


class PeriodMovement(ResponseModel):
    opening: int = Field(description="fen owed before the period (imported opening balances included)")
    top_ups: int = Field(description="cash paid for top-ups in the period")
    bonus: int
    spend: int
    refunds: int
    closing: int
    imported: int = Field(description="opening balances brought from the old system by member imports in the period "
                                      "(M-19): owed, in the closing balance, but no top-up — no cash taken")
    reconciled: bool = Field(description="opening + top_ups + bonus + imported - spend + refunds = closing")


class StoredValueOutstanding(ResponseModel):
    program: dict[str, int]
    store: dict[str, int]
    region: dict[str, int]


class StoredValueReport(ResponseModel):
    """Stored-value money (R-03, L-11), fen: the period reconciled per program, and what is owed."""

    since: str
    until: str
    currency: str
    unit: str
    programs: dict[str, PeriodMovement]
    outstanding: StoredValueOutstanding
    ledger_matches_balances: dict[str, bool]


class StoredValueEntryOut(ResponseModel):
    id: int
    member_id: str
    program: str
    kind: str
    amount: int = Field(description="fen; signed change of the balance")
    paid: int
    bonus: int
    shortfall: int
    store_id: str | None
    receipt_no: str | None
    staff_id: str | None = Field(description="who topped up; the import's operator for an opening")
    cause_id: str
    occurred_at: datetime
    detail: dict[str, Any] | None = Field(None, description="an opening's cause (M-19): reason, import_id, row_no, "
                                                            "operator")


class StoredValueHeld(ResponseModel):
    balance: int
    held: int
    available: int


class StoredValueStatement(ResponseModel):
    member_id: str
    balances: dict[str, StoredValueHeld]
    entries: list[StoredValueEntryOut]


CSV = {"text/csv": {"schema": {"type": "string"}}}
"""OpenAPI content of a CSV answer (the same data as the JSON one, for spreadsheets)."""


# -- program viewer and desk claims (issue 12: entrypoints/program_http.py) ---------------------------------------

class TierOut(ResponseModel):
    code: str
    name: str
    single_receipt_min: int | None = Field(None, description="fen on one receipt (L-04)")
    rolling_spend_min: int | None = Field(None, description="fen within rolling_months (L-04)")
    rolling_months: int | None = None
    discount_pct: int = Field(description="member price discount on regular items (L-06)")
    earn_multiplier_pct: int = Field(description="higher tiers may earn more (L-06)")


class EarnOut(ResponseModel):
    points_per_yuan: int = Field(description="L-01")
    rounding: str
    excluded_kinds: list[str]


class RewardOut(ResponseModel):
    id: str
    name: str
    points: int
    value: int = Field(description="retail value, fen")
    desk_claim: bool = Field(description="threshold reward claimed at the desk with ID (L-09)")


class RedemptionRulesOut(ResponseModel):
    catalogue: list[RewardOut]
    points_per_yuan_cash: int | None
    windows_months: list[int] = Field(description="allowed months; empty = all year (L-07)")


class ExpiryOut(ResponseModel):
    policy: str = Field(description="never / per_entry / card_validity (L-08)")
    months: int | None
    notice_days: int = Field(description="L-16")


class DowngradeOut(ResponseModel):
    window_months: int
    run_month: int
    run_day: int
    notice_days: int


class BirthdayOut(ResponseModel):
    discount_pct: int
    proof: list[str]
    gift: str | None


class BonusStepOut(ResponseModel):
    pay: int
    bonus: int


class ProgramVersionOut(ResponseModel):
    """One version of a program exactly as its file says (programs/<id>[@<n>].yaml); versions never rewrite
    history: a sale is evaluated under the version in force at its time."""

    id: str
    brand: str
    version: int
    effective_from: date
    in_force: bool = Field(description="the version sales are evaluated under now")
    earn: EarnOut
    tiers: list[TierOut] = Field(description="lowest first; the first is the entry tier (L-04)")
    birthday: BirthdayOut
    downgrade: DowngradeOut | None
    redemption: RedemptionRulesOut
    pending_days: int = Field(description="L-14")
    expiry: ExpiryOut
    returns: str = Field(description="L-13")
    stored_value_bonus: list[BonusStepOut] = Field(description="L-11")
    spend_proof: str | list[str] = Field(description="L-07, L-11")
    carry_points_on_replacement: bool = Field(description="M-17")


class ProgramSummary(ResponseModel):
    id: str
    brand: str
    current_version: int
    versions: int
    effective_from: date = Field(description="since when the version in force applies")


class ProgramList(ResponseModel):
    programs: list[ProgramSummary]


class ProgramVersions(ResponseModel):
    id: str
    versions: list[ProgramVersionOut] = Field(description="newest first")


class ReadyMember(ResponseModel):
    member_id: str
    points_balance: int
    reached: list[str] = Field(description="desk-claim rewards whose threshold the balance reaches (L-09)")


class DeskRewards(ResponseModel):
    """L-09: a store's desk-claim rewards and the members of the store who reached one, by member id."""

    store_id: str
    program: str
    rewards: list[RewardOut]
    members: list[ReadyMember]
    next_after: str | None = Field(None, description="pass as `after` for the next page; absent on the last")
