"""Card numbers (M-17): region code + sequence within the region, e.g. 755 00243."""

from __future__ import annotations


def card_number(region_code: str, seq: int) -> str:
    if not region_code.isdigit():
        raise ValueError("region code must be digits")
    if not 0 < seq < 100000:
        raise ValueError("region card sequence exhausted (5 digits)")
    return f"{region_code}{seq:05d}"
