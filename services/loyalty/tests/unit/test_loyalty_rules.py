"""Loyalty rules as plain functions (no I/O), against the shipped program documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from loyalty.domain.program import ProgramError, load_program, load_programs
from loyalty.domain.rules import Line, eligible_paid, points_for, upgrade_on_receipt

PROGRAMS = Path(__file__).resolve().parents[4] / "programs"


@pytest.fixture(scope="module")
def programs() -> dict:
    return load_programs(PROGRAMS)


def test_presets_load(programs: dict) -> None:
    assert {"jewelry", "generic", "cosmetics"} <= programs.keys()


def test_l01_one_point_per_yuan_paid_rounded_down_per_line(programs: dict) -> None:
    jewelry = programs["jewelry"]
    assert points_for(jewelry, [Line(1, 86944, False)]) == 869
    assert points_for(jewelry, [Line(1, 199, False), Line(2, 199, False)]) == 2


def test_l01_special_price_lines_earn_nothing_and_do_not_count_toward_tiers(programs: dict) -> None:
    lines = [Line(1, 50000, False), Line(2, 40000, True)]
    assert points_for(programs["jewelry"], lines) == 500
    assert eligible_paid(lines) == 50000


def test_l04_jewelry_single_receipt_of_680_yuan_makes_vip(programs: dict) -> None:
    j = programs["jewelry"]
    assert upgrade_on_receipt(j, "normal", 68000).code == "vip"  # type: ignore[union-attr]
    assert upgrade_on_receipt(j, "normal", 67999) is None
    assert upgrade_on_receipt(j, "vip", 1_000_000) is None  # already at the top


def test_l04_generic_ladder_jumps_to_the_highest_tier_reached(programs: dict) -> None:
    g = programs["generic"]
    assert upgrade_on_receipt(g, "normal", 1_200_000).code == "gold"  # type: ignore[union-attr]
    assert upgrade_on_receipt(g, "silver", 3_000_000).code == "diamond"  # type: ignore[union-attr]


def test_l04_cosmetics_single_receipt_of_1000_yuan(programs: dict) -> None:
    assert upgrade_on_receipt(programs["cosmetics"], "normal", 100000).code == "vip"  # type: ignore[union-attr]


def test_bad_program_file_is_refused_with_path_and_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nbrand: X\nearn: {points_per_yuan: -1}\ntiers: []\nsurprise: 1\n")
    with pytest.raises(ProgramError) as e:
        load_program(bad)
    msg = str(e.value)
    assert str(bad) in msg and "earn.points_per_yuan" in msg and "tiers" in msg and "surprise" in msg


def test_duplicate_tier_codes_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "dup.yaml"
    bad.write_text("id: x\nbrand: X\nearn: {points_per_yuan: 1}\ntiers: [{code: a, name: A}, {code: a, name: B}]\n")
    with pytest.raises(ProgramError, match="distinct"):
        load_program(bad)
