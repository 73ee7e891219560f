"""Card numbers (M-17): region code + sequence within the region, e.g. 755 00243."""

from __future__ import annotations

from datetime import date


def card_number(region_code: str, seq: int) -> str:
    """At least 5 sequence digits; a region past 99,999 cards grows a digit (region codes are 3 digits, so numbers
    of different regions never collide)."""
    if not (region_code.isdigit() and len(region_code) == 3):
        raise ValueError("region code must be 3 digits")
    if seq < 1:
        raise ValueError("card sequence starts at 1")
    return f"{region_code}{seq:05d}"


def valid_until(issued: date, years: int) -> date:
    """M-17: validity per program (1 or 2 years); 29 February becomes 28 February."""
    try:
        return issued.replace(year=issued.year + years)
    except ValueError:
        return issued.replace(year=issued.year + years, day=28)


VALID_YEARS = (1, 2)  # M-17: a program's cards are valid 1 or 2 years, then renewed


def document_validity_years(doc: object) -> int | None:
    """M-17: the card validity a program document states, in years, if it states one: `card_validity_months`,
    or an `expiry` whose policy is `card_validity` (points zeroed when the card's validity ends, L-08)."""
    if not isinstance(doc, dict):
        return None
    months = doc.get("card_validity_months")
    expiry = doc.get("expiry")
    if months is None and isinstance(expiry, dict) and expiry.get("policy") == "card_validity":
        months = expiry.get("months")
    if isinstance(months, int) and months % 12 == 0 and months // 12 in VALID_YEARS:
        return months // 12
    return None


def validity_years(configured: int | None, documented: int | None, default: int) -> int:
    """M-17: validity is the program's: HQ's setting for the program, else what its document states, else the
    deployment default."""
    for years in (configured, documented):
        if years is not None:
            return years
    return default
