"""Time-driven rules on the real stack, from consumptions recorded off pos.sales: M-10 detachment,
M-11 claiming with a tie carried over, M-09 dormancy, M-17 expiry; each idempotent per period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from devstack.testing import Stack, sql_value, wait_for
from members.domain.periodic import add_months

from tests.e2e.test_sale_fanout import sale
from tests.members.test_member_files import STORE, lookup, mobile, setup


async def run(stack: Stack, what: str, body: dict[str, str]) -> dict[str, Any]:
    r = await stack.admin.post(f"{stack.url('members')}/v1/admin/{what}", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_m09_m10_m11_m17_periodic_rules_are_idempotent(stack: Stack) -> None:
    key = await setup(stack, mobile())
    a, b = await stack.add_members([{"store_id": STORE, "full_name": "高志远", "mobile": mobile(),
                                     "referrer_staff_id": "S1"},
                                    {"store_id": STORE, "full_name": "林美玲", "mobile": mobile(),
                                     "referrer_staff_id": "S1"}])
    await stack.wait_directory(key, a["card_no"])
    served = [("2026-06-05", "S2"), ("2026-06-30T23:30:00+08:00", "S2"), ("2026-06-12", "S1"),  # June: detached
              ("2026-07-01T00:10:00+08:00", "S3"), ("2026-07-09", "S3"), ("2026-07-10", "S2"),
              ("2026-07-11", "S2"),                                                             # July: a tie
              ("2026-08-03", "S3")]                                                             # August: S3 3-2
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as g:
        for i, (when, staff) in enumerate(served):
            at = when if "T" in when else f"{when}T12:00:00+08:00"
            r = await g.post("/v1/sales", json=sale(STORE, f"P{i}", a["card_no"], 1000, occurred_at=at,
                                                    booked_by_staff_id=staff))
            assert r.status_code == 201, r.text

    async def recorded() -> bool:
        return int(await sql_value(stack.cfg, "members", "SELECT count(*) FROM consumptions")) == len(served)

    await wait_for(recorded, 30, "consumptions recorded from pos.sales")
    june = await run(stack, "month-end", {"period": "2026-06"})
    assert june["detached"] == 1  # M-10: 2 of 3 June consumptions through S2 (23:30 Beijing time is June)
    assert await sql_value(stack.cfg, "members", "SELECT status FROM members WHERE member_id=$1",
                           a["member_id"]) == "public"
    july = await run(stack, "month-end", {"period": "2026-07"})
    assert july["tied"] == 1 and july["claimed"] == 0  # M-11: S3 2, S2 2 → stays public, counts carried
    events = await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox")
    again = await run(stack, "month-end", {"period": "2026-07"})
    assert again["already_ran"] is True
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox") == events  # nothing twice
    aug = await run(stack, "month-end", {"period": "2026-08"})
    assert aug["claimed"] == 1  # carried 2 + 1 in August beats S2's 2
    row = await sql_value(stack.cfg, "members", "SELECT referrer_staff_id || ':' || status FROM members "
                          "WHERE member_id=$1", a["member_id"])
    assert row == "S3:pending_review"  # the new referrer confirms the file, which is reviewed again

    async def a_pending() -> Any:
        r = await lookup(stack, key, card_no=a["card_no"])
        return r.json()["status"] == "pending_review"

    await wait_for(a_pending, 30, "gateway sees the claimed member back in review")

    # M-09 and M-17 as of a date: b never bought (registered today), its card valid until 1 Jan 2027
    await sql_value(stack.cfg, "members", "UPDATE cards SET valid_until='2027-01-01' WHERE card_no=$1",
                    b["card_no"])
    created = await sql_value(stack.cfg, "members", "SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date "
                              "FROM members WHERE member_id=$1", b["member_id"])
    mark = add_months(created, 3)
    before = await run(stack, "daily", {"date": str(mark - timedelta(days=1))})
    assert before["dormant"] == 0 and before["expired"] == 1  # M-17: past valid_until; not yet 3 months idle
    day = await run(stack, "daily", {"date": str(mark)})
    assert day["dormant"] == 1 and day["expired"] == 0  # M-09: three calendar months without consumption
    assert (await run(stack, "daily", {"date": str(mark)}))["already_ran"] is True

    async def b_public_expired() -> Any:
        r = await lookup(stack, key, card_no=b["card_no"])
        return r.json()["status"] == "public" and r.json()["card_status"] == "expired"

    await wait_for(b_public_expired, 30, "gateway sees dormancy and the expired card")
