"""Scenario tests: each preset under programs/ walks one member through that program's rules, on the real file.

Pure domain, clock passed in (every step names its instant), store time zone Asia/Shanghai. Figures are the ones
of docs/rules.md (L-04 thresholds, L-06 discounts, L-07 catalogue and windows, L-08 expiry) and the comments
of each preset file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from loyalty.domain import stored_value as sv
from loyalty.domain.account import Account, TierChange
from loyalty.domain.pricing import QuoteLine, birthday_proven, is_birthday, quote
from loyalty.domain.program import Program, load_program
from loyalty.domain.rules import Line
from vipcore.errors import RuleViolation

PROGRAMS = Path(__file__).resolve().parents[4] / "programs"
TZ = "Asia/Shanghai"
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # Monday 2 March 2026, 12:00 in the store
RING = QuoteLine(1, 1, 98800, False)
SPECIAL = QuoteLine(2, 1, 50000, True)


Earned = tuple[int, TierChange | None]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Walk:
    """One member of one preset, loaded from its file (programs/<id>.yaml)."""

    def __init__(self, pid: str) -> None:
        self.p: Program = load_program(PROGRAMS / f"{pid}.yaml")
        self.a = Account("M-1", pid, self.p.entry_tier.code)  # registration: the entry tier (L-04)

    def buy(self, receipt: str, at: datetime, *paid: int, special: tuple[int, ...] = ()) -> Earned:
        lines = [Line(i + 1, x, i + 1 in special) for i, x in enumerate(paid)]
        e, change = self.a.earn(self.p, key=f"S1/{receipt}", cause=receipt, at=at, tz=TZ, lines=lines)
        return (e.points if e else 0), change

    def refund(self, receipt: str, refund_id: str, at: datetime, *lines: tuple[int, int]) -> tuple[int, int]:
        e = self.a.reverse(self.p, key=f"S1/{receipt}", refund_id=refund_id, cause=refund_id, at=at,
                           lines=[Line(n, paid, False) for n, paid in lines])
        return (e.points, e.spend) if e else (0, 0)

    def redeem(self, points: int, at: datetime) -> int:
        self.a.redeem(self.p, points=points, cause=f"X{points}", at=at, tz=TZ)
        return self.a.balance

    def refused(self, points: int, at: datetime) -> RuleViolation:
        with pytest.raises(RuleViolation) as e:
            self.a.redeem(self.p, points=points, cause="refused", at=at, tz=TZ)
        return e.value


def crossing(pid: str, receipt: int) -> TierChange | None:
    """A fresh member's first receipt (L-04 single-receipt line)."""
    return Walk(pid).buy("ONE", T0, receipt)[1]


