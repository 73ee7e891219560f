"""M-12 on the real stack: the whole hand-over workflow with its actors, the event notify turns into SMS,
the hand-over record, and consumption records staying with whoever earned them."""

from __future__ import annotations

import httpx
from devstack.testing import Stack, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale
from tests.members.test_member_files import STORE, login, mobile, setup


async def test_m12_handover_moves_files_not_consumptions_each_file_rechecked_and_approved(stack: Stack) -> None:
    key = await setup(stack, mobile())
    await stack.add_store("HQ-000", "generic", region_code="000")
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": "HQCS", "store_id": "HQ-000", "name": "总部客服", "position": "HQ customer service",
         "role": "hq_cs", "password": "pw-HQCS-long"},
        {"staff_id": "SM1", "store_id": STORE, "name": "店长", "position": "store GM", "role": "store_manager",
         "password": "pw-SM1-long"}])
    assert r.status_code == 201
    s1, s2, cs, hq, sm = [await login(stack, s) for s in ("S1", "S2", "CS1", "HQCS", "SM1")]
    a, b = await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile(), "referrer_staff_id": "S1"}
                                    for n in ("韩雪梅", "唐国强")])
    await stack.wait_directory(key, a["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as g:
        assert (await g.post("/v1/sales", json=sale(STORE, "H1", a["card_no"], 5000,
                                                    booked_by_staff_id="S1"))).status_code == 201

    async def recorded() -> bool:
        return int(await sql_value(stack.cfg, "members", "SELECT count(*) FROM consumptions")) == 1

    await wait_for(recorded, 30, "consumption recorded")

    r = await cs.post("/v1/handovers", json={"from_staff_id": "S1", "to_staff_id": "S2", "type": "same_position",
                                             "reason": "resigned"})
    assert r.status_code == 201 and sorted(r.json()["member_ids"]) == sorted([a["member_id"], b["member_id"]])
    hid = r.json()["handover_id"]
    assert (await s2.post(f"/v1/handovers/{hid}/accept", json={})).json()["errors"][0]["rule"] == "M-12"  # too early
    assert (await cs.post(f"/v1/handovers/{hid}/review", json={})).status_code == 403  # HQ reviews
    assert (await hq.post(f"/v1/handovers/{hid}/review", json={})).json()["state"] == "hq_approved"
    assert (await s1.post(f"/v1/handovers/{hid}/accept", json={})).status_code == 403  # only the receiver
    assert (await s2.post(f"/v1/handovers/{hid}/accept", json={})).json()["state"] == "accepted"
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE referrer_staff_id='S2'") == 0
    assert (await hq.post(f"/v1/handovers/{hid}/confirm", json={})).json()["state"] == "confirmed"
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE referrer_staff_id='S2'") == 2
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = "
                           "'members.handover.completed'") == 1
    # M-12: the receiver re-checks each file, the store manager approves each one (or sends it back)
    ma, mb = sorted([a["member_id"], b["member_id"]])
    files = f"/v1/handovers/{hid}/files"
    r = await sm.post(f"{files}/{ma}/approve", json={})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-12"  # not re-checked yet
    assert (await s1.post(f"{files}/{ma}/recheck", json={})).status_code == 403  # only the receiver
    assert (await s2.post(f"{files}/{ma}/recheck", json={"note": "called her, address confirmed"})).json() == {
        "handover_id": hid, "member_id": ma, "file": "rechecked", "state": "confirmed"}
    assert (await s2.post(f"{files}/{ma}/recheck", json={})).status_code == 409  # once
    assert (await s2.post(f"{files}/{mb}/recheck", json={})).json()["state"] == "rechecked"
    assert (await s2.post(f"{files}/M-NOT-IN-IT/recheck", json={})).status_code == 404
    assert (await s2.post(f"{files}/{ma}/approve", json={})).status_code == 403  # the store manager approves
    assert (await sm.post(f"{files}/{ma}/approve", json={})).json()["state"] == "rechecked"
    r = await sm.post(f"{files}/{mb}/approve", json={"decision": "reject", "note": "work unit missing"})
    assert r.json() | {} == {"handover_id": hid, "member_id": mb, "file": "to_recheck", "state": "confirmed"}
    assert (await s2.post(f"{files}/{mb}/recheck", json={"note": "work unit added"})).status_code == 200
    assert (await sm.post(f"{files}/{mb}/approve", json={})).json()["state"] == "completed"
    record = (await s2.get(f"/v1/handovers/{hid}")).json()
    assert [(h["step"], h.get("member_id")) for h in record["history"]] == [
        ("request", None), ("review", None), ("accept", None), ("confirm", None), ("recheck", ma), ("recheck", mb),
        ("approve", ma), ("send_back", mb), ("recheck", mb), ("approve", mb), ("complete", None)]
    assert [h["by"] for h in record["history"]] == ["CS1", "HQCS", "S2", "HQCS", "S2", "S2", "SM1", "SM1", "S2",
                                                    "SM1", "SM1"]
    assert [(f["member_id"], f["rechecked_by"], f["approved_by"]) for f in record["files"]] == [
        (ma, "S2", "SM1"), (mb, "S2", "SM1")]
    assert record["files"][1]["recheck_note"] == "work unit added" and record["state"] == "completed"
    # consumption history stays credited to whoever earned it
    assert await sql_value(stack.cfg, "members", "SELECT booked_by_staff_id FROM consumptions") == "S1"
    for c in (s1, s2, cs, hq, sm):
        await c.aclose()
