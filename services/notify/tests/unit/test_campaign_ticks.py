"""The campaign loop ticks fast only while a campaign is released; idle, it looks for due campaigns once a second
(issue 15: 20 transactions a second of an idle notify were CPU spent on nothing)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from notify.service.campaigns import Campaigns


class Counted(Campaigns):
    def __init__(self, busy: bool) -> None:
        super().__init__(None, daily_cap=3, clock=lambda: datetime.now(UTC),  # type: ignore[arg-type]
                         wake_dispatch=lambda: None, tick_s=0.05, idle_s=1.0)
        self.busy, self.ticks = busy, 0

    async def tick(self) -> bool:
        self.ticks += 1
        return self.busy


async def _ticks(busy: bool, seconds: float = 0.6) -> int:
    c = Counted(busy)
    task = asyncio.create_task(c.run())
    await asyncio.sleep(seconds)
    c.stop()
    await task
    return c.ticks


async def test_idle_loop_ticks_once_a_second_and_a_running_campaign_every_50_ms() -> None:
    assert await _ticks(busy=False) == 1
    assert await _ticks(busy=True) >= 6