def test_scenario_jewelry_member_walkthrough() -> None:
    w = Walk("jewelry")
    assert w.a.tier == "normal"
    # L-01: 1 point per yuan, the special-price line neither earns nor counts; 800 yuan paid is not VIP (L-04)
    assert w.buy("R1", T0, 30000, 50000, special=(2,)) == (300, None) and w.a.tier_spend == 30000
    assert w.buy("R2", day(100), 50000) == (500, None)  # 800 yuan within 12 months
    pts, up = w.buy("R3", day(200), 25000)  # 1,050 yuan within 12 months: VIP on this receipt (L-04)
    assert pts == 250 and up is not None and up.to_tier.code == "vip" and "12 months" in up.reason
    assert crossing("jewelry", 67999) is None
    one = crossing("jewelry", 68000)
    assert one is not None and one.to_tier.code == "vip" and "one receipt" in one.reason

    # L-06: VIP 8.8折 on regular items; birthday 8.5折 with proof beats it; never both; specials undiscounted
    q = quote(w.p, w.a.tier, [RING, SPECIAL], birthday_today=False, proof=False)
    assert [ln["member_price"] for ln in q.lines] == [86944, 50000] and q.benefit == "tier"
    assert q.points_to_earn == 869
    proof = birthday_proven(w.p, id_verified=False, by_registered_mobile=True)
    q = quote(w.p, w.a.tier, [RING, SPECIAL], birthday_today=True, proof=proof)
    assert q.benefit == "birthday" and [ln["member_price"] for ln in q.lines] == [83980, 50000]
    q = quote(w.p, w.a.tier, [RING], birthday_today=True, proof=birthday_proven(w.p, False, False))
    assert q.benefit == "tier" and q.member_total == 86944
    # the birthday is the store's date: 17:00 UTC on 18 September is already the 19th in Shanghai
    local = datetime(2026, 9, 18, 17, 0, tzinfo=UTC).astimezone(ZoneInfo(TZ)).date()
    assert is_birthday(date(1990, 9, 19), local) and not is_birthday(date(1990, 9, 19), date(2026, 9, 18))

    # L-14 / L-07: R3's points are pending until the next business day; no window in this program
    now = day(200) + timedelta(hours=2)
    assert w.a.available(now) == 800 and w.a.pending(now) == 250
    assert w.refused(1000, now).rule == "L-14"
    assert w.refused(2000, now).rule == "L-07"
    assert w.redeem(500, now) == 550  # oldest-expiring first (L-15): R1's 300, then 200 of R2
    assert {lt.key: lt.remaining for lt in w.a.lots if lt.key in ("S1/R1", "S1/R2")} == {"S1/R1": 0, "S1/R2": 300}

    # L-03: a refund reverses the refunded line only (points and tier spend)
    assert w.buy("R4", day(210), 20000, 10000) == (300, None)
    assert w.refund("R4", "F1", day(211), (2, 10000)) == (-100, -10000)
    assert w.refund("R4", "F1", day(211), (2, 10000)) == (0, 0)  # the same refund again: nothing
    assert w.a.balance == 750

    # L-08 per entry after 12 months, announced 30 days ahead (L-16)
    pts, when = w.a.expiring(w.p, datetime(2027, 5, 12, tzinfo=UTC))
    assert pts == 300 and when == datetime(2027, 6, 10, 4, 0, tzinfo=UTC)  # R2's rest
    e = w.a.expire(w.p, at=datetime(2027, 6, 11, tzinfo=UTC), cause="E1")
    assert e is not None and e.kind == "expire" and e.points == -300 and w.a.balance == 450

    # L-05: re-evaluated each 1 January; two years below the VIP line drops to normal
    assert (w.p.downgrade.run_month, w.p.downgrade.run_day, w.p.downgrade.window_months) == (1, 1, 24)
    assert w.a.downgrade(w.p, datetime(2028, 1, 1, tzinfo=UTC)) is None  # 1,250 yuan in the last 24 months
    down = w.a.downgrade(w.p, datetime(2029, 1, 1, tzinfo=UTC))
    assert down is not None and down.to_tier.code == "normal" and "L-05" in down.reason and w.a.tier == "normal"


def test_scenario_cosmetics_member_walkthrough() -> None:
    w = Walk("cosmetics")
    assert w.a.tier == "normal"
    # 1,200 yuan on the receipt, 300 of it at a special price: 900 counts, not VIP (L-01, L-04)
    assert w.buy("R1", T0, 90000, 30000, special=(2,)) == (900, None)
    assert w.buy("R2", day(120), 99000) == (990, None)  # 1,890 yuan within 6 months
    pts, up = w.buy("R3", day(150), 20000)  # 2,090 yuan within 6 months -> VIP on this receipt (L-04)
    assert pts == 200 and up is not None and up.to_tier.code == "vip" and "6 months" in up.reason
    assert crossing("cosmetics", 99999) is None
    one = crossing("cosmetics", 100000)
    assert one is not None and one.to_tier.code == "vip"
    # VIP earns at 150% (L-06), per line
    assert w.buy("R4", day(160), 10000, 6000) == (240, None)

    # L-06: VIP 10% off; birthday 20% with ID or the registered mobile; the best one, not both
    assert quote(w.p, "vip", [RING], birthday_today=False, proof=False).member_total == 88920
    q = quote(w.p, "vip", [RING, SPECIAL], birthday_today=True, proof=birthday_proven(w.p, True, False))
    assert q.benefit == "birthday" and [ln["member_price"] for ln in q.lines] == [79040, 50000]

    # L-14: a 7-day pending period; a refund inside it simply cancels the pending points of the refunded line
    now = day(163)
    assert w.a.available(now) == 2090 and w.a.pending(now) == 240
    assert w.refused(2200, now).rule == "L-14"
    lipstick = w.p.reward("lipstick")
    assert lipstick is not None and w.redeem(lipstick.points, now) == 1330
    assert w.refund("R4", "F1", day(164), (1, 10000)) == (-150, -10000)  # L-03: line 1 only, at 150%
    assert w.a.pending(day(164)) == 90 and w.a.balance == 1180

    # L-05: yearly, 12 months below the VIP line drops to normal
    assert w.a.downgrade(w.p, datetime(2027, 1, 1, tzinfo=UTC)) is None
    down = w.a.downgrade(w.p, datetime(2028, 1, 1, tzinfo=UTC))
    assert down is not None and down.to_tier.code == "normal"

    # L-08: the whole balance is zeroed when the 2-year card validity ends (from the first earning), warned
    # 30 days ahead (L-16)
    end = datetime(2028, 3, 2, 4, 0, tzinfo=UTC)
    assert w.a.expiring(w.p, end - timedelta(days=31)) == (0, None)
    assert w.a.expiring(w.p, end - timedelta(days=29)) == (1180, end)
    e = w.a.expire(w.p, at=end + timedelta(hours=1), cause="E")
    assert e is not None and e.points == -1180 and w.a.balance == 0


