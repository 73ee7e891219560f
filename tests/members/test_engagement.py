"""M-20 revisits and prospects, M-21 KPI against the ramp with members lost this month, on the real stack."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from devstack.testing import Stack, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale
from tests.members.test_member_files import STORE, login, mobile, setup


async def test_m20_m21_revisits_prospects_and_kpi(stack: Stack) -> None:
    key = await setup(stack, mobile())
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": "K1", "store_id": STORE, "name": "柯小红", "position": "customer_service_rep", "role": "staff",
         "password": "pw-K1-long", "started_on": "2026-05-01"}])
    assert r.status_code == 201
    k1, cs = await login(stack, "K1"), await login(stack, "CS1")
    ms = await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile(), "referrer_staff_id": "K1"}
                                  for n in ("邓丽君", "许文强", "曹雪芹", "鲁智深")])
    await stack.wait_directory(key, ms[-1]["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as g:
        for i in range(2):  # June: the last member is served only by S2 → detached from K1 (M-10)
            assert (await g.post("/v1/sales", json=sale(STORE, f"K{i}", ms[-1]["card_no"], 100,
                                                        occurred_at="2026-06-10T12:00:00+08:00",
                                                        booked_by_staff_id="S2"))).status_code == 201

    async def recorded() -> bool:
        return int(await sql_value(stack.cfg, "members", "SELECT count(*) FROM consumptions")) == 2

    await wait_for(recorded, 30, "consumptions")
    r = await stack.admin.post(f"{stack.url('members')}/v1/admin/month-end", json={"period": "2026-06"})
    assert r.json()["detached"] == 1
    kpi = {s["staff_id"]: s for s in (await cs.get("/v1/kpi", params={"period": "2026-06"})).json()["staff"]}
    assert (kpi["K1"]["month_in_position"], kpi["K1"]["target"]) == (2, 4)  # ramp: 2, 4, 6, ...
    assert (kpi["K1"]["held"], kpi["K1"]["lost_this_month"], kpi["K1"]["met"], kpi["K1"]["short_by"]) == (3, 1,
                                                                                                       False, 1)
    assert (await k1.get("/v1/kpi", params={"period": "2026-06"})).status_code == 403

    # M-20: a revisit with its next date; the plan lists what is due; a prospect's level sets its next visit
    m = ms[0]["member_id"]
    r = await k1.post(f"/v1/member-files/{m}/revisits", json={"summary": "asked about gold prices",
                                                               "next_date": "2026-12-01"})
    assert r.status_code == 201
    plan = (await k1.get("/v1/revisits/plan", params={"on": "2026-12-01"})).json()
    assert [x["member_id"] for x in plan["members"]] == [m] and plan["holiday_calls"]["holidays"] == []
    assert (await k1.get("/v1/revisits/plan", params={"on": "2026-11-30"})).json()["members"] == []

    # the console's member page: the file's history — states, cards (M-17), revisits (M-20), purchases — as M-07 allows
    r = await k1.post(f"/v1/member-files/{m}/card:report-lost")
    assert r.status_code in (200, 201), r.text
    h = (await cs.get(f"/v1/member-files/{m}/history", headers={"X-Access-Reason": "console: member page"})).json()
    assert h["events"][-1]["event"] == "opened" and h["events"][-1]["by"] == "K1"
    assert sorted(c["status"] for c in h["cards"]) == ["active", "blocked"] and h["cards"][0]["status"] == "active"
    assert [(v["staff_id"], v["summary"], v["next_date"]) for v in h["revisits"]] == [
        ("K1", "asked about gold prices", "2026-12-01")]
    bought = (await cs.get(f"/v1/member-files/{ms[-1]['member_id']}/history")).json()["consumptions"]
    assert [b["amount"] for b in bought] == [100, 100] and bought[0]["store_id"] == STORE
    s1 = await login(stack, "S1")  # M-07: a referrer sees only their own members' files
    r = await s1.get(f"/v1/member-files/{m}/history")
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "M-07"
    # the console's dashboard: the store's day so far (files opened today; the June sales are not today's)
    day = (await cs.get("/v1/stats/today")).json()
    assert day["stores"] == [{"store_id": STORE, "new_members": 4, "member_sales": 0, "member_sales_amount": 0}]
    assert (await s1.get("/v1/stats/today")).status_code == 403  # O-02
    assert (await cs.get("/v1/stats/today", params={"tz": "Mars/Olympus"})).status_code == 422
    await s1.aclose()
    q = "SELECT count(*) FROM access_log WHERE action = 'read:history' AND reason = 'console: member page'"
    assert await sql_value(stack.cfg, "members", q) == 1
    r = await k1.post("/v1/prospects", json={"full_name": "卫青云", "mobile": mobile(), "intent": "H"})
    assert r.status_code == 201
    nxt = date.fromisoformat(r.json()["next_visit"])
    plan = (await k1.get("/v1/revisits/plan", params={"on": nxt.isoformat()})).json()
    assert [x["intent"] for x in plan["prospects"]] == ["H"]
    assert (await k1.get("/v1/revisits/plan", params={"on": str(nxt - timedelta(days=1))})).json()["prospects"] == []
    r = await k1.post("/v1/prospects", json={"full_name": "王先生", "mobile": mobile(), "intent": "A"})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-02"
    for c in (k1, cs):
        await c.aclose()
