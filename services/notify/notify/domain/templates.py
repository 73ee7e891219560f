"""Message texts (N-02: in the company's name). Full per-brand templates come with the notify issue."""

from __future__ import annotations

TIER_CHANGED = "tier_changed"


def tier_changed(brand: str, display_name: str, tier_name: str) -> str:
    return f"【{brand}】尊敬的{display_name}，恭喜您成为{tier_name}，即日起可享会员专属礼遇。退订回TD"


def backoff_seconds(attempt: int, jitter: float) -> float:
    """Exponential back-off with jitter for transient provider errors (N-05): 1, 2, 4 ... 300 s."""
    return min(2 ** max(attempt - 1, 0), 300) * (0.5 + jitter)
