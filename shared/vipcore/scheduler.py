"""The one periodic loop every service's scheduled work runs in (rt.background), run once across instances.

Several instances of a service may run side by side (`./dev up --instances 2`); their scheduled work (expiry,
downgrades, birthdays, daily credit runs, coupon release, month-end, purges) must still run on one of them. Each
ticker therefore takes a PostgreSQL session advisory lock named after its job on a connection of its own before it
ticks (`LeaderLock`). The instance holding it is the leader and ticks; the others try again every
`leader_retry_s`. A leader that dies (SIGKILL, crash, lost network) loses its connection and with it the lock,
so another instance takes over within `leader_retry_s` plus the server noticing the dropped connection (at once
for a killed process on the same host: the kernel closes its socket).

No double run of a tick window: an instance that becomes leader after having seen another leader waits one full
interval before its first tick (the old leader ticked at the latest when it died, which is before the takeover), so
two ticks of one job are never closer than `interval_s`. An instance that finds the lock free on its first try
(the first instance to start, or a whole system restarted) ticks at once, as a single instance always did.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from abc import ABC, abstractmethod
from typing import Any

import sqlalchemy as sa

from .logs import get_logger
from .redact import safe_error

log = get_logger(__name__)

LEADER_RETRY_S = 5.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class LeaderLock:
    """A PostgreSQL session advisory lock held on a dedicated connection (autocommit, never back in the pool).

    `await acquire()` tries once and answers whether this process holds the lock now; `await held()` checks the
    connection still lives (a session lock lasts as long as its session); `await release()` unlocks and closes."""

    def __init__(self, engine: Any, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._conn: Any = None

    @property
    def is_held(self) -> bool:
        return self._conn is not None

    async def acquire(self) -> bool:
        if self._conn is not None:
            return await self.held()
        conn = await self.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
        except BaseException:
            await self._discard(conn)
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            async with asyncio.timeout(5):
                await self._conn.execute(sa.text("SELECT 1"))
            return True
        except Exception as e:  # noqa: BLE001 - the session is gone, and the lock with it
            log.warning("scheduler lost its leader lock", job=self.name, error=safe_error(e))
            conn, self._conn = self._conn, None
            await self._discard(conn)
            return False

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await conn.close()
        except Exception:  # noqa: BLE001 - closing the session frees the lock anyway
            await self._discard(conn)

    @staticmethod
    async def _discard(conn: Any) -> None:
        """Close without handing the session (and any lock it holds) back to the pool."""
        try:
            await conn.invalidate()
        except Exception:  # noqa: BLE001
            pass
        try:
            await conn.close()
        except Exception:  # noqa: BLE001
            pass


class Ticker(ABC):
    """Calls `tick()` now and then every `interval_s` until stopped. A failing tick (say the database is away) is
    logged and tried again at the next one, so a schedule never ends by itself; the jobs a tick runs are
    idempotent per period, so running one twice changes nothing.

    With `leader` set (ServiceRuntime sets a `LeaderLock` named `<service>:<job>` on every ticker it runs) only
    the instance holding the lock ticks; see the module text."""

    leader: LeaderLock | None = None

    runs: Any = None  # Counter scheduler_runs{job,outcome}, set by the ServiceRuntime at start
    last_success: Any = None  # Gauge scheduler_last_success_timestamp_seconds{job}

    def __init__(self, interval_s: float, name: str) -> None:
        self.interval_s = interval_s
        self.name = name
        self.leader_retry_s = min(interval_s, LEADER_RETRY_S)
        self._stop = asyncio.Event()

    @abstractmethod
    async def tick(self) -> None:
        """One round of the scheduled work."""

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self.leader is not None:
                await asyncio.shield(self.leader.release())

    async def _run(self) -> None:
        seen_other = False  # this instance was not leader at some point: its first tick as leader waits an interval
        while not self._stop.is_set():
            wait = self.interval_s
            try:
                if self.leader is None or self.leader.is_held and await self.leader.held():
                    await self.tick()
                    self._count("ok")
                elif await self.leader.acquire():
                    log.info("scheduler is leader", job=self.name, waits_one_interval=seen_other)
                    if not seen_other:
                        await self.tick()
                        self._count("ok")
                else:
                    seen_other, wait = True, self.leader_retry_s
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retried at the next tick
                log.warning("scheduled work failed", job=self.name, error=safe_error(e))
                self._count("failed")
            if self.leader is not None and not self.leader.is_held:
                seen_other, wait = True, self.leader_retry_s
            try:
                await asyncio.wait_for(self._stop.wait(), wait)
            except TimeoutError:
                pass

    def _count(self, outcome: str) -> None:
        if self.runs is not None:
            self.runs.labels(self.name, outcome).inc()
        if outcome == "ok" and self.last_success is not None:
            self.last_success.labels(self.name).set(time.time())

    def stop(self) -> None:
        self._stop.set()
