"""Scheduled work is counted per job and outcome (issue 13, item 3: scheduler runs)."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge
from vipcore.scheduler import Ticker


class Flaky(Ticker):
    def __init__(self) -> None:
        super().__init__(0.001, "flaky")
        self.n = 0

    async def tick(self) -> None:
        self.n += 1
        if self.n == 3:
            self.stop()
        if self.n % 2:
            raise RuntimeError("database away")


async def test_runs_are_counted_by_outcome() -> None:
    r = CollectorRegistry()
    t = Flaky()
    t.runs = Counter("scheduler_runs", "", ["job", "outcome"], registry=r)
    t.last_success = Gauge("scheduler_last_success_timestamp_seconds", "", ["job"], registry=r)
    await asyncio.wait_for(t.run(), 5)
    assert r.get_sample_value("scheduler_runs_total", {"job": "flaky", "outcome": "failed"}) == 2
    assert r.get_sample_value("scheduler_runs_total", {"job": "flaky", "outcome": "ok"}) == 1
    assert (r.get_sample_value("scheduler_last_success_timestamp_seconds", {"job": "flaky"}) or 0) > 0
