"""Member prices at the POS (L-06): the best single benefit, tier or birthday; specials excluded; no stacking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vipcore.errors import RuleViolation
from vipcore.inputs import MAX_MONEY

from .program import Program
from .rules import Line, points_for


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    qty: int
    unit_price: int
    special_price: bool


@dataclass(frozen=True)
class Quote:
    lines: list[dict[str, object]]
    total: int
    member_total: int
    points_to_earn: int
    benefit: str | None


def is_birthday(birthday: date | None, today: date) -> bool:
    """Birthday in the store's time zone; 29 February is celebrated on the 28th in other years (L-06, L-10)."""
    if birthday is None:
        return False
    month, day = birthday.month, birthday.day
    if (month, day) == (2, 29) and not (today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)):
        day = 28
    return (today.month, today.day) == (month, day)


def birthday_proven(program: Program, id_verified: bool, by_registered_mobile: bool) -> bool:
    """The birthday price needs ID shown, or the registered mobile if the program accepts it (L-06)."""
    proof = program.birthday.proof
    return ("id" in proof and id_verified) or ("registered_mobile" in proof and by_registered_mobile)


def _price(unit: int, pct: int) -> int:
    return (unit * (100 - pct) + 50) // 100


def quote(program: Program, tier: str | None, lines: list[QuoteLine], *, birthday_today: bool,
          proof: bool) -> Quote:
    """Price a basket: one discount for the whole basket, whichever gives the lower total (L-06)."""
    total = sum(ln.unit_price * ln.qty for ln in lines)
    if total > MAX_MONEY:  # each line may be in bounds and the basket not: a total must fit the till and BIGINT
        raise RuleViolation("less_than_equal", "lines", f"the basket's total must be at most {MAX_MONEY} fen")
    options: list[tuple[str, int]] = []
    if tier is not None and program.tier(tier).discount_pct:
        options.append(("tier", program.tier(tier).discount_pct))
    if tier is not None and birthday_today and proof and program.birthday.discount_pct:
        options.append(("birthday", program.birthday.discount_pct))
    best = max(options, key=lambda o: o[1], default=None)  # same basket: the deeper discount is the lower total
    pct = best[1] if best else 0
    out: list[dict[str, object]] = []
    member_total = 0
    paid_lines = []
    for ln in lines:
        member_price = ln.unit_price if ln.special_price else _price(ln.unit_price, pct)
        rule = None if ln.special_price or not best else ("L-06 tier" if best[0] == "tier" else "L-06 birthday")
        out.append({"line_no": ln.line_no, "unit_price": ln.unit_price, "member_price": member_price,
                    "discount_rule": rule})
        member_total += member_price * ln.qty
        paid_lines.append(Line(ln.line_no, member_price * ln.qty, ln.special_price))
    mult = program.tier(tier).earn_multiplier_pct if tier is not None else 100
    points = points_for(program, paid_lines, mult) if tier is not None else 0
    return Quote(out, total, member_total, points, best[0] if best else None)
