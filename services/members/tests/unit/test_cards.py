"""M-17: card number = region code + sequence within the region; validity per program (1 or 2 years)."""

from datetime import date
from pathlib import Path

import pytest
from members.domain.cards import card_number, document_validity_years, valid_until, validity_years
from members.service.validity import read_documents


def test_m17_card_number_is_region_code_plus_sequence() -> None:
    assert card_number("755", 243) == "75500243"


def test_m17_region_past_99999_cards_grows_a_digit_without_collisions() -> None:
    assert card_number("755", 99999) == "75599999"
    assert card_number("755", 100000) == "755100000"
    with pytest.raises(ValueError):
        card_number("7550", 1)


def test_m17_card_validity_from_the_program_document() -> None:
    assert document_validity_years({"expiry": {"policy": "card_validity", "months": 24}}) == 2
    assert document_validity_years({"card_validity_months": 12}) == 1
    assert document_validity_years({"expiry": {"policy": "per_entry", "months": 12}}) is None  # points, not cards
    assert document_validity_years({"card_validity_months": 36}) is None  # 1 or 2 years only
    assert document_validity_years("not a document") is None
    docs = read_documents(Path(__file__).resolve().parents[4] / "programs")
    assert docs["cosmetics"] == 2 and docs["outdoor"] == 2 and "jewelry" not in docs


def test_m17_validity_is_hq_setting_then_program_document_then_default() -> None:
    assert validity_years(1, 2, 2) == 1
    assert validity_years(None, 1, 2) == 1
    assert validity_years(None, None, 2) == 2


def test_m17_one_and_two_year_cards() -> None:
    assert valid_until(date(2026, 11, 24), 1) == date(2027, 11, 24)
    assert valid_until(date(2026, 11, 24), 2) == date(2028, 11, 24)
    assert valid_until(date(2028, 2, 29), 1) == date(2029, 2, 28)
