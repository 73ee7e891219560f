"""Requests with a 12-hour target on the real stack: staff accounts (O-03), access grants (M-07),
deletions (M-15, soft, reaching the gateway), and the HQ spot check (M-04)."""

from __future__ import annotations

from typing import Any

from devstack.testing import Stack, sql_value, wait_for

from tests.members.test_member_files import STORE, complete, login, lookup, mobile, setup


async def test_o03_m07_m15_m04_requests_queues_and_spot_check(stack: Stack) -> None:
    key = await setup(stack, mobile())
    await stack.add_store("HQ-000", "generic", region_code="000")
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": "HQCS", "store_id": "HQ-000", "name": "总部客服", "position": "HQ customer service",
         "role": "hq_cs", "password": "pw-HQCS-long"}])
    assert r.status_code == 201
    s1, s2, cs, hq = [await login(stack, s) for s in ("S1", "S2", "CS1", "HQCS")]

    # O-03: the store's CS manager requests an account, HQ customer service opens it; queue shows age/overdue
    r = await cs.post("/v1/account-requests", json={"reason": "new hire", "account": {
        "staff_id": "S9", "name": "新员工", "position": "sales assistant"}})
    assert r.status_code == 201
    rid = r.json()["request_id"]
    assert (await s1.post("/v1/account-requests", json={"reason": "x?"})).status_code == 403
    q = (await hq.get("/v1/account-requests")).json()["items"]
    assert [i["request_id"] for i in q] == [rid] and q[0]["overdue"] is False
    await sql_value(stack.cfg, "members", "UPDATE requests SET raised_at = now() - interval '13 hours' "
                    "WHERE request_id = $1", rid)
    assert (await cs.get("/v1/account-requests")).json()["items"][0]["overdue"] is True
    r = await hq.post(f"/v1/account-requests/{rid}/decision", json={"decision": "approve",
                                                                     "initial_password": "pw-S9-long"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert (await hq.post(f"/v1/account-requests/{rid}/decision", json={"decision": "reject"})).status_code == 409
    s9 = await login(stack, "S9")

    # M-07: another staff member's file needs a grant approved by a manager, for a limited time
    mid = (await s1.post("/v1/member-files", json=complete("郑晓梅", mobile()))).json()["member_id"]
    assert (await s2.get(f"/v1/member-files/{mid}")).status_code == 403
    r = await s2.post("/v1/access-grants", json={"reason": "S1 on leave, customer calling", "member_id": mid,
                                                  "hours": 2})
    gid = r.json()["request_id"]
    assert (await s2.post(f"/v1/access-grants/{gid}/decision", json={"decision": "approve"})).status_code == 403
    r = await cs.post(f"/v1/access-grants/{gid}/decision", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["valid_until"]
    assert (await s2.get(f"/v1/member-files/{mid}", headers={"X-Access-Reason": "grant"})).status_code == 200
    await sql_value(stack.cfg, "members", "UPDATE requests SET valid_until = now() - interval '1 second' "
                    "WHERE request_id = $1", gid)
    assert (await s2.get(f"/v1/member-files/{mid}")).status_code == 403  # expired grant

    # M-15: deletion by request with a reason, decided by HQ customer service; soft, and the gateway follows
    (m,) = await stack.add_members([{"store_id": STORE, "full_name": "冯志强", "mobile": mobile(),
                                     "referrer_staff_id": "S1"}])
    await stack.wait_directory(key, m["card_no"])
    r = await cs.post("/v1/deletion-requests", json={"reason": "customer asked", "member_id": m["member_id"]})
    did = r.json()["request_id"]
    r = await hq.post(f"/v1/deletion-requests/{did}/decision", json={"decision": "approve"})
    assert r.status_code == 200
    assert await sql_value(stack.cfg, "members", "SELECT status FROM members WHERE member_id=$1",
                           m["member_id"]) == "deleted"

    async def deleted_at_gateway() -> Any:
        return (await lookup(stack, key, card_no=m["card_no"])).json()["status"] == "deleted"

    await wait_for(deleted_at_gateway, 30, "gateway sees the deletion")
    done = (await hq.get("/v1/deletion-requests", params={"status": "approved"})).json()["items"]
    assert done[0]["request_id"] == did and done[0]["raised_by"] == "CS1"  # the audit trail

    # M-04: HQ spot-checks a random sample of approved files; the sample is in the access log
    await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile()} for n in ("何静", "罗军")])
    sample = (await hq.get("/v1/spot-check", params={"size": 2})).json()["members"]
    assert len(sample) == 2 and all(x["status"] == "active" for x in sample)
    assert all("****" in x["mobile"] for x in sample)  # HQ does not need the number: masked
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM access_log WHERE action='spot_check'") == 1
    for c in (s1, s2, cs, hq, s9):
        await c.aclose()
