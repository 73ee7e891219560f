"""A loyalty program is a validated document (programs/*.yaml), not code; versions never rewrite history."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Proof = Literal["id", "registered_mobile"]


def _special() -> list[Literal["special_price"]]:
    return ["special_price"]


def _both_proofs() -> list[Proof]:
    return ["id", "registered_mobile"]


class Tier(_Doc):
    code: str
    name: str
    single_receipt_min: int | None = Field(None, ge=0, description="fen on one receipt (L-04)")
    rolling_spend_min: int | None = Field(None, ge=0, description="fen within rolling_months (L-04)")
    rolling_months: int | None = Field(None, ge=1)
    discount_pct: int = Field(0, ge=0, le=100, description="member price discount on regular items (L-06)")
    earn_multiplier_pct: int = Field(100, ge=0, le=1000, description="higher tiers may earn more (L-06)")

    @model_validator(mode="after")
    def _window_with_rolling(self) -> Tier:
        if (self.rolling_spend_min is None) != (self.rolling_months is None):
            raise ValueError("rolling_spend_min and rolling_months go together (L-04)")
        return self


class Earn(_Doc):
    points_per_yuan: int = Field(ge=0, description="L-01")
    rounding: Literal["floor", "half_up"] = Field("floor", description="applied per line (L-01)")
    excluded_kinds: list[Literal["special_price"]] = Field(
        default_factory=_special, description="items that neither earn nor count (L-01)")


class Downgrade(_Doc):
    """L-05: yearly re-evaluation; a member below their tier's line for `window_months` drops one tier."""

    window_months: int = Field(24, ge=1)
    run_month: int = Field(1, ge=1, le=12)
    run_day: int = Field(1, ge=1, le=28)
    notice_days: int = Field(30, ge=0, description="warning before the run (L-16)")


class Birthday(_Doc):
    discount_pct: int = Field(0, ge=0, le=100, description="L-06 birthday price")
    proof: list[Proof] = Field(default_factory=_both_proofs)
    gift: str | None = Field(None, description="L-10 greeting gift")


class Reward(_Doc):
    id: str
    name: str
    points: int = Field(gt=0)
    value: int = Field(ge=0, description="retail value, fen")
    desk_claim: bool = Field(False, description="threshold reward claimed at the desk with ID (L-09)")


class Redemption(_Doc):
    catalogue: list[Reward] = Field(default_factory=list, description="L-07")
    points_per_yuan_cash: int | None = Field(None, gt=0, description="e.g. 100 points = 1 yuan (L-07)")
    windows_months: list[int] = Field(default_factory=list, description="allowed months; empty = all year (L-07)")

    @model_validator(mode="after")
    def _months(self) -> Redemption:
        if any(not 1 <= m <= 12 for m in self.windows_months):
            raise ValueError("windows_months are calendar months 1..12")
        ids = [r.id for r in self.catalogue]
        if len(set(ids)) != len(ids):
            raise ValueError("reward ids must be distinct")
        return self


class Expiry(_Doc):
    """L-08: `per_entry` points expire `months` after earning; `card_validity` zeroes all at card expiry."""

    policy: Literal["never", "per_entry", "card_validity"] = "never"
    months: int | None = Field(None, ge=1)
    notice_days: int = Field(30, ge=0, description="L-16")

    @model_validator(mode="after")
    def _months_needed(self) -> Expiry:
        if self.policy != "never" and self.months is None:
            raise ValueError(f"expiry policy {self.policy} needs months (L-08)")
        return self


class BonusStep(_Doc):
    pay: int = Field(gt=0, description="top-up of at least this many fen")
    bonus: int = Field(ge=0, description="fen added (L-11)")


