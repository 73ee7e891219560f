"""The member-file desk's routes on the real service (issue 12): M-13 every change to a file is recorded with who
changed which field (mobile masked), the state it left and entered, and every review decision — in the change
record and the file history; M-16 the blacklist is listed for every store with the listing store, filtered by
phone and store and paged; M-06 likely duplicates of a file; M-15 the deletion queue paged at members."""

from __future__ import annotations

from devstack.testing import Stack, sql_value

from tests.members.test_member_files import complete, login, mobile

STORE, OTHER = "XA-611", "SZ-611"


async def seed(stack: Stack) -> None:
    m = stack.url("members")
    for sid, region in ((STORE, "755"), (OTHER, "755"), ("HQ-611", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": sid, "name": f"门店 {sid}",
                                                            "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "name": f"员工{s}", "position": role, "role": role,
         "password": "pw-" + s + "-long"}
        for s, st, role in (("S1", STORE, "staff"), ("S2", STORE, "staff"), ("CS1", STORE, "store_cs_manager"),
                            ("GM1", STORE, "store_manager"), ("CS2", OTHER, "store_cs_manager"),
                            ("HQCS", "HQ-611", "hq_cs"), ("AUD", "HQ-611", "auditor"))])
    assert r.status_code == 201, r.text


async def test_m13_changes_and_decisions_are_recorded_with_who_and_what(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    s1, s2, cs, gm = [await login(stack, s) for s in ("S1", "S2", "CS1", "GM1")]
    phone, phone2 = mobile(), mobile()
    mid = (await s1.post("/v1/member-files", json=complete("周雅琴", phone))).json()["member_id"]
    assert (await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})).status_code == 200

    # M-13: the referrer changes the address and the phone; the file goes back to review
    r = await s1.patch(f"/v1/member-files/{mid}", json={"address": "西安市碑林区南大街8号2单元502室",
                                                         "mobile": phone2, "work_unit": "西安某科技公司"})
    assert r.status_code == 200 and r.json()["status"] == "pending_review", r.text
    steps = (await cs.get(f"/v1/member-files/{mid}/changes")).json()
    assert steps["status"] == "pending_review" and steps["total"] == 2
    change, approval = steps["changes"]
    assert (change["kind"], change["by"], change["from_status"], change["to_status"]) == (
        "changed", "S1", "active", "pending_review")
    # only what changed (the work unit was sent unchanged), in form order; the mobile masked
    assert change["fields"] == [
        {"field": "mobile", "before": phone[:3] + "****" + phone[-4:], "after": phone2[:3] + "****" + phone2[-4:]},
        {"field": "address", "before": "西安市雁塔区高新路25号3栋1201室", "after": "西安市碑林区南大街8号2单元502室"}]
    assert (approval["kind"], approval["by"]) == ("approved", "CS1")
    stored = await sql_value(stack.cfg, "members", "SELECT fields::text FROM file_changes WHERE kind='changed'")
    assert phone2 not in stored and phone not in stored  # never the number itself

    # the reviewer sends it back with a reason; the referrer resubmits; the history shows every step by whom
    r = await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "reject", "note": "地址请写到门牌号"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert (await s1.patch(f"/v1/member-files/{mid}", json={"full_name": "周雅芹"})).json()["status"] == \
        "pending_review"
    assert (await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})).status_code == 200
    hist = (await cs.get(f"/v1/member-files/{mid}/history")).json()["events"]
    mine = [(e["event"], e["by"], e["note"]) for e in hist if e["event"] in ("changed", "reviewed")]
    assert mine == [("reviewed", "CS1", "approved"), ("changed", "S1", "full_name (rejected → pending_review)"),
                    ("reviewed", "CS1", "rejected: 地址请写到门牌号"),
                    ("changed", "S1", "mobile, address (active → pending_review)"), ("reviewed", "CS1", "approved")]
    # the store manager sees the file, the name masked as on the file itself; paging by the service
    page2 = (await gm.get(f"/v1/member-files/{mid}/changes", params={"limit": 2, "page": 2})).json()
    assert page2["total"] == 5 and [c["kind"] for c in page2["changes"]] == ["rejected", "changed"]
    assert page2["changes"][1]["fields"][0]["after"] != "周雅芹" and page2["changes"][1]["fields"][0]["after"]
    # M-07: another staff member's file is refused, and the refusal is logged; a read is logged too
    r = await s2.get(f"/v1/member-files/{mid}/changes")
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "M-07"
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM access_log WHERE action='read:changes' "
                           "AND staff_id='GM1'") == 1
    for c in (s1, s2, cs, gm):
        await c.aclose()


