"""M-17: card number = region code + sequence within the region."""

import pytest
from members.domain.cards import card_number


def test_m17_card_number_is_region_code_plus_sequence() -> None:
    assert card_number("755", 243) == "75500243"


def test_m17_sequence_exhausted_is_an_error() -> None:
    with pytest.raises(ValueError, match="exhausted"):
        card_number("755", 100000)