def test_scenario_outdoor_counter_member_walkthrough() -> None:
    w = Walk("outdoor")
    assert w.a.tier == "normal"
    # 5,000 yuan on the receipt, 1,000 of it at a special price: 4,000 counts, not silver (L-01, L-04)
    assert w.buy("R1", T0, 400000, 100000, special=(2,)) == (4000, None)
    assert w.buy("R2", day(60), 400000) == (4000, None)
    pts, up = w.buy("R3", day(120), 250000)  # 10,500 yuan in a year -> silver
    assert pts == 2500 and up is not None and up.to_tier.code == "silver" and "12 months" in up.reason
    pts, up = w.buy("R4", day(130), 1000000)  # one receipt of 10,000 yuan -> gold
    assert pts == 10000 and up is not None and up.to_tier.code == "gold" and "one receipt" in up.reason
    silver = crossing("outdoor", 500000)
    assert silver is not None and silver.to_tier.code == "silver"

    # L-06: this counter gives no member discount; the birthday brings a gift, not a price
    q = quote(w.p, "gold", [RING, SPECIAL], birthday_today=True, proof=True)
    assert q.benefit is None and q.member_total == q.total == 148800 and q.points_to_earn == 988
    assert w.p.birthday.gift

    # L-07: redemption only in March and August, by the store's calendar (not the server's)
    july = datetime(2026, 7, 31, 15, 30, tzinfo=UTC)  # 23:30 on 31 July in the store
    v = w.refused(500, july)
    assert v.rule == "L-07" and v.field == "occurred_at"
    august = datetime(2026, 7, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 August in the store (still July in UTC)
    r3000 = w.p.reward("r3000")
    assert r3000 is not None and (r3000.points, r3000.value) == (3000, 300000)
    assert w.redeem(r3000.points, august) == 20500 - 3000
    # points earned today are not redeemable today (L-07 same-day rule via L-14)
    assert w.buy("R5", datetime(2026, 8, 1, 2, 0, tzinfo=UTC), 50000) == (500, None)
    assert w.refused(17600, datetime(2026, 8, 1, 6, 0, tzinfo=UTC)).rule == "L-14"
    assert w.redeem(500, datetime(2026, 8, 2, 1, 0, tzinfo=UTC)) == 17500
    # L-03: refunding the special-price line reverses nothing; the regular line reverses its own points
    assert w.refund("R1", "F0", day(200), (2, 100000)) == (0, 0)
    assert w.refund("R2", "F1", day(200), (1, 100000)) == (-1000, -100000)

    # L-05: after two years below the gold line the member drops one tier, to silver
    assert w.a.downgrade(w.p, datetime(2028, 1, 1, tzinfo=UTC)) is None  # the 10,000-yuan receipt still counts
    # L-08: points valid two years (the card's validity), then zeroed; warned 30 days before (L-16)
    end = datetime(2028, 3, 2, 4, 0, tzinfo=UTC)
    assert w.a.expiring(w.p, end - timedelta(days=10)) == (w.a.balance, end)
    e = w.a.expire(w.p, at=end, cause="E")
    assert e is not None and -e.points == 16500 and w.a.balance == 0
    down = w.a.downgrade(w.p, datetime(2029, 1, 1, tzinfo=UTC))
    assert down is not None and (down.from_tier, down.to_tier.code) == ("gold", "silver")


def test_scenario_dental_clinic_member_walkthrough() -> None:
    w = Walk("dental")
    assert w.a.tier == "normal"
    pts, up = w.buy("R1", T0, 300000)  # one receipt of 3,000 yuan -> silver (L-04)
    assert pts == 3000 and up is not None and up.to_tier.code == "silver"
    assert w.buy("R2", day(30), 600000) == (6000, None)  # 9,000 yuan in 12 months; no receipt of 8,000
    pts, up = w.buy("R3", day(60), 700000)  # 16,000 yuan in 12 months -> gold
    assert pts == 7000 and up is not None and up.to_tier.code == "gold" and "12 months" in up.reason
    # gold earns at 120% (L-06); the special-price line earns nothing (L-01)
    assert w.buy("R4", day(70), 100000, 50000, special=(2,)) == (1200, None)

    # L-06: gold 8% off; birthday 15% with ID beats it; no stacking
    assert quote(w.p, "gold", [RING], birthday_today=False, proof=False).member_total == 90896
    q = quote(w.p, "gold", [RING], birthday_today=True, proof=birthday_proven(w.p, True, False))
    assert q.benefit == "birthday" and q.member_total == 83980

    # L-14: R4's points pend until the next business day; 100 points = 1 yuan (L-07)
    assert w.p.redemption.points_per_yuan_cash == 100
    now = day(70) + timedelta(hours=1)
    assert w.a.available(now) == 16000 and w.refused(17000, now).rule == "L-14"
    care = w.p.reward("care-pack")
    assert care is not None and care.desk_claim and w.refused(care.points, day(71)).rule == "L-07"  # 17,200 held
    assert w.redeem(10000, day(71)) == 7200
    assert w.refund("R4", "F1", day(72), (1, 100000)) == (-1200, -100000)  # L-03, at the 120% it earned
    assert w.a.balance == 6000

    # L-05: yearly, 12 months below the gold line drops to silver
    assert w.a.downgrade(w.p, datetime(2027, 1, 1, tzinfo=UTC)) is None
    # L-08: per entry after 12 months, warned 30 days ahead (L-16). R1 and R2 were spent first (L-15).
    r3_end = datetime(2027, 5, 1, 4, 0, tzinfo=UTC)
    assert w.a.expiring(w.p, r3_end - timedelta(days=20)) == (6000, r3_end)
    e = w.a.expire(w.p, at=r3_end, cause="E")
    assert e is not None and e.points == -6000 and w.a.balance == 0

    down = w.a.downgrade(w.p, datetime(2028, 1, 1, tzinfo=UTC))
    assert down is not None and (down.from_tier, down.to_tier.code) == ("gold", "silver")


def test_scenario_generic_restaurant_and_hotel_member_walkthrough_with_stored_value() -> None:
    w = Walk("generic")
    assert w.a.tier == "normal"
    assert w.buy("R1", T0, 200000, 10000, special=(2,)) == (2000, None)  # L-01
    pts, up = w.buy("R2", day(30), 300000)  # 5,000 yuan within 12 months -> silver (L-04)
    assert pts == 3000 and up is not None and up.to_tier.code == "silver"
    pts, up = w.buy("R3", day(40), 1000000)  # one receipt of 10,000 -> gold
    assert up is not None and up.to_tier.code == "gold"
    q = quote(w.p, "gold", [RING], birthday_today=True, proof=True)
    assert q.benefit is None and q.member_total == 98800  # this ladder gives points, not prices (L-06)
    assert w.refused(12000, day(40) + timedelta(hours=1)).rule == "L-14"
    assert w.redeem(5000, day(41)) == 10000  # 100 points = 1 yuan at the desk (L-07)
    assert w.refund("R3", "F1", day(42), (1, 500000)) == (-5000, -500000)  # L-03
    assert w.p.expiry.policy == "never" and w.a.expire(w.p, at=day(3000), cause="E") is None  # L-08: none
    # L-05: this preset schedules no re-evaluation: a tier once reached is kept
    assert w.p.downgrade is None and w.a.downgrade(w.p, datetime(2030, 1, 1, tzinfo=UTC)) is None

    # L-11: pay 1,000 get 1,100; terminals hold against the free balance; a refund gives back what it paid
    mv = sv.top_up(w.p, 100000)
    balance, held = mv.amount, 0
    assert balance == 110000 and mv.bonus == 10000
    sv.check_hold(balance, held, 80000)
    held += 80000
    with pytest.raises(RuleViolation) as e:
        sv.check_hold(balance, held, 30001)  # a second terminal at the same moment
    assert e.value.rule == "L-11" and e.value.field == "amount"
    held -= 80000  # the sale captures its hold
    balance += sv.spend(balance, 80000, held=held).amount
    assert balance == 30000
    assert sv.refund_back(spent=80000, returned=0, refunded=20000).amount == 20000
    assert sv.refund_back(spent=80000, returned=70000, refunded=20000).amount == 10000
