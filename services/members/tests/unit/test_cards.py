"""M-17: card number = region code + sequence within the region."""

import pytest
from members.domain.cards import card_number


def test_m17_card_number_is_region_code_plus_sequence() -> None:
    assert card_number("755", 243) == "75500243"


def test_m17_region_past_99999_cards_grows_a_digit_without_collisions() -> None:
    assert card_number("755", 99999) == "75599999"
    assert card_number("755", 100000) == "755100000"
    with pytest.raises(ValueError):
        card_number("7550", 1)
