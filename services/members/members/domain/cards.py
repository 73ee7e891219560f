"""Card numbers (M-17): region code + sequence within the region, e.g. 755 00243."""

from __future__ import annotations


def card_number(region_code: str, seq: int) -> str:
    """At least 5 sequence digits; a region past 99,999 cards grows a digit (region codes are 3 digits, so numbers
    of different regions never collide)."""
    if not (region_code.isdigit() and len(region_code) == 3):
        raise ValueError("region code must be 3 digits")
    if seq < 1:
        raise ValueError("card sequence starts at 1")
    return f"{region_code}{seq:05d}"
