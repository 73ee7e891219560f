"""Scheduled work runs once across instances (issue 14 item 2): two processes run the same ticker against one
PostgreSQL database; only the holder of the job's advisory lock ticks, and when it is SIGKILLed the other takes
over within a bounded time without running a tick window twice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime

import asyncpg
from devstack.testing import StackConfig, wait_for

INTERVAL_S = 2.0
RETRY_S = 0.5

# One instance: a Ticker whose tick records (instance, database clock) — the shape of every service's scheduler.
INSTANCE = """
import asyncio, sys
import sqlalchemy as sa
from vipcore.db import make_engine
from vipcore.scheduler import LeaderLock, Ticker

url, me, interval, retry = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])

class Job(Ticker):
    async def tick(self) -> None:
        async with self.engine.begin() as c:
            await c.execute(sa.text("INSERT INTO ticks (instance) VALUES (:me)"), {"me": me})

async def main() -> None:
    job = Job(interval, "test job")
    job.engine = make_engine(url, 2)
    job.leader = LeaderLock(job.engine, "test:" + job.name)
    job.leader_retry_s = retry
    await job.run()

asyncio.run(main())
"""


def instance(url: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", INSTANCE, url, name, str(INTERVAL_S), str(RETRY_S)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def ticks(dsn: str) -> list[tuple[str, datetime]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [(r["instance"], r["at"]) for r in await conn.fetch("SELECT instance, at FROM ticks ORDER BY at")]
    finally:
        await conn.close()


async def test_one_instance_ticks_and_another_takes_over_when_it_is_killed(stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.create_service_database("gateway")
    dsn = cfg.db_url("gateway").replace("+asyncpg", "")  # the service's own role: it owns the database
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE ticks (instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    await conn.close()
    url = cfg.db_url("gateway")

    a = instance(url, "a")
    b: subprocess.Popen[bytes] | None = None
    try:
        # the first instance finds the lock free and ticks at once, as a single instance always did
        await wait_for(lambda: _count(dsn, "a", 2), 20, "instance a to tick twice")
        b = instance(url, "b")
        await asyncio.sleep(3 * INTERVAL_S)  # b runs, tries the lock every RETRY_S, never ticks
        assert await _count(dsn, "b", 1) is False
        assert await _count(dsn, "a", 4)

        a.kill()  # SIGKILL: no unlock; the server frees the lock when the dead process's connection drops
        a.wait()
        killed_at = time.time()
        await wait_for(lambda: _count(dsn, "b", 2), 20, "instance b to take over")
        rows = await ticks(dsn)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()

    names = [n for n, _ in rows]
    first_b = names.index("b")
    assert set(names[:first_b]) == {"a"} and set(names[first_b:]) == {"b"}  # one leader at a time, a then b
    # bounded takeover: b acquires within RETRY_S of the kill, then waits one interval before its first tick
    assert rows[first_b][1].timestamp() - killed_at < RETRY_S + INTERVAL_S + 3.0
    # no double run of a tick window: no two ticks of the job closer than the interval, across the takeover too
    gaps = [(t2 - t1).total_seconds() for (_, t1), (_, t2) in zip(rows, rows[1:], strict=False)]
    assert min(gaps) >= INTERVAL_S - 0.05, gaps


async def _count(dsn: str, name: str, at_least: int) -> bool:
    return sum(1 for n, _ in await ticks(dsn) if n == name) >= at_least
