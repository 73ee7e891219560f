"""A member's points account under one program: lots, entries, tiers (pure; no I/O, clock passed in).

Balance is the sum of entries (L-02); lots remember what each receipt earned so refunds reverse per line (L-03),
pending points (L-14), oldest-expiring-first spending (L-15) and per-entry expiry (L-08).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vipcore.errors import RuleViolation

from .program import Program, Tier
from .rules import Line, eligible_paid, line_points

FAR = datetime(9999, 1, 1, tzinfo=UTC)
KEEP_SPENT_LOTS = timedelta(days=400)  # a spent receipt's line record outlives any return window
KEEP_RECEIPTS = 64  # receipts kept in detail per account; older ones merge into buckets (state stays small).
# Merging loses nothing the rules need: a merged receipt's lines and reversals are read back from its ledger
# entries (refunds, L-03), its earn entry stops a second earning (L-02), and receipts big enough to hold a tier
# on their own are never merged (L-05).


@dataclass
class Lot:
    """Points of one cause (a receipt, an adjustment): what is left, when spendable, when it expires."""

    key: str
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    remaining: int
    line_points: dict[int, int] = field(default_factory=dict)
    line_spend: dict[int, int] = field(default_factory=dict)
    refunds: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One ledger entry with its cause (L-02)."""

    kind: str  # earn | reverse | redeem | expire | adjust | opening
    points: int
    spend: int
    cause: str
    key: str | None
    occurred_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class TierChange:
    from_tier: str
    to_tier: Tier
    reason: str


def add_months(d: datetime, months: int) -> datetime:
    y, m = divmod(d.month - 1 + months, 12)
    return d.replace(year=d.year + y, month=m + 1, day=min(d.day, 28))


def local_midnight_after(at: datetime, tz: str, days: int) -> datetime:
    """Start of the business day `days` after `at`'s local date (L-14: 1 = next business day)."""
    z = ZoneInfo(tz)
    day = at.astimezone(z).date() + timedelta(days=days)
    return datetime.combine(day, time(0), z).astimezone(UTC)


