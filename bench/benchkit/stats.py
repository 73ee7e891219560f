"""Percentiles (nearest rank) of latency samples in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pct(sorted_ms: Sequence[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, math.ceil(p / 100 * len(sorted_ms)) - 1))
    return float(sorted_ms[k])


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """{n, p50, p95, p99, max} rounded to 0.1 ms; empty samples give n=0 and no percentiles."""
    s = sorted(samples)
    if not s:
        return {"n": 0}
    return {"n": len(s), **{f"p{p}": round(pct(s, p), 1) for p in (50, 95, 99)}, "max": round(s[-1], 1)}