async def test_m16_blacklist_listed_for_every_store_filtered_and_paged(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    cs, cs2, gm, hq, aud = [await login(stack, s) for s in ("CS1", "CS2", "GM1", "HQCS", "AUD")]
    phones = [mobile() for _ in range(3)]
    for who, phone, name in ((cs, phones[0], "钱大勇"), (cs, phones[1], "赵二虎"), (cs2, phones[2], "孙三强")):
        r = await who.post("/v1/blacklist", json={"mobile": phone, "full_name": name, "reason": "多次在店内闹事"})
        assert r.status_code == 201, r.text
    everyone = (await cs2.get("/v1/blacklist")).json()
    assert everyone["total"] == 3 and [e["store_id"] for e in everyone["entries"]] == [OTHER, STORE, STORE]
    # M-16: a phone looked up by another store is flagged with the store that listed it and who did
    (hit,) = (await cs2.get("/v1/blacklist", params={"mobile": phones[0]})).json()["entries"]
    assert (hit["store_id"], hit["listed_by"], hit["full_name"]) == (STORE, "CS1", "钱大勇")
    assert hit["mobile"] == phones[0][:3] + "****" + phones[0][-4:]
    page = (await hq.get("/v1/blacklist", params={"store_id": STORE, "limit": 1, "page": 2})).json()
    assert page["total"] == 2 and [e["full_name"] for e in page["entries"]] == ["钱大勇"]
    # a store manager reads it (names masked); an auditor is not a reader of the blacklist (O-02)
    names = [e["full_name"] for e in (await gm.get("/v1/blacklist")).json()["entries"]]
    assert len(names) == 3 and "钱大勇" not in names
    r = await aud.get("/v1/blacklist")
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"
    assert (await cs.get("/v1/blacklist", params={"mobile": "02988886666"})).status_code == 422
    for c in (cs, cs2, gm, hq, aud):
        await c.aclose()


async def test_m06_likely_duplicates_and_m15_deletion_queue_paged(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    s1, cs, hq = [await login(stack, s) for s in ("S1", "CS1", "HQCS")]
    a, b, c = [(await s1.post("/v1/member-files", json=complete(n, mobile()))).json()["member_id"]
               for n in ("韩雪梅", "韩雪梅", "韩雪松")]
    other = (await s1.post("/v1/member-files", json=complete("韩雪梅", mobile()))).json()["member_id"]
    await sql_value(stack.cfg, "members", "UPDATE members SET status='deleted' WHERE member_id=$1", other)
    dups = (await cs.get(f"/v1/member-files/{a}/duplicates")).json()["members"]
    assert [d["member_id"] for d in dups] == [b]  # same name, same store, still open; not the deleted one
    assert (await s1.get(f"/v1/member-files/{a}/duplicates")).status_code == 403  # O-02: the CS manager merges
    logged = await sql_value(stack.cfg, "members", "SELECT member_ids FROM access_log WHERE "
                             "action='search:duplicates'")
    assert logged == [a, b]

    # M-15: deletion requests raised by the store, paged at members (oldest first), the total told
    ids = []
    for mid in (a, b, c):
        r = await cs.post("/v1/deletion-requests", json={"member_id": mid, "reason": "顾客本人要求注销"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["request_id"])
    first = (await cs.get("/v1/deletion-requests", params={"limit": 2})).json()
    second = (await cs.get("/v1/deletion-requests", params={"limit": 2, "page": 2})).json()
    assert first["total"] == second["total"] == 3
    assert [i["request_id"] for i in first["items"] + second["items"]] == ids
    r = await cs.post("/v1/deletion-requests", json={"member_id": a, "reason": "再次申请"})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-15"  # one pending request per file
    r = await cs.post("/v1/deletion-requests", json={"member_id": other, "reason": "已删除的档案"})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-08"
    await sql_value(stack.cfg, "members", "UPDATE members SET status='deleted' WHERE member_id=$1", c)  # merged
    r = await hq.post(f"/v1/deletion-requests/{ids[2]}/decision", json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-08"  # nothing deleted twice
    r = await hq.post(f"/v1/deletion-requests/{ids[0]}/decision", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    done = (await hq.get("/v1/deletion-requests", params={"status": "approved"})).json()
    assert done["total"] == 1 and done["items"][0]["member_id"] == a
    for cl in (s1, cs, hq):
        await cl.aclose()
