"""M-16 lifting a blacklist entry, M-15 a rejected deletion's note, O-03 logout, on the real service.

Lifting: the listing store's customer-service manager or HQ customer service, with a reason (another store's
manager is refused, O-02); the entry is kept with who lifted it, when and why; each file the listing blacklisted
goes back to the state it had; registration and lookups (members' list, the gateway's POS lookup) stop flagging the
phone; the phone may be listed again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from devstack.testing import Stack, StackConfig, sql_value, wait_for

from tests.members.test_file_desk import STORE, seed
from tests.members.test_member_files import complete, login, lookup, mobile, status_at_gateway


async def outbox_types(stack: Stack, key: str) -> list[str]:
    rows = await sql_value(stack.cfg, "members", "SELECT coalesce(json_agg(headers->>'ce_type' ORDER BY id), '[]') "
                           "FROM outbox WHERE key=$1", key)
    return list(json.loads(rows) if isinstance(rows, str) else rows)


async def test_m16_lift_by_the_listing_store_or_hq_restores_state_keeps_history_and_relists(
        members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    s1, cs, cs2, gm, hq = [await login(stack, s) for s in ("S1", "CS1", "CS2", "GM1", "HQCS")]
    phone, waiting_phone = mobile(), mobile()
    active = (await s1.post("/v1/member-files", json=complete("周雅琴", phone))).json()["member_id"]
    assert (await cs.post(f"/v1/member-files/{active}/review", json={"decision": "approve"})).status_code == 200
    waiting = (await s1.post("/v1/member-files", json=complete("吴桂英", waiting_phone))).json()["member_id"]

    r = await cs.post("/v1/blacklist", json={"mobile": phone, "full_name": "周雅琴", "reason": "多次在店内闹事"})
    assert r.status_code == 201 and r.json()["members"] == [active], r.text
    entry = r.json()["entry_id"]
    r = await cs.post("/v1/blacklist", json={"mobile": waiting_phone, "full_name": "吴桂英", "reason": "恶意退货"})
    waiting_entry = r.json()["entry_id"]
    assert (await cs.get(f"/v1/member-files/{active}")).json()["status"] == "blacklisted"

    # O-02: another store's customer-service manager may not lift this store's listing (403 naming the rule);
    # a store manager is no blacklist handler at all; a reason is required
    r = await cs2.post(f"/v1/blacklist/{entry}/lift", json={"reason": "顾客已道歉"})
    assert r.status_code == 403 and (r.json()["errors"][0]["rule"], r.json()["errors"][0]["field"]) == (
        "O-02", "store_id"), r.text
    r = await gm.post(f"/v1/blacklist/{entry}/lift", json={"reason": "顾客已道歉"})
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"
    assert (await cs.post(f"/v1/blacklist/{entry}/lift", json={})).status_code == 422
    assert (await cs.post("/v1/blacklist/999999999/lift", json={"reason": "顾客已道歉"})).status_code == 404
    assert (await cs.get(f"/v1/member-files/{active}")).json()["status"] == "blacklisted"

    # the listing store's CS manager lifts it: the file is active again, as before the listing
    r = await cs.post(f"/v1/blacklist/{entry}/lift", json={"reason": "误列：同名不同人，已核实"})
    assert r.status_code == 200, r.text
    assert (r.json()["lifted_by"], r.json()["store_id"], r.json()["restored"]) == ("CS1", STORE, {active: "active"})
    assert (await cs.get(f"/v1/member-files/{active}")).json()["status"] == "active"
    r = await hq.post(f"/v1/blacklist/{entry}/lift", json={"reason": "再次解除"})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-16"  # lifted once

    # lookups no longer flag it; the entry is kept, with who lifted it, when and why (the audit)
    assert (await cs2.get("/v1/blacklist", params={"mobile": phone})).json()["total"] == 0
    (kept,) = (await hq.get("/v1/blacklist", params={"mobile": phone, "status": "lifted"})).json()["entries"]
    assert (kept["entry_id"], kept["listed_by"], kept["lifted_by"], kept["lift_reason"]) == (
        entry, "CS1", "CS1", "误列：同名不同人，已核实") and kept["lifted_at"]
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM blacklist WHERE entry_id=$1", entry) == 1
    hist = (await cs.get(f"/v1/member-files/{active}/history")).json()["events"]
    assert [(e["event"], e["by"], e["note"]) for e in hist if e["event"].startswith("blacklist")] == [
        ("blacklist_lifted", "CS1", "误列：同名不同人，已核实"), ("blacklisted", "CS1", "多次在店内闹事")]
    # the state change and the lift are published for the gateway, loyalty and notify (in the file's order)
    assert (await outbox_types(stack, active))[-4:] == [
        "members.member.blacklisted", "members.member.state_changed", "members.member.blacklist_lifted",
        "members.member.state_changed"]

    # HQ customer service may lift any store's listing; a file waiting for review goes back to waiting
    r = await hq.post(f"/v1/blacklist/{waiting_entry}/lift", json={"reason": "顾客已结清"})
    assert r.status_code == 200 and r.json()["restored"] == {waiting: "pending_review"}, r.text
    assert (await cs.get(f"/v1/member-files/{waiting}")).json()["status"] == "pending_review"

    # listed again later: a new entry in force, the file blacklisted again; lifting it again restores it again
    r = await cs.post("/v1/blacklist", json={"mobile": phone, "full_name": "周雅琴", "reason": "再次闹事"})
    assert r.status_code == 201 and r.json()["members"] == [active] and r.json()["entry_id"] != entry
    again = r.json()["entry_id"]
    assert (await cs.get(f"/v1/member-files/{active}")).json()["status"] == "blacklisted"
    (flag,) = (await cs2.get("/v1/blacklist", params={"mobile": phone})).json()["entries"]
    assert (flag["entry_id"], flag["reason"]) == (again, "再次闹事")
    # a listing from before states were recorded: the state is derived from the file (approved: active)
    await sql_value(stack.cfg, "members", "UPDATE blacklist SET prior_states=NULL WHERE entry_id=$1", again)
    r = await hq.post(f"/v1/blacklist/{again}/lift", json={"reason": "总部复核解除"})
    assert r.status_code == 200 and r.json()["restored"] == {active: "active"}
    assert (await hq.get("/v1/blacklist", params={"mobile": phone, "status": "lifted"})).json()["total"] == 2

    # a lifted phone that is no member can be registered again (M-16 refuses only a listing in force)
    stranger = mobile()
    r = await cs.post("/v1/blacklist", json={"mobile": stranger, "full_name": "钱多多", "reason": "逃单"})
    assert r.status_code == 201 and r.json()["members"] == []
    stranger_entry = r.json()["entry_id"]
    r = await s1.post("/v1/member-files", json=complete("钱多多", stranger))
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-16"
    r = await cs.post(f"/v1/blacklist/{stranger_entry}/lift", json={"reason": "已付清"})
    assert r.status_code == 200 and r.json()["restored"] == {}
    phone_key = await sql_value(stack.cfg, "members", "SELECT mobile_index FROM blacklist WHERE entry_id=$1",
                                stranger_entry)
    assert await outbox_types(stack, phone_key) == ["members.member.blacklisted", "members.member.blacklist_lifted"]
    assert (await s1.post("/v1/member-files", json=complete("钱多多", stranger))).status_code == 201

    # two stores listing one phone at the same moment: one listing in force, both told which (never a 500)
    both = mobile()
    r1, r2 = await asyncio.gather(*(c.post("/v1/blacklist", json={"mobile": both, "full_name": "孙三强",
                                                                   "reason": "逃单"}) for c in (cs, cs2)))
    assert (r1.status_code, r2.status_code) == (201, 201) and r1.json()["entry_id"] == r2.json()["entry_id"]
    assert (await hq.get("/v1/blacklist", params={"mobile": both})).json()["total"] == 1
    for c in (s1, cs, cs2, gm, hq):
        await c.aclose()


@pytest.fixture
async def members_and_gateway(stack_config: StackConfig) -> AsyncIterator[Stack]:
    async with Stack(stack_config, services=("members", "loyalty", "gateway")) as s:  # a card lookup reads points
        yield s


async def test_m16_pos_lookup_stops_flagging_a_lifted_phone_and_the_member_earns_again(
        members_and_gateway: Stack) -> None:
    stack = members_and_gateway
    key = await stack.add_store(STORE, "jewelry")
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": s, "store_id": STORE, "name": f"员工{s}", "position": role, "role": role,
         "password": "pw-" + s + "-long"} for s, role in (("S1", "staff"), ("CS1", "store_cs_manager"))])
    assert r.status_code == 201, r.text
    s1, cs = await login(stack, "S1"), await login(stack, "CS1")
    phone, stranger = mobile(), mobile()
    mid = (await s1.post("/v1/member-files", json=complete("周雅琴", phone))).json()["member_id"]
    card = (await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})).json()["card_no"]
    await stack.wait_directory(key, card)
    member_entry = (await cs.post("/v1/blacklist", json={"mobile": phone, "full_name": "周雅琴",
                                                          "reason": "闹事"})).json()["entry_id"]
    stranger_entry = (await cs.post("/v1/blacklist", json={"mobile": stranger, "full_name": "钱多多",
                                                            "reason": "逃单"})).json()["entry_id"]
    got = await wait_for(lambda: status_at_gateway(stack, key, card, "blacklisted"), 30, "blacklisted")
    assert got["blacklisted"]["store_id"] == STORE

    async def stranger_flag() -> Any:
        r = await lookup(stack, key, mobile=stranger)
        return r.status_code == 200 and r.json()["blacklisted"] is not None

    await wait_for(stranger_flag, 30, "stranger flagged")
    for entry in (member_entry, stranger_entry):
        r = await cs.post(f"/v1/blacklist/{entry}/lift", json={"reason": "已结清"})
        assert r.status_code == 200, r.text
    back = await wait_for(lambda: status_at_gateway(stack, key, card, "active"), 30, "active again")

    async def unflagged() -> Any:
        r = await lookup(stack, key, mobile=stranger)
        return r.status_code == 422  # not listed any more: a phone alone is no way to find a member (M-18)

    await wait_for(unflagged, 30, "stranger no longer flagged")
    back = await wait_for(lambda: status_at_gateway(stack, key, card, "active"), 30, "active again")
    assert back["blacklisted"] is None
    for c in (s1, cs):
        await c.aclose()


async def test_m15_a_rejected_deletion_keeps_the_deciders_note_for_the_requester(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    s1, cs, hq = [await login(stack, s) for s in ("S1", "CS1", "HQCS")]
    mid = (await s1.post("/v1/member-files", json=complete("韩雪梅", mobile()))).json()["member_id"]
    rid = (await cs.post("/v1/deletion-requests", json={"member_id": mid, "reason": "顾客本人要求注销"})).json()[
        "request_id"]
    pending = (await cs.get("/v1/deletion-requests")).json()["items"][0]
    assert (pending["target_hours"], pending["decided_in_hours"], pending["decision_note"]) == (12, None, None)
    r = await hq.post(f"/v1/deletion-requests/{rid}/decision", json={"decision": "reject"})
    assert r.status_code == 422 and (r.json()["errors"][0]["rule"], r.json()["errors"][0]["field"]) == (
        "M-15", "note")
    await sql_value(stack.cfg, "members", "UPDATE requests SET raised_at = raised_at - interval '13 hours' "
                    "WHERE request_id=$1", rid)
    r = await hq.post(f"/v1/deletion-requests/{rid}/decision",
                      json={"decision": "reject", "note": "该会员有未结清的赊销款，结清后再申请"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    (item,) = (await cs.get("/v1/deletion-requests", params={"status": "rejected"})).json()["items"]
    assert (item["decided_by"], item["decision_note"]) == ("HQCS", "该会员有未结清的赊销款，结清后再申请")
    assert item["decided_in_hours"] >= 13 and item["decided_late"] is True and item["target_hours"] == 12
    hist = (await cs.get(f"/v1/member-files/{mid}/history")).json()["events"]
    assert ("deletion_rejected", "HQCS", "该会员有未结清的赊销款，结清后再申请") in [
        (e["event"], e["by"], e["note"]) for e in hist]
    for c in (s1, cs, hq):
        await c.aclose()


async def test_o03_logout_revokes_the_refresh_token_and_only_that_session(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    base = stack.url("members")
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        first, second = [(await c.post("/v1/auth/login", json={"staff_id": "CS1", "password": "pw-CS1-long"})).json()
                         for _ in range(2)]
        r = await c.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200 and r.json() == {"logged_out": True}
        r = await c.post("/v1/auth/token:refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 401 and r.json()["errors"][0]["rule"] == "O-03"
        # the other session goes on (a logout at one desk does not end the person's session at another)
        r = await c.post("/v1/auth/token:refresh", json={"refresh_token": second["refresh_token"]})
        assert r.status_code == 200, r.text
        # logging out twice, or with a made-up token, answers the same (nothing learnt about tokens)
        r = await c.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200 and r.json() == {"logged_out": True}
        assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM staff_sessions WHERE staff_id='CS1' AND "
                           "used_at IS NULL") == 1  # the refreshed second session's new token alone
