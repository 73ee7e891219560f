"""Issue 11, item 5: one blind index per phone number, however it is typed (M-02), so the employee check (M-05),
one file per mobile per store (M-06) and the blacklist (M-16) cannot be walked past by typing `138-0013-8000`,
`+86 13800138000` or full-width digits; and the re-index that fixes rows indexed the old way (as typed)."""

from __future__ import annotations

import uuid

import asyncpg
from devstack.testing import Stack, sql_value, wait_for
from members.pii import Reindexer
from vipcore.pii import Keyring, blind_index, mobile_index
from vipcore.topics import MEMBERS_EVENTS

from tests.members.test_member_files import STORE, login, lookup, setup


def number() -> str:
    return f"136{uuid.uuid4().int % 10**8:08d}"


def dashed(p: str) -> str:
    return f"{p[:3]}-{p[3:7]}-{p[7:]}"


def full_width(p: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in p)


async def test_m05_m06_m16_hold_whatever_spelling_of_the_mobile(stack: Stack) -> None:
    employee = number()
    key = await setup(stack, full_width(employee))  # S2's work mobile typed in full-width digits
    s1, cs = await login(stack, "S1"), await login(stack, "CS1")
    listed, member = number(), number()
    r = await cs.post("/v1/blacklist", json={"mobile": "+86 " + dashed(listed), "full_name": "钱多多",
                                             "reason": "逃单"})
    assert r.status_code in (200, 201), r.text
    r = await s1.post("/v1/member-files", json={"full_name": "赵文静", "mobile": dashed(employee)})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-05", r.text
    r = await s1.post("/v1/member-files", json={"full_name": "孙丽华", "mobile": f"0086 {listed}"})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-16", r.text
    r = await s1.post("/v1/member-files", json={"full_name": "周雅琴", "mobile": member})
    assert r.status_code == 201, r.text
    mid = r.json()["member_id"]
    r = await s1.post("/v1/member-files", json={"full_name": "周雅琴", "mobile": full_width(member)})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06", r.text
    found = (await s1.get("/v1/member-files", params={"mobile": f"+86 {dashed(member)}"})).json()["members"]
    assert [f["member_id"] for f in found] == [mid]
    r = await lookup(stack, key, mobile=f"+86{listed}", name="钱多多")  # the gateway flags it, however typed
    assert r.status_code == 200 and r.json()["blacklisted"]["store_id"] == STORE, r.text
    for c in (s1, cs):
        await c.aclose()


async def test_reindex_fixes_rows_indexed_as_typed_and_the_gateway_follows(stack: Stack) -> None:
    """Rows written before mobiles were normalised carry the index of the spelling typed; the re-index (run when
    the service starts and finds another scheme recorded) recomputes them from the decrypted numbers, announces
    the changed files, and M-05 / M-06 / M-16 and the look-ups hold again."""
    employee, listed, phone = number(), number(), number()
    key = await setup(stack, employee)
    (m,) = await stack.add_members([{"store_id": STORE, "full_name": "韩雪梅", "mobile": phone}])
    await stack.wait_directory(key, m["card_no"])
    keys, index_key = Keyring.parse(stack.cfg.pii_keys["members"]), stack.cfg.pii_index_key
    old = {"employee": full_width(employee), "listed": "+86 " + dashed(listed), "member": dashed(phone)}
    members_db = await asyncpg.connect(stack.cfg.db_url("members").replace("+asyncpg", ""))
    gateway_db = await asyncpg.connect(stack.cfg.db_url("gateway").replace("+asyncpg", ""))
    try:  # what an older version wrote: ciphertexts of the spelling typed, the index of that spelling
        await members_db.execute("UPDATE staff SET mobile_enc=$1, mobile_index=$2 WHERE staff_id='S2'",
                                 keys.encrypt(old["employee"]), blind_index(index_key, old["employee"]))
        await members_db.execute("UPDATE members SET mobile_enc=$1, mobile_index=$2 WHERE member_id=$3",
                                 keys.encrypt(old["member"]), blind_index(index_key, old["member"]), m["member_id"])
        await gateway_db.execute("UPDATE member_directory SET mobile_index=$1 WHERE member_id=$2",
                                 blind_index(index_key, old["member"]), m["member_id"])
        await members_db.execute(
            "INSERT INTO blacklist (mobile_index, mobile_enc, full_name, store_id, listed_by, reason, since) "
            "VALUES ($1, $2, '钱多多', $3, 'CS1', '逃单', now())",
            blind_index(index_key, old["listed"]), keys.encrypt(old["listed"]), STORE)
        await gateway_db.execute("INSERT INTO blacklist (mobile_index, store_id, since) VALUES ($1, $2, now())",
                                 blind_index(index_key, old["listed"]), STORE)
        await members_db.execute("DELETE FROM pii_state")  # the scheme of an older version: none recorded
    finally:
        await members_db.close()
        await gateway_db.close()
    s1, cs = await login(stack, "S1"), await login(stack, "CS1")
    assert (await cs.get("/v1/member-files", params={"mobile": phone})).json()["members"] == []  # walked past
    assert (await lookup(stack, key, mobile=phone, name="韩雪梅")).status_code == 404

    settings = stack.cfg.settings("members")
    from vipcore.db import make_engine

    engine = make_engine(settings.database_url, 2)
    try:
        job = Reindexer(engine, index_key, settings.pii_keyring(), settings.event_keyring(),
                        settings.kafka_topic_prefix + MEMBERS_EVENTS.name, lambda: None)
        await job.run()
    finally:
        await engine.dispose()
    assert await sql_value(stack.cfg, "members", "SELECT value FROM pii_state WHERE name='index_scheme'")

    assert await sql_value(stack.cfg, "members", "SELECT mobile_index FROM members WHERE member_id=$1",
                           m["member_id"]) == mobile_index(index_key, phone)
    found = (await cs.get("/v1/member-files", params={"mobile": phone})).json()["members"]
    assert [f["member_id"] for f in found] == [m["member_id"]]
    r = await s1.post("/v1/member-files", json={"full_name": "赵文静", "mobile": employee})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-05", r.text
    r = await s1.post("/v1/member-files", json={"full_name": "孙丽华", "mobile": listed})
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-16", r.text
    r = await s1.post("/v1/member-files", json={"full_name": "韩雪梅", "mobile": phone})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06", r.text

    async def gateway_finds_member() -> bool:  # members.member.updated carried the new index
        r = await lookup(stack, key, mobile=phone, name="韩雪梅")
        return r.status_code == 200 and r.json()["member_id"] == m["member_id"]

    await wait_for(gateway_finds_member, 30, "the gateway's directory re-indexed")

    async def gateway_flags_listed() -> bool:  # members.member.blacklisted carried the new index
        r = await lookup(stack, key, mobile=listed, name="钱多多")
        return r.status_code == 200 and (r.json().get("blacklisted") or {}).get("store_id") == STORE

    await wait_for(gateway_flags_listed, 30, "the gateway's blacklist re-indexed")
    # any spelling of the number finds the file now
    assert (await cs.get("/v1/member-files", params={"mobile": dashed(phone)})).json()["members"]
    for c in (s1, cs):
        await c.aclose()
