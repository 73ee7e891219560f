"""Property tests (L-02, L-03, L-13, L-14, L-15, L-04): any interleaving of sales, refunds, redemptions, expiries
and redeliveries keeps balance == sum of entries, never below zero (floor_at_zero), and the tier equal to what
the program computes from the member's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty.domain.account import Account, add_months
from loyalty.domain.program import Program, load_books
from loyalty.domain.rules import Line
from vipcore.errors import RuleViolation

BOOKS = load_books(Path(__file__).resolve().parents[4] / "programs")
TZ = "Asia/Shanghai"
T0 = datetime(2026, 1, 5, tzinfo=UTC)
RETURN_WINDOW = timedelta(days=300)

op = st.one_of(
    st.tuples(st.just("sale"), st.lists(st.tuples(st.integers(0, 800_000), st.booleans()), min_size=1, max_size=3)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 3), st.integers(1, 100)),
    st.tuples(st.just("redeem"), st.integers(1, 120)),  # percent of what is spendable
    st.tuples(st.just("expire")),
    st.tuples(st.just("redeliver")),
)
steps = st.lists(st.tuples(op, st.integers(0, 90 * 24)), max_size=40)  # (operation, hours to wait first)


@dataclass
class History:
    """The test's own record of what happened: the oracle for the tier (L-04, upgrades only)."""

    program: Program
    sales: list[tuple[datetime, str, int]] = field(default_factory=list)  # (when, receipt, net eligible spend)
    lines: dict[tuple[str, int], tuple[int, bool]] = field(default_factory=dict)  # paid left, special
    rank: int = 0
    refunds: list[str] = field(default_factory=list)

    def sold(self, when: datetime, receipt: str, lines: list[Line]) -> None:
        spend = sum(ln.paid for ln in lines if not ln.special_price)
        self.sales.append((when, receipt, spend))
        for ln in lines:
            self.lines[(receipt, ln.line_no)] = (ln.paid, ln.special_price)
        for rank, t in enumerate(self.program.tiers):
            window = 0
            if t.rolling_months is not None:
                start = add_months(when, -t.rolling_months)
                window = sum(s for w, _, s in self.sales if start < w <= when)
            if (t.single_receipt_min is not None and spend >= t.single_receipt_min) or (
                    t.rolling_spend_min is not None and window >= t.rolling_spend_min):
                self.rank = max(self.rank, rank)

    def refunded(self, receipt: str, line_no: int, amount: int) -> None:
        paid, special = self.lines[(receipt, line_no)]
        self.lines[(receipt, line_no)] = (paid - amount, special)
        if not special:
            self.sales = [(w, r, s - amount if r == receipt else s) for w, r, s in self.sales]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pid=st.sampled_from(["jewelry", "generic", "cosmetics", "outdoor", "dental"]), negative=st.booleans(),
       plan=steps)
def test_l02_balance_is_the_sum_of_entries_never_negative_and_the_tier_follows_history(
        pid: str, negative: bool, plan: list) -> None:
    program = BOOKS[pid].current.model_copy(update={"returns": "allow_negative" if negative else "floor_at_zero"})
    redeemable = program.model_copy(update={"redemption": program.redemption.model_copy(
        update={"windows_months": []})})
    a = Account("m", pid, program.entry_tier.code)
    h = History(program)
    entries: list[int] = []
    last: tuple | None = None  # the last sale or refund, for redelivery
    now = T0
    for (kind, *args), wait in plan:
        now += timedelta(hours=wait)
        redelivered = kind == "redeliver"
        if redelivered:
            if last is None:
                continue
            kind = last[0]
        if kind == "sale":
            if redelivered:
                receipt, lines, when = last[1:]  # type: ignore[index]
            else:
                receipt, when = f"R{len(h.sales)}", now
                lines = [Line(i + 1, paid, special) for i, (paid, special) in enumerate(args[0])]
            before = (a.balance, a.tier, len(a.lots))
            e, _ = a.earn(program, key=receipt, cause=receipt, at=when, tz=TZ, lines=lines)
            if redelivered:
                assert e is None and (a.balance, a.tier, len(a.lots)) == before  # L-02: earns once
            else:
                h.sold(when, receipt, lines)
            last = ("sale", receipt, lines, when)
        elif kind == "refund":
            if redelivered:
                receipt, line_no, amount, rid, special = last[1:]  # type: ignore[index]
            else:
                recent = [r for w, r, _ in h.sales if now - w < RETURN_WINDOW]
                if not recent:
                    continue
                receipt = recent[args[0] % len(recent)]
                line_no = args[1]
                if (receipt, line_no) not in h.lines:
                    continue
                left, special = h.lines[(receipt, line_no)]
                amount, rid = left * args[2] // 100, f"F{len(h.refunds)}"
                h.refunds.append(rid)
            before = (a.balance, a.tier_spend)
            e = a.reverse(program, key=receipt, refund_id=rid, cause=rid, at=now,
                          lines=[Line(line_no, amount, special)])
            if redelivered:
                assert e is None and (a.balance, a.tier_spend) == before  # the same refund reverses once
            else:
                h.refunded(receipt, line_no, amount)
            last = ("refund", receipt, line_no, amount, rid, special)
        elif kind == "redeem":
            try:
                e = a.redeem(redeemable, points=max(1, a.available(now) * args[0] // 100), cause="X", at=now, tz=TZ)
            except RuleViolation as refused:
                assert refused.rule in ("L-07", "L-14")
                e = None
        else:
            e = a.expire(program, at=now, cause="E")
        if e is not None:
            entries.append(e.points)
        lots = sum(lt.remaining for lt in a.lots)
        assert a.balance == sum(entries)  # L-02
        assert 0 <= a.available(now) <= max(a.balance, 0)
        assert all(lt.remaining >= 0 for lt in a.lots)
        if negative:
            assert lots >= a.balance  # the difference is the debt recovered from later earnings (L-13)
        else:
            assert a.balance >= 0 and lots == a.balance  # L-13 floor_at_zero
        assert a.tier_spend == sum(s for _, _, s in h.sales)  # L-03: refunds take back tier spend
        assert a.tier == program.tiers[h.rank].code  # L-04
