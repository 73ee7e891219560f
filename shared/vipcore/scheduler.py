"""The one periodic loop every service's scheduled work runs in (rt.background)."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from typing import Any

from .logs import get_logger

log = get_logger(__name__)


class Ticker(ABC):
    """Calls `tick()` now and then every `interval_s` until stopped. A failing tick (say the database is away) is
    logged and tried again at the next one, so a schedule never ends by itself; the jobs a tick runs are
    idempotent per period, so running one twice changes nothing."""

    runs: Any = None  # Counter scheduler_runs{job,outcome}, set by the ServiceRuntime at start
    last_success: Any = None  # Gauge scheduler_last_success_timestamp_seconds{job}

    def __init__(self, interval_s: float, name: str) -> None:
        self.interval_s = interval_s
        self.name = name
        self._stop = asyncio.Event()

    @abstractmethod
    async def tick(self) -> None:
        """One round of the scheduled work."""

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
                self._count("ok")
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retried at the next tick
                log.warning("scheduled work failed", job=self.name, error=repr(e))
                self._count("failed")
            try:
                await asyncio.wait_for(self._stop.wait(), self.interval_s)
            except TimeoutError:
                pass

    def _count(self, outcome: str) -> None:
        if self.runs is not None:
            self.runs.labels(self.name, outcome).inc()
        if outcome == "ok" and self.last_success is not None:
            self.last_success.labels(self.name).set(time.time())

    def stop(self) -> None:
        self._stop.set()
