"""M-06 on the real stack: a second file for the same mobile in a store is refused; two files of one customer are
merged by agreement by the store's customer-service manager, keeping one referrer; the duplicate ends deleted (soft)
pointing at the kept file, its card stops, its consumption history stays, and the merge is audited."""

from __future__ import annotations

from typing import Any

from devstack.testing import Stack, sql_value, wait_for

from tests.members.test_member_files import STORE, complete, login, lookup, mobile, setup


async def test_m06_duplicate_files_merged_by_agreement_keep_one_referrer(stack: Stack) -> None:
    key = await setup(stack, mobile())
    phone1, phone2 = mobile(), mobile()
    a, b = await stack.add_members([{"store_id": STORE, "full_name": "韩雪梅", "mobile": phone1,
                                     "referrer_staff_id": "S1"},
                                    {"store_id": STORE, "full_name": "韩雪梅", "mobile": phone2,
                                     "referrer_staff_id": "S2"}])  # the same customer, her second phone
    await sql_value(stack.cfg, "members", "INSERT INTO consumptions (sale_id, member_id, store_id, "
                    "booked_by_staff_id, amount, occurred_at) VALUES ('SALE-B', $1, $2, 'S2', 88000, now())",
                    b["member_id"], STORE)
    s1, s2, cs = [await login(stack, s) for s in ("S1", "S2", "CS1")]

    # a second file for the same mobile in the same store is refused (exists)
    r = await s2.post("/v1/member-files", json=complete("韩雪梅", phone1))
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06"
    r = await s1.patch(f"/v1/member-files/{a['member_id']}", json={"mobile": phone2})  # nor by changing a file
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06"

    body: dict[str, Any] = {"duplicate_member_id": b["member_id"], "referrer_staff_id": "S2",
                            "reason": "same customer, second phone; S1 and S2 agreed S2 keeps her"}
    assert (await s1.post(f"/v1/member-files/{a['member_id']}/merge", json=body)).status_code == 403  # O-02
    r = await cs.post(f"/v1/member-files/{a['member_id']}/merge", json=body | {"referrer_staff_id": "CS1"})
    assert r.status_code == 422 and r.json()["errors"][0] | {} == {
        "field": "referrer_staff_id", "rule": "M-06", "message": r.json()["errors"][0]["message"]}
    r = await cs.post(f"/v1/member-files/{a['member_id']}/merge", json=body | {"duplicate_member_id": a["member_id"]})
    assert r.status_code == 422
    c = (await s1.post("/v1/member-files", json={"full_name": "韩雪梅", "mobile": mobile()})).json()["member_id"]
    r = await cs.post(f"/v1/member-files/{c}/merge", json=body)  # would leave her without her card
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06"
    r = await cs.post(f"/v1/member-files/{a['member_id']}/merge", json=body)
    assert r.status_code == 200, r.text
    assert r.json() | {"merge_id": ""} == {"merge_id": "", "kept_member_id": a["member_id"],
                                           "merged_member_id": b["member_id"], "referrer_staff_id": "S2",
                                           "dropped_referrer_staff_id": "S1", "merged_state": "deleted"}

    async def one(sql: str, *args: Any) -> Any:
        return await sql_value(stack.cfg, "members", sql, *args)

    # one file, one referrer; the other file is soft-deleted and points at the kept one; its card stops
    assert await one("SELECT referrer_staff_id FROM members WHERE member_id=$1", a["member_id"]) == "S2"
    assert await one("SELECT status || ' ' || merged_into || ' ' || card_status FROM members WHERE member_id=$1",
                     b["member_id"]) == f"deleted {a['member_id']} blocked"
    assert await one("SELECT status FROM cards WHERE card_no=$1", b["card_no"]) == "blocked"
    # consumption history stays (M-08), credited as it was
    assert await one("SELECT booked_by_staff_id FROM consumptions WHERE member_id=$1", b["member_id"]) == "S2"
    # audited: who merged what, why, and whose referrer was dropped; the access log names both files
    assert await one("SELECT merged_by || ' ' || dropped_referrer_staff_id FROM merges WHERE kept_member_id=$1",
                     a["member_id"]) == "CS1 S1"
    assert await one("SELECT member_ids FROM access_log WHERE action='merge'") == [a["member_id"], b["member_id"]]
    assert await one("SELECT count(*) FROM outbox WHERE key=$1 AND headers->>'ce_type'='members.member.state_changed'",
                     b["member_id"]) == 1
    assert await one("SELECT count(*) FROM outbox WHERE key=$1 AND headers->>'ce_type'='members.member.updated'",
                     a["member_id"]) == 1
    r = await cs.post(f"/v1/member-files/{a['member_id']}/merge", json=body)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-08"  # merged once, never twice

    async def gateway_follows() -> bool:
        return (await lookup(stack, key, card_no=b["card_no"])).json().get("status") == "deleted"

    await wait_for(gateway_follows, 30, "the merged file is deleted at the POS directory")
    # the kept file is S2's now (M-07): S2 sees it, S1 no longer does
    assert (await s2.get(f"/v1/member-files/{a['member_id']}")).status_code == 200
    assert (await s1.get(f"/v1/member-files/{a['member_id']}")).status_code == 403
    for c in (s1, s2, cs):
        await c.aclose()