@dataclass
class Account:
    member_id: str
    program: str
    tier: str
    balance: int = 0
    tier_spend: int = 0
    lots: list[Lot] = field(default_factory=list)
    spends: list[tuple[datetime, str, int]] = field(default_factory=list)  # (when, key, net single receipt)
    cycle_start: datetime | None = None  # card_validity expiry: the current validity period's start (L-08)
    tier_from: datetime | None = None  # an opening tier (M-19) is held from the import: no sale stands behind it

    # -- queries ----------------------------------------------------------------------------------------------
    def available(self, at: datetime) -> int:
        """Spendable points now: past their pending period and not expired (L-14), less any debt (L-13)."""
        ready = sum(lt.remaining for lt in self.lots
                    if lt.available_at <= at and (lt.expires_at is None or lt.expires_at > at))
        return max(0, min(ready, self.balance))

    def pending(self, at: datetime) -> int:
        return sum(lt.remaining for lt in self.lots if lt.available_at > at)

    def summarised(self) -> bool:
        """True once older receipts were merged (compact): the state alone no longer knows every receipt."""
        return any(k.startswith("~") for _, k, _ in self.spends) or any(lt.key.startswith("~") for lt in self.lots)

    def may_have_forgotten(self, at: datetime) -> bool:
        """Whether a receipt of time `at` could have earned already without the state remembering it (merged or
        pruned): the caller then asks the ledger (L-02). False for the usual sale, newer than the state's oldest."""
        if self.summarised():
            return True
        remembered = [when for when, _, _ in self.spends]
        if not remembered:
            return self.balance != 0 or self.tier_spend != 0 or bool(self.lots)
        return at <= min(remembered)

    def window_spend(self, at: datetime, months: int) -> int:
        start = add_months(at, -months)
        return sum(s for when, _, s in self.spends if start < when <= at)

    def reached(self, program: Program, at: datetime, receipt: int) -> Tier:
        """The highest tier this receipt or the rolling window reaches at `at` (L-04)."""
        best = program.entry_tier
        sums: dict[int, int] = {}
        for t in program.tiers[1:]:
            if t.single_receipt_min is not None and receipt >= t.single_receipt_min:
                best = t
            elif t.rolling_months is not None and t.rolling_spend_min is not None:
                if t.rolling_months not in sums:
                    sums[t.rolling_months] = self.window_spend(at, t.rolling_months)
                if sums[t.rolling_months] >= t.rolling_spend_min:
                    best = t
        return best

    # -- commands -----------------------------------------------------------------------------------------------
    def earn(self, program: Program, *, key: str, cause: str, at: datetime, tz: str,
             lines: list[Line]) -> tuple[Entry | None, TierChange | None]:
        """Points and tier spend of one sale (L-01); a receipt already earned earns nothing again (L-02)."""
        if any(lt.key == key for lt in self.lots) or any(k == key for _, k, _ in self.spends):
            return None, None
        mult = program.tier(self.tier).earn_multiplier_pct
        per_line = {ln.line_no: line_points(program, ln, mult) for ln in lines}
        spend_line = {ln.line_no: eligible_paid([ln], program) for ln in lines}
        points, spend = sum(per_line.values()), sum(spend_line.values())
        self.tier_spend += spend
        self.spends.append((at, key, spend))
        change = self._upgrade(program, at, spend)
        if points == 0 and spend == 0:
            return None, change
        credit = self._repay_debt(points)
        self.balance += points
        self.lots.append(Lot(key, at, local_midnight_after(at, tz, program.pending_days),
                             self._expiry_of(program, at), credit, per_line, spend_line))
        if len(self.lots) > 2 * KEEP_RECEIPTS or len(self.spends) > 2 * KEEP_RECEIPTS:
            singles = [t.single_receipt_min for t in program.tiers if t.single_receipt_min is not None]
            self.compact(keep_from=min(singles, default=None))
        return Entry("earn", points, spend, cause, key, at,
                     {"lines": per_line, "spend_lines": spend_line, "multiplier_pct": mult}), change

    def reverse(self, program: Program, *, key: str, refund_id: str, cause: str, at: datetime,
                lines: list[Line], hint: Lot | None = None) -> Entry | None:
        """Reverse the points and tier spend of refunded lines (L-03) under the return policy (L-13).

        `hint` carries the receipt's lines (from its earn entry) when its lot was merged by `compact`.
        """
        lot = next((lt for lt in self.lots if lt.key == key), None) or hint
        if lot is None or refund_id in lot.refunds:
            return None
        lot.refunds.append(refund_id)
        points = spend = 0
        per_line: dict[int, int] = {}
        per_spend: dict[int, int] = {}
        for ln in lines:
            due = self._line_share(program, lot, ln)
            lot.line_points[ln.line_no] = lot.line_points.get(ln.line_no, 0) - due
            sp = min(lot.line_spend.get(ln.line_no, 0), eligible_paid([ln], program))
            lot.line_spend[ln.line_no] = lot.line_spend.get(ln.line_no, 0) - sp
            points, spend = points + due, spend + sp
            per_line[ln.line_no], per_spend[ln.line_no] = due, sp
        self.tier_spend -= spend
        if any(k == key for _, k, _ in self.spends):
            self.spends = [(w, k, s - spend if k == key else s) for w, k, s in self.spends]
        else:  # merged into its day by compact()
            day = f"~{lot.earned_at.astimezone(UTC).date()}"
            self.spends = [(w, k, max(0, s - spend) if k == day else s) for w, k, s in self.spends]
        taken = min(points, lot.remaining)  # pending or unspent points of this receipt first (L-14)
        lot.remaining -= taken
        rest = points - taken
        if rest:
            taken += self._take(rest, at=None)  # then whatever is left, oldest-expiring first
        shortfall = 0
        if program.returns == "floor_at_zero":
            shortfall = points - taken
            self.balance -= taken
        else:
            self.balance -= points  # allow_negative: the debt is recovered from later earnings
        if points == 0 and spend == 0:
            return None
        return Entry("reverse", -(points - shortfall), -spend, cause, key, at,
                     {"refund_id": refund_id, "shortfall": shortfall, "lines": [ln.line_no for ln in lines],
                      "receipt": key, "line_points": per_line, "line_spend": per_spend})

    def redeem(self, program: Program, *, points: int, cause: str, at: datetime, tz: str,
               detail: dict[str, Any] | None = None) -> Entry:
        """Spend available points, oldest-expiring first (L-07, L-15); refused with the rule ID."""
        if points <= 0:
            raise RuleViolation("L-07", "points", "a redemption spends a positive number of points")
        month = at.astimezone(ZoneInfo(tz)).month
        windows = program.redemption.windows_months
        if windows and month not in windows:
            raise RuleViolation("L-07", "occurred_at",
                                f"redemption is open only in months {windows} (store time), not {month}")
        avail = self.available(at)
        if points > avail:
            pend = self.pending(at)
            if points <= avail + pend and pend:
                raise RuleViolation("L-14", "points", f"{pend} points are still pending (earned too recently); "
                                                      f"{avail} are spendable now")
            raise RuleViolation("L-07", "points", f"insufficient balance: {avail} points spendable, {points} asked")
        self._take(points, at=at)
        self.balance -= points
        return Entry("redeem", -points, 0, cause, None, at, detail or {})

    def expire(self, program: Program, *, at: datetime, cause: str) -> Entry | None:
        """Expire what is due by `at` (L-08): per entry, or everything at the end of the card validity."""
        pol = program.expiry
        if pol.policy == "card_validity" and self.cycle_start is not None and pol.months is not None:
            end = add_months(self.cycle_start, pol.months)
            if end <= at:
                for lt in self.lots:
                    lt.expires_at = min(lt.expires_at or FAR, end)
                self.cycle_start = None
        due = [lt for lt in self.lots if lt.expires_at is not None and lt.expires_at <= at and lt.remaining > 0]
        points = sum(lt.remaining for lt in due)
        for lt in due:
            lt.remaining = 0
        self._prune(at)
        if points == 0:
            return None
        self.balance -= points
        return Entry("expire", -points, 0, cause, None, at, {"lots": [lt.key for lt in due]})

    def forfeit(self, *, at: datetime, cause: str, reason: str, detail: dict[str, Any] | None = None) -> Entry | None:
        """Expire the whole balance at once (L-08 card validity ended; M-17 replaced card that may not carry
        points): a ledger entry with its reason; a debt under allow_negative (L-13) stays to be recovered."""
        for lt in self.lots:
            lt.remaining = 0
        self.cycle_start = None  # the next earning opens a new validity period
        points = max(0, self.balance)
        if points == 0:
            return None
        self.balance -= points
        return Entry("expire", -points, 0, cause, None, at, {"reason": reason, **(detail or {})})

    def expiring(self, program: Program, at: datetime) -> tuple[int, datetime | None]:
        """Points that expire within the notice period and the earliest date (L-16)."""
        horizon = at + timedelta(days=program.expiry.notice_days)
        soon = [lt for lt in self.lots if lt.remaining > 0 and lt.expires_at is not None
                and at < lt.expires_at <= horizon]
        return sum(lt.remaining for lt in soon), min((lt.expires_at for lt in soon if lt.expires_at), default=None)

    def open(self, program: Program, *, points: int, tier: str | None, cause: str, at: datetime,
             detail: dict[str, Any]) -> tuple[Entry, TierChange | None]:
        """The balance and tier a member brought from the chain's old system (M-19): one `opening` entry (L-02).

        The points are one lot earned at the import: spendable at once (no sale stands behind them, so no return
        window, L-14) and expiring by the program's rule counted from the import (L-08: per entry, N months after;
        card validity, at the end of the period the import opens). They add no tier spend: an opening balance is
        not a sale and lifts no tier by spend (L-04). A given tier of the program is taken as held from the import
        (`tier_from`; L-05 re-evaluates it only after a full window); a tier the program does not know, or one not
        above the current tier, is noted on the entry and changes nothing."""
        if points < 0:
            raise RuleViolation("M-19", "opening.points", "an opening balance is never negative")
        change = None
        detail = dict(detail)
        if tier:
            known = any(t.code == tier for t in program.tiers)
            if not known:
                detail["tier_not_applied"] = f"{tier} is not a tier of program {program.id} v{program.version} (L-04)"
            elif program.rank(tier) > program.rank(self.tier):
                why = f"M-19: opening tier from import {detail.get('import_id')} row {detail.get('row_no')}"
                change = TierChange(self.tier, program.tier(tier), why)
                self.tier, self.tier_from = tier, at
        if points:
            self.lots.append(Lot(f"opening:{cause}", at, at, self._expiry_of(program, at), self._repay_debt(points)))
            self.balance += points
        return Entry("opening", points, 0, cause, None, at, detail), change

    def adjust(self, *, points: int, cause: str, at: datetime, reason: str) -> Entry:
        """A manual adjustment (approved by a second person upstream); never below zero (L-02, L-13)."""
        if points < 0:
            if -points > self.balance:
                raise RuleViolation("L-13", "points", f"balance is {self.balance}, cannot take {-points}")
            self._take(-points, at=None)
            self.balance += points
        else:
            self.lots.append(Lot(f"adjust:{cause}", at, at, None, self._repay_debt(points)))
            self.balance += points
        return Entry("adjust", points, 0, cause, None, at, {"reason": reason})

    def downgrade(self, program: Program, at: datetime) -> TierChange | None:
        """Yearly re-evaluation (L-05): below the tier's line for the whole window drops one tier."""
        rank = program.rank(self.tier)
        if rank == 0 or program.downgrade is None:
            return None
        t, w = program.tiers[rank], program.downgrade.window_months
        start = add_months(at, -w)
        if self.tier_from is not None and self.tier_from > start:
            return None  # an opening tier (M-19) is held one full window from the import before it is judged
        recent = [(k, s) for when, k, s in self.spends if start < when <= at]
        keeps = (t.single_receipt_min is not None and any(  # a merged day is not one receipt (see compact)
            s >= t.single_receipt_min for k, s in recent if not k.startswith("~"))) or (
            t.rolling_spend_min is not None and sum(s for _, s in recent) >= t.rolling_spend_min)
        if keeps:
            return None
        lower = program.tiers[rank - 1]
        change = TierChange(self.tier, lower, f"L-05: below {t.name}'s line for {w} months")
        self.tier, self.tier_from = lower.code, None
        return change

    # -- internals ----------------------------------------------------------------------------------------------
    def _upgrade(self, program: Program, at: datetime, receipt: int) -> TierChange | None:
        reached = self.reached(program, at, receipt)
        if program.rank(reached.code) <= program.rank(self.tier):
            return None
        single = reached.single_receipt_min is not None and receipt >= reached.single_receipt_min
        why = (f"L-04: one receipt of {receipt / 100:.2f} yuan reaches {reached.name}" if single else
               f"L-04: spend within {reached.rolling_months} months reaches {reached.name}")
        change = TierChange(self.tier, reached, why)
        self.tier, self.tier_from = reached.code, None
        return change

    def _expiry_of(self, program: Program, at: datetime) -> datetime | None:
        pol = program.expiry
        if pol.policy == "per_entry" and pol.months:
            return add_months(at, pol.months)
        if pol.policy == "card_validity" and pol.months:
            if self.cycle_start is None:
                self.cycle_start = at
            return add_months(self.cycle_start, pol.months)
        return None

    def _line_share(self, program: Program, lot: Lot, ln: Line) -> int:
        sold = lot.line_spend.get(ln.line_no, 0)
        earned = lot.line_points.get(ln.line_no, 0)
        if sold <= 0:
            return earned
        return min(earned, -(-earned * eligible_paid([ln], program) // sold))  # proportional, rounded up

    def _repay_debt(self, points: int) -> int:
        """Under allow_negative the balance may be below the lots' sum; new points repay that first (L-13)."""
        debt = max(0, sum(lt.remaining for lt in self.lots) - self.balance)
        return max(0, points - debt)

    def _take(self, points: int, at: datetime | None) -> int:
        """Remove up to `points` from lots, oldest-expiring first (L-15); `at` limits to spendable lots."""
        usable = [lt for lt in self.lots if lt.remaining > 0 and (
            at is None or (lt.available_at <= at and (lt.expires_at is None or lt.expires_at > at)))]
        usable.sort(key=lambda lt: (lt.expires_at or FAR, lt.earned_at))
        taken = 0
        for lt in usable:
            if taken == points:
                break
            n = min(lt.remaining, points - taken)
            lt.remaining -= n
            taken += n
        return taken

    def compact(self, keep_from: int | None = None) -> None:
        """Merge all but the newest receipts: lots by (available, expiry), spends by day (L-14/L-15 unchanged).

        A merged receipt is still refundable (its lines come from its earn entry); its spend stays in its day.
        Spends of at least `keep_from` (the lowest single-receipt tier line) stay single receipts (L-05).
        """
        keep = {lt.key for lt in sorted(self.lots, key=lambda lt: lt.earned_at)[-KEEP_RECEIPTS:]}
        merged: dict[tuple[datetime, datetime | None], Lot] = {}
        out = []
        for lt in self.lots:
            if lt.key in keep:
                out.append(lt)
                continue
            b = merged.setdefault((lt.available_at, lt.expires_at), Lot(
                f"~{lt.available_at.isoformat()}", lt.earned_at, lt.available_at, lt.expires_at, 0))
            b.remaining += lt.remaining
            b.earned_at = min(b.earned_at, lt.earned_at)
        self.lots = out + list(merged.values())
        spends = sorted(self.spends)
        days: dict[str, tuple[datetime, str, int]] = {}
        old = spends[:-KEEP_RECEIPTS]
        big = {sp for sp in old if keep_from is not None and sp[2] >= keep_from and not sp[1].startswith("~")}
        for when, _k, s in old:
            if (when, _k, s) in big:
                continue
            day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            prev = days.get(day.isoformat(), (day, f"~{day.date()}", 0))
            days[day.isoformat()] = (day, prev[1], prev[2] + s)
        self.spends = sorted([*days.values(), *big]) + spends[-KEEP_RECEIPTS:]

    def _prune(self, at: datetime) -> None:
        self.lots = [lt for lt in self.lots if lt.remaining > 0 or lt.earned_at > at - KEEP_SPENT_LOTS]
        self.spends = [s for s in self.spends if s[0] > add_months(at, -36)]
