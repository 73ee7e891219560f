"""Member prices at the POS (L-06): best single benefit, specials excluded, no stacking, birthday proof."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from loyalty.domain.pricing import QuoteLine, birthday_proven, is_birthday, quote
from loyalty.domain.program import load_books

BOOKS = load_books(Path(__file__).resolve().parents[4] / "programs")
JEWELRY = BOOKS["jewelry"].current
RING = QuoteLine(1, 1, 98800, False)
SPECIAL = QuoteLine(2, 1, 50000, True)


def test_l06_jewelry_vip_pays_8_8_zhe_on_regular_items_only() -> None:
    q = quote(JEWELRY, "vip", [RING, SPECIAL], birthday_today=False, proof=False)
    assert [ln["member_price"] for ln in q.lines] == [86944, 50000]
    assert q.lines[1]["discount_rule"] is None and q.benefit == "tier"
    assert q.member_total == 136944 and q.total == 148800
    assert q.points_to_earn == 869  # special-price line earns nothing (L-01)


def test_l06_birthday_8_5_zhe_beats_the_tier_discount_and_does_not_stack() -> None:
    q = quote(JEWELRY, "vip", [RING], birthday_today=True, proof=True)
    assert q.benefit == "birthday" and q.lines[0]["member_price"] == 83980  # 15% off, not 12% + 15%


def test_l06_birthday_needs_id_or_the_registered_mobile() -> None:
    assert birthday_proven(JEWELRY, id_verified=True, by_registered_mobile=False)
    assert birthday_proven(JEWELRY, id_verified=False, by_registered_mobile=True)
    assert not birthday_proven(JEWELRY, id_verified=False, by_registered_mobile=False)
    q = quote(JEWELRY, "vip", [RING], birthday_today=True, proof=False)
    assert q.benefit == "tier"


def test_l06_a_normal_member_on_their_birthday_gets_the_birthday_price() -> None:
    q = quote(JEWELRY, "normal", [RING], birthday_today=True, proof=True)
    assert q.benefit == "birthday" and q.member_total == 83980


def test_l06_no_member_no_discount_no_points() -> None:
    q = quote(JEWELRY, None, [RING], birthday_today=False, proof=False)
    assert q.benefit is None and q.member_total == 98800 and q.points_to_earn == 0


def test_l06_birthday_is_the_store_local_date_and_29_february_falls_on_the_28th() -> None:
    assert is_birthday(date(1990, 11, 23), date(2026, 11, 23))
    assert not is_birthday(date(1990, 11, 23), date(2026, 11, 22))
    assert is_birthday(date(1992, 2, 29), date(2027, 2, 28)) and is_birthday(date(1992, 2, 29), date(2028, 2, 29))
    assert not is_birthday(None, date(2026, 1, 1))