class Program(_Doc):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    brand: str
    version: int = Field(1, ge=1)
    effective_from: date = Field(date(2000, 1, 1), description="sales from this date (UTC) use this version")
    earn: Earn
    tiers: list[Tier] = Field(min_length=1, description="lowest first; the first is the entry tier")
    birthday: Birthday = Birthday.model_validate({})
    downgrade: Downgrade | None = None
    redemption: Redemption = Redemption.model_validate({})
    pending_days: int = Field(1, ge=0, le=60, description="L-14; 1 = next business day (L-07 same-day rule)")
    expiry: Expiry = Expiry.model_validate({})
    returns: Literal["floor_at_zero", "allow_negative"] = Field("floor_at_zero", description="L-13")
    stored_value_bonus: list[BonusStep] = Field(default_factory=list, description="L-11")
    spend_proof: Literal["sms_code", "pin"] | list[Literal["sms_code", "pin"]] = Field(
        "sms_code", description="L-07, L-11: how a member proves presence to spend points or stored value: a "
                                "one-time SMS code, the PIN set at the desk, or either (judged by members)")
    carry_points_on_replacement: bool = Field(
        True, description="M-17: points move to a replacement card; false forfeits them when the card is replaced")

    @model_validator(mode="after")
    def _consistent(self) -> Program:
        codes = [t.code for t in self.tiers]
        if len(set(codes)) != len(codes):
            raise ValueError("tier codes must be distinct")
        if self.tiers[0].single_receipt_min or self.tiers[0].rolling_spend_min:
            raise ValueError("the first tier is the entry tier and has no entry rule")
        return self

    @property
    def entry_tier(self) -> Tier:
        return self.tiers[0]

    def rank(self, code: str) -> int:
        for i, t in enumerate(self.tiers):
            if t.code == code:
                return i
        return 0

    def tier(self, code: str) -> Tier:
        return self.tiers[self.rank(code)]

    def bonus_for(self, pay: int) -> int:
        """Stored-value bonus of the highest step the top-up reaches (L-11)."""
        steps = [s.bonus for s in self.stored_value_bonus if pay >= s.pay]
        return max(steps, default=0)

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.redemption.catalogue if r.id == reward_id), None)

    def cash_value(self, points: int) -> int:
        """Points' money value in fen at the program's cash conversion rate; 0 where points are not money (R-03)."""
        rate = self.redemption.points_per_yuan_cash
        return points * 100 // rate if rate else 0


class ProgramBook:
    """Every version of one program; a sale is evaluated under the version in force at its time."""

    def __init__(self, versions: list[Program]) -> None:
        self.versions = sorted(versions, key=lambda p: p.effective_from)
        self._starts = [datetime(p.effective_from.year, p.effective_from.month, p.effective_from.day, tzinfo=UTC)
                        for p in self.versions]

    @property
    def id(self) -> str:
        return self.versions[0].id

    @property
    def current(self) -> Program:
        return self.at(datetime.now(UTC))

    def at(self, when: datetime) -> Program:
        i = bisect_right(self._starts, when) - 1
        return self.versions[max(i, 0)]


class ProgramError(ValueError):
    """A program file that cannot be used; the message names the file and every error."""


def load_program(path: Path) -> Program:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ProgramError(f"{path}: not valid YAML: {e}") from e
    try:
        return Program.model_validate(doc)
    except ValidationError as e:
        errs = "; ".join(f"{'.'.join(map(str, x['loc'])) or '(document)'}: {x['msg']}" for x in e.errors())
        raise ProgramError(f"{path}: {errs}") from e


def load_books(directory: Path) -> dict[str, ProgramBook]:
    """Load every program file (`<id>.yaml`, later versions `<id>@<n>.yaml`); all errors reported at once."""
    loaded: list[Program] = []
    errors: list[str] = []
    for f in sorted(directory.glob("*.yaml")):
        try:
            loaded.append(load_program(f))
        except ProgramError as e:
            errors.append(str(e))
    by_id: dict[str, list[Program]] = {}
    for p in loaded:
        by_id.setdefault(p.id, []).append(p)
    for pid, versions in by_id.items():
        nums = [v.version for v in versions]
        dates = [v.effective_from for v in versions]
        if len(set(nums)) != len(nums) or len(set(dates)) != len(dates):
            errors.append(f"{directory}: program {pid}: versions and effective dates must be distinct")
    if errors:
        raise ProgramError("\n".join(errors))
    if not by_id:
        raise ProgramError(f"{directory}: no program files")
    return {pid: ProgramBook(vs) for pid, vs in by_id.items()}


def load_programs(directory: Path) -> dict[str, Program]:
    """The current version of each program (for callers that price today)."""
    return {pid: b.current for pid, b in load_books(directory).items()}
