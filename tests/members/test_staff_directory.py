"""The staff directory (O-01, O-03, C-06): every staff member created, changed, opened or leaving is published as
members.staff.changed on members.events (outbox, same transaction), with the work mobile and name sealed with the
events key (never in clear on Kafka) and the line leader; the mobile is validated by M-02 and kept encrypted at rest."""

from __future__ import annotations

import json
from typing import Any

from devstack.testing import Stack, consume_all, sql_value, wait_for
from vipcore.pii import Keyring

from tests.members.test_member_files import login, mobile, no_plaintext

STORE = "XA-601"


async def staff_events(stack: Stack, staff_id: str, count: int) -> list[dict[str, Any]]:
    """The members.staff.changed events of one staff member on the topic, once `count` of them arrived."""
    async def arrived() -> list[dict[str, Any]] | None:
        recs = await consume_all(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "members.events", 10**6, 2)
        found = [opened(stack, json.loads(r.value)) for r in recs
                 if dict(r.headers).get("ce_type") == b"members.staff.changed" and r.key == staff_id.encode()]
        return found if len(found) >= count else None

    return list(await wait_for(arrived, 30, f"{count} staff.changed for {staff_id}"))


def opened(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
    """The event with its sealed fields (`mobile_enc`, `name_enc`) opened with the events key, as a consumer does."""
    keys = Keyring.parse(stack.cfg.event_pii_keys)
    return {k.removesuffix("_enc"): keys.decrypt(v) if k.endswith("_enc") and v else v for k, v in event.items()}


async def outbox_count(stack: Stack, staff_id: str) -> int:
    return int(await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox WHERE key = $1 AND "
                               "headers->>'ce_type' = 'members.staff.changed'", staff_id))


async def test_o01_c06_staff_changes_publish_the_staff_directory_with_mobile_and_line_leader(stack: Stack) -> None:
    await stack.add_store(STORE, "jewelry", region_code="755")
    await stack.add_store("HQ-000", "generic", region_code="000")
    url = stack.url("members") + "/v1/staff"
    lead_phone, s1_phone, s9_phone = mobile(), mobile(), mobile()
    r = await stack.admin.post(url, json=[
        {"staff_id": "L1", "store_id": STORE, "name": "王丽华", "position": "store GM", "role": "store_manager",
         "mobile": lead_phone},
        {"staff_id": "S1", "store_id": STORE, "name": "张晓燕", "position": "sales assistant", "mobile": s1_phone,
         "line_leader_staff_id": "L1", "password": "pw-S1-long"},
        {"staff_id": "CS1", "store_id": STORE, "name": "员工CS1", "position": "customer-service manager",
         "role": "store_cs_manager", "password": "pw-CS1-long"},
        {"staff_id": "HQCS", "store_id": "HQ-000", "name": "总部客服", "position": "HQ customer service",
         "role": "hq_cs", "password": "pw-HQCS-long"}])
    assert r.status_code == 201, r.text
    (s1,) = await staff_events(stack, "S1", 1)
    assert s1 == {"staff_id": "S1", "store_id": STORE, "region_code": "755", "name": "张晓燕", "display_name": "张*燕",
                               "position": "sales assistant", "role": "staff", "mobile": s1_phone,
                               "line_leader_staff_id": "L1", "active": True, "access_changed_at": None}
    assert (await staff_events(stack, "L1", 1))[0]["mobile"] == lead_phone
    assert await sql_value(stack.cfg, "members", "SELECT mobile_enc IS NOT NULL FROM staff WHERE staff_id='S1'")

    # M-02 on the staff mobile, C-06 on the line leader: the field and the rule are named, nothing is written
    for body, field, rule in (({"mobile": "02988886666"}, "0.mobile", "M-02"),
                              ({"mobile": "1390000000"}, "0.mobile", "M-02"),
                              ({"line_leader_staff_id": "NOBODY"}, "0.line_leader_staff_id", "C-06"),
                              ({"line_leader_staff_id": "S2"}, "0.line_leader_staff_id", "C-06"),
                              ({"store_id": "NO-STORE"}, "0.store_id", "O-01")):
        r = await stack.admin.post(url, json=[{"staff_id": "S2", "store_id": STORE, "name": "李文静",
                                               "position": "sales assistant"} | body])
        assert r.status_code == 422 and r.json()["errors"][0] | {} == {
            "field": field, "rule": rule, "message": r.json()["errors"][0]["message"]}, r.text
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM staff WHERE staff_id='S2'") == 0

    # a change of position is published; sending the same again changes nothing and publishes nothing
    change = [{"staff_id": "S1", "store_id": STORE, "name": "张晓燕", "position": "floor manager"}]
    assert (await stack.admin.post(url, json=change)).status_code == 201
    assert (await stack.admin.post(url, json=change)).status_code == 201
    assert await outbox_count(stack, "S1") == 2
    moved = (await staff_events(stack, "S1", 2))[1]
    assert (moved["position"], moved["mobile"], moved["line_leader_staff_id"]) == ("floor manager", s1_phone, "L1")

    # O-03: an account opened by HQ on request enters the directory with its mobile and line leader
    cs, hq = await login(stack, "CS1"), await login(stack, "HQCS")
    r = await cs.post("/v1/account-requests", json={"reason": "new hire", "account": {
        "staff_id": "S9", "name": "赵新", "position": "sales assistant", "mobile": "029-88886666"}})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-02"
    r = await cs.post("/v1/account-requests", json={"reason": "new hire", "account": {
        "staff_id": "S9", "name": "赵新", "position": "sales assistant", "mobile": s9_phone,
        "line_leader_staff_id": "L1"}})
    rid = r.json()["request_id"]
    r = await hq.post(f"/v1/account-requests/{rid}/decision", json={"decision": "approve",
                                                                     "initial_password": "pw-S9-long"})
    assert r.status_code == 200, r.text
    (s9,) = await staff_events(stack, "S9", 1)
    assert (s9["mobile"], s9["line_leader_staff_id"], s9["store_id"]) == (
        s9_phone, "L1", STORE)

    # a staff member who leaves is published inactive and logs in no more
    assert (await stack.admin.post(f"{url}/S1/leave")).status_code == 200
    left = (await staff_events(stack, "S1", 3))[2]
    assert left["active"] is False and left["access_changed_at"]  # O-03: every service refuses older S1 tokens
    assert moved["access_changed_at"] is None  # a new position alone leaves the tokens valid
    r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login",
                               json={"staff_id": "S1", "password": "pw-S1-long"})
    assert r.status_code == 401
    assert (await stack.admin.post(f"{url}/NOBODY/leave")).status_code == 404

    # the whole directory can be published again (seeds a new reader); a reader keeps the latest per staff member
    r = await stack.admin.post(f"{stack.url('members')}/v1/admin/staff-directory:republish")
    assert r.status_code == 200 and r.json() == {"published": 5}  # L1, S1, CS1, HQCS, S9
    again = (await staff_events(stack, "S1", 4))[3]
    assert (again["active"], again["mobile"], again["position"]) == (False, s1_phone, "floor manager")
    await no_plaintext(stack.cfg, [lead_phone, s1_phone, s9_phone])
    for c in (cs, hq):
        await c.aclose()
