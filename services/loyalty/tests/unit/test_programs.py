"""Programs as data: every preset loads, bad files are refused with path and every error, versions by date."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from loyalty.domain.program import ProgramError, load_books

PROGRAMS = Path(__file__).resolve().parents[4] / "programs"


def test_presets_for_every_business_load() -> None:
    books = load_books(PROGRAMS)
    assert {"jewelry", "generic", "cosmetics", "outdoor", "dental"} <= books.keys()
    j = books["jewelry"].current
    assert j.tier("vip").discount_pct == 12 and j.birthday.discount_pct == 15  # 8.8折, 8.5折 (L-06)
    assert j.redemption.points_per_yuan_cash == 100 and j.expiry.policy == "per_entry"  # L-07, L-08
    o = books["outdoor"].current
    assert [r.points for r in o.redemption.catalogue] == [500, 1000, 2000, 3000]
    assert [r.value for r in o.redemption.catalogue] == [30000, 80000, 180000, 300000]
    assert o.redemption.windows_months == [3, 8] and o.pending_days == 1
    assert books["cosmetics"].current.expiry.policy == "card_validity"
    assert [t.code for t in books["dental"].current.tiers] == ["normal", "silver", "gold", "platinum"]
    assert books["generic"].current.bonus_for(100000) == 10000  # pay 1,000 get 1,100 (L-11)


def test_bad_program_file_is_refused_with_path_and_every_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: x\nbrand: X\nearn: {points_per_yuan: -1}\ntiers: []\nsurprise: 1\n"
        "expiry: {policy: per_entry}\nredemption: {windows_months: [13]}\n")
    (tmp_path / "worse.yaml").write_text("id: [unclosed\n")
    with pytest.raises(ProgramError) as e:
        load_books(tmp_path)
    msg = str(e.value)
    for part in ("bad.yaml", "earn.points_per_yuan", "tiers", "surprise", "expiry", "windows_months",
                 "worse.yaml", "not valid YAML"):
        assert part in msg, part


def test_l04_tier_with_a_window_but_no_threshold_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("id: p\nbrand: P\nearn: {points_per_yuan: 1}\n"
                                     "tiers: [{code: a, name: A}, {code: b, name: B, rolling_months: 6}]\n")
    with pytest.raises(ProgramError, match="rolling_spend_min and rolling_months"):
        load_books(tmp_path)


def test_program_versions_apply_by_sale_time_and_must_be_distinct(tmp_path: Path) -> None:
    base = "id: p\nbrand: P\ntiers: [{code: a, name: A}]\n"
    (tmp_path / "p.yaml").write_text(base + "earn: {points_per_yuan: 1}\n")
    (tmp_path / "p@2.yaml").write_text(base + "version: 2\neffective_from: 2027-01-01\nearn: {points_per_yuan: 2}\n")
    book = load_books(tmp_path)["p"]
    assert book.at(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).earn.points_per_yuan == 1
    assert book.at(datetime(2027, 1, 1, tzinfo=UTC)).earn.points_per_yuan == 2
    (tmp_path / "p@3.yaml").write_text(base + "version: 2\neffective_from: 2028-01-01\nearn: {points_per_yuan: 3}\n")
    with pytest.raises(ProgramError, match="distinct"):
        load_books(tmp_path)
