"""Business dates in each store's own time zone: due dates (C-03), the daily overdue run (C-07, C-04) and the
17:00 coupon tally (C-09) for stores in Asia/Shanghai, Asia/Urumqi and Europe/Berlin, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

from credit.service.context import Credit
from credit.service.daily import DailyScheduler
from devstack.testing import Stack, sql_value
from vipcore.auth import Role
from vipcore.db import make_engine
from vipcore.pii import Keyring

from .helpers import (
    add_store_in,
    authorize,
    credit_sale,
    draw_coupons,
    open_account,
    pos,
    receivables_of,
    staff,
)
from .test_coupons_and_rebates import sale_body


async def test_c03_due_dates_in_each_stores_time_zone(cstack: Stack) -> None:
    keys = {"XA-1": await cstack.add_store("XA-1", "generic", region_code="029"),
            "UR-1": await add_store_in(cstack, "UR-1", "Asia/Urumqi"),
            "BE-1": await add_store_in(cstack, "BE-1", "Europe/Berlin")}
    # late on 31 March in Urumqi (UTC+6) and Berlin (UTC+2 in summer) is already 1 April in Xi'an (UTC+8):
    # a government body's invoice is due on 10 April there, on 10 May in Xi'an.
    cases = {"XA-1": ("2026-03-31T17:30:00+00:00", "2026-05-10"),  # 01:30 on 1 April in Xi'an
             "UR-1": ("2026-03-31T17:30:00+00:00", "2026-04-10"),  # 23:30 on 31 March in Urumqi
             "BE-1": ("2026-03-31T21:30:00+00:00", "2026-04-10")}  # 23:30 on 31 March in Berlin
    async with staff(cstack, Role.HQ_ADMIN) as hq:
        for store, (at, due) in cases.items():
            cust = await open_account(hq, "government", store_id=store)
            async with pos(cstack, keys[store]) as till:
                a = (await authorize(till, cust, 1, 1000, store_id=store)).json()
                sale = credit_sale(f"R-TZ-{store}", cust, a["authorization_id"], 1000, at, store_id=store)
                assert (await till.post("/v1/sales", json=sale)).status_code == 201
            (rec,) = await receivables_of(cstack, cust, 1)
            assert rec["due_date"] == due, (store, rec)
    # the day of one zone only: 11 April in Urumqi finds the Urumqi invoice overdue, not Berlin's or Xi'an's
    run = await cstack.admin.post(f"{cstack.url('credit')}/admin/daily-runs",
                                  json={"date": "2026-04-11", "timezone": "Asia/Urumqi"})
    assert (run.json()["timezone"], run.json()["overdue_invoices"]) == ("Asia/Urumqi", 1)
    bad = await cstack.admin.post(f"{cstack.url('credit')}/admin/daily-runs",
                                  json={"date": "2026-04-11", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "timezone"


async def test_c07_daily_run_begins_at_midnight_in_each_stores_time_zone(cstack: Stack) -> None:
    keys = {"XA-1": await cstack.add_store("XA-1", "generic", region_code="029"),
            "UR-1": await add_store_in(cstack, "UR-1", "Asia/Urumqi")}
    clock = cstack.clock  # type: ignore[attr-defined]
    clock.now = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 1 March in both zones: due 21 March (20 days, C-03)
    custs = {}
    async with staff(cstack, Role.HQ_ADMIN) as hq:
        for store, key in keys.items():
            custs[store] = cust = await open_account(hq, "individual", store_id=store)
            async with pos(cstack, key) as till:
                a = (await authorize(till, cust, 1, 1000, store_id=store)).json()
                sale = credit_sale(f"R-MN-{store}", cust, a["authorization_id"], 1000, clock.now.isoformat(),
                                   store_id=store)
                assert (await till.post("/v1/sales", json=sale)).status_code == 201
            (rec,) = await receivables_of(cstack, cust, 1)
            assert rec["due_date"] == "2026-03-21"
    engine = make_engine(cstack.cfg.db_url("credit"), 2)
    sched = DailyScheduler(Credit(engine, cstack.cfg.topic_prefix, clock=clock,
                                  enc_key=Keyring.parse(cstack.cfg.pii_keys["credit"]),
                                  event_keys=Keyring.parse(cstack.cfg.event_pii_keys)), interval_s=1)

    async def overdue(store: str) -> bool:
        return bool(await sql_value(cstack.cfg, "credit", "SELECT overdue FROM credit_accounts WHERE customer_id=$1",
                                    custs[store]))

    try:
        clock.now = datetime(2026, 3, 21, 17, 30, tzinfo=UTC)  # 01:30 on 22 March in Xi'an, 23:30 on 21 in Urumqi
        await sched.tick()
        assert (await overdue("XA-1"), await overdue("UR-1")) == (True, False)
        async with staff(cstack, Role.HQ_ADMIN) as hq:  # aging on each store's own date
            rows = {r["store"]: r for r in (await hq.get("/v1/reports/aging", params={"by": "store"})).json()["rows"]}
        assert (rows["XA-1"]["d1_30"], rows["UR-1"]["current"]) == (1000, 1000)
        clock.now = datetime(2026, 3, 21, 18, 30, tzinfo=UTC)  # 00:30 on 22 March in Urumqi
        await sched.tick()
        assert (await overdue("XA-1"), await overdue("UR-1")) == (True, True)
        runs = await sql_value(cstack.cfg, "credit", "SELECT string_agg(timezone || ' ' || run_date || ' ' || "
                               "reminders, ', ' ORDER BY timezone, run_date) FROM daily_runs "
                               "WHERE run_date >= '2026-03-21' AND run_date < '2026-04-01'")
        assert runs == "Asia/Shanghai 2026-03-22 1, Asia/Urumqi 2026-03-21 0, Asia/Urumqi 2026-03-22 1"
    finally:
        await engine.dispose()


async def test_c09_17_00_tally_in_each_stores_time_zone(cstack: Stack) -> None:
    await cstack.add_store("XA-1", "generic", region_code="029")
    await add_store_in(cstack, "BE-1", "Europe/Berlin")
    clock = cstack.clock  # type: ignore[attr-defined]
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.HQ_CS) as mgr, \
            staff(cstack, Role.STORE_MANAGER, store_id="XA-1") as xa_mgr:
        clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
        tz = await draw_coupons(cstack, fin, "TZ-", 10_000, 4, "2027-06-30")
        sold = {}
        # Berlin is UTC+1 in November: 15:59 and 16:01 UTC are 16:59 and 17:01 there (23:59 / 00:01 in Xi'an)
        for no, (store, hh, mm) in enumerate((("BE-1", 15, 59), ("BE-1", 16, 1), ("XA-1", 8, 59), ("XA-1", 9, 1)),
                                             start=1):
            clock.now = datetime(2026, 11, 23, hh, mm, tzinfo=UTC)
            async with staff(cstack, Role.STAFF, store_id=store) as clerk:  # each store sells its own (O-02)
                r = await clerk.post("/v1/coupon-sales", json={**sale_body([tz[no - 1]], "cash"), "store_id": store})
            assert r.status_code == 201, r.text
            sold[no] = r.json()["coupon_sale_id"]

        async def tally(day: str, store: str | None = None) -> list[str]:
            params = {"date": day, **({"store_id": store} if store else {})}
            return [s["coupon_sale_id"] for s in (await mgr.get("/v1/reports/coupon-tally", params=params)).json()
                    ["sales"]]

        assert await tally("2026-11-23", "BE-1") == [sold[1]]
        assert await tally("2026-11-24", "BE-1") == [sold[2]]
        assert await tally("2026-11-23", "XA-1") == [sold[3]]  # 16:59 in Xi'an
        assert await tally("2026-11-24", "XA-1") == [sold[4]]  # 17:01 in Xi'an
        assert await tally("2026-11-23") == [sold[3], sold[1]]  # every store, each by its own 17:00
        assert await tally("2026-11-24") == [sold[4], sold[2]]
        # O-02: a store manager tallies their own store only
        own = (await xa_mgr.get("/v1/reports/coupon-tally", params={"date": "2026-11-23"})).json()
        assert [s["coupon_sale_id"] for s in own["sales"]] == [sold[3]]
        other = await xa_mgr.get("/v1/reports/coupon-tally", params={"date": "2026-11-23", "store_id": "BE-1"})
        assert other.status_code == 403 and other.json()["errors"][0]["rule"] == "O-02"
