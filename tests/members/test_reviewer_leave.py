"""O-03 on the real stack: account (and deletion) requests are assigned to one HQ reviewer when raised; a reviewer on
leave names a delegate, and while the leave lasts their items are in the delegate's queue and only the delegate
decides them; back from leave, the items come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devstack.testing import Stack

from tests.members.test_member_files import login, mobile, setup


async def test_o03_reviewer_on_leave_names_a_delegate_who_gets_their_requests(stack: Stack) -> None:
    await setup(stack, mobile())
    await stack.add_store("HQ-000", "generic", region_code="000")
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": h, "store_id": "HQ-000", "name": f"总部客服{h}", "position": "HQ customer service",
         "role": "hq_cs", "password": f"pw-{h}-long"} for h in ("HQA", "HQB")])
    assert r.status_code == 201
    cs, hqa, hqb, s1 = [await login(stack, s) for s in ("CS1", "HQA", "HQB", "S1")]

    async def account(staff_id: str) -> dict[str, str]:
        r = await cs.post("/v1/account-requests", json={"reason": "new hire", "account": {
            "staff_id": staff_id, "name": "新员工", "position": "sales assistant"}})
        assert r.status_code == 201, r.text
        return dict(r.json())

    r1, r2 = await account("N1"), await account("N2")
    assert (r1["reviewer"], r2["reviewer"]) == ("HQA", "HQB")  # assigned when raised, the least loaded first

    async def queue(c: object) -> list[tuple[str, str, str]]:
        items = (await c.get("/v1/account-requests")).json()["items"]  # type: ignore[attr-defined]
        return [(i["request_id"], i["reviewer"], i["routed_to"]) for i in items]

    assert await queue(hqa) == [(r1["request_id"], "HQA", "HQA")]
    assert await queue(hqb) == [(r2["request_id"], "HQB", "HQB")]
    until = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    # leave needs a present HQ reviewer as delegate, and an end
    for body, field in (({"delegate_staff_id": "HQA", "until": until}, "delegate_staff_id"),
                        ({"delegate_staff_id": "S1", "until": until}, "delegate_staff_id"),
                        ({"delegate_staff_id": "HQB", "until": "2020-01-01T00:00:00Z"}, "until")):
        r = await hqa.put("/v1/reviewer-leave", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
        assert r.json()["errors"][0]["rule"] == "O-03"
    assert (await s1.put("/v1/reviewer-leave", json={"delegate_staff_id": "HQB", "until": until})).status_code == 403
    r = await hqa.put("/v1/reviewer-leave", json={"delegate_staff_id": "HQB", "until": until})
    assert r.status_code == 200 and r.json()["delegate_staff_id"] == "HQB"

    # on leave: HQA's item is in HQB's queue and only HQB decides it; new requests go to HQB
    assert await queue(hqa) == []
    assert sorted(await queue(hqb)) == sorted([(r1["request_id"], "HQA", "HQB"), (r2["request_id"], "HQB", "HQB")])
    r = await hqa.post(f"/v1/account-requests/{r1['request_id']}/decision",
                       json={"decision": "approve", "initial_password": "pw-N1-long"})
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-03"
    assert "HQB" in r.json()["errors"][0]["message"]
    r3 = await account("N3")
    assert (r3["reviewer"], r3["routed_to"]) == ("HQB", "HQB")
    r = await hqb.post(f"/v1/account-requests/{r1['request_id']}/decision",
                       json={"decision": "approve", "initial_password": "pw-N1-long"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    done = (await cs.get("/v1/account-requests", params={"status": "approved"})).json()["items"]
    assert [(i["request_id"], i["reviewer"]) for i in done] == [(r1["request_id"], "HQA")]

    # back from leave: what is assigned to HQA is theirs again (the next request is theirs: fewest pending)
    assert (await hqa.delete("/v1/reviewer-leave")).status_code == 200
    r4 = await account("N4")
    assert await queue(hqa) == [(r4["request_id"], "HQA", "HQA")]
    r = await hqb.post(f"/v1/account-requests/{r4['request_id']}/decision", json={"decision": "reject"})
    assert r.status_code == 403
    for c in (cs, hqa, hqb, s1):
        await c.aclose()
