"""The credit scheduler (rt.background) runs the business day by itself and releases expired holds (C-04, C-07)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from credit.service.context import Credit
from credit.service.daily import DailyScheduler
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.db import make_engine

from .helpers import authorize, open_account, pos, staff


async def test_c07_scheduler_runs_each_business_day_once_and_releases_expired_holds(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    clock = cstack.clock  # type: ignore[attr-defined]
    sh = ZoneInfo("Asia/Shanghai")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "individual")
        held = (await authorize(till, cust, 5, 1000)).json()
    engine = make_engine(cstack.cfg.db_url("credit"), 2)
    sched = DailyScheduler(Credit(engine, cstack.cfg.topic_prefix, clock=clock), interval_s=0.05)
    task = asyncio.create_task(sched.run())
    try:
        day0 = clock.now.astimezone(sh).date()
        assert await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT count(*) FROM daily_runs "
                                                "WHERE run_date=$1", day0), 10, "today's run")
        await asyncio.sleep(0.3)  # more ticks on the same day change nothing
        assert await sql_value(cstack.cfg, "credit", "SELECT count(*) FROM daily_runs") == 1
        status = "SELECT status FROM authorizations WHERE authorization_id=$1"
        assert await sql_value(cstack.cfg, "credit", status, held["authorization_id"]) == "held"
        clock.advance(days=1)  # the hold expires and a new business day begins

        async def released() -> bool:
            return bool(await sql_value(cstack.cfg, "credit", status, held["authorization_id"]) == "released")

        await wait_for(released, 10, "the expired hold released by the scheduler")
        assert await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT count(*) FROM daily_runs "
                                                "WHERE run_date=$1", day0 + timedelta(days=1)), 10, "next day's run")
    finally:
        sched.stop()
        await task
        await engine.dispose()
