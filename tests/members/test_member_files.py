"""Member files end to end on the real stack: staff login (O-03), M-02 validation, employee check (M-05),
one file per store (M-06), review (M-04) with its queue, visibility and access log (M-07), card loss (M-17),
blacklist (M-16) — and the gateway directory following every state and card event."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
from devstack.testing import Stack, StackConfig, consume_all, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale

STORE = "XA-501"


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def complete(name: str, phone: str) -> dict[str, Any]:
    return {"full_name": name, "gender": "female", "mobile": phone, "birth_date": "--03-08",
            "address": "西安市雁塔区高新路25号3栋1201室", "work_unit": "西安某科技公司", "position": "经理",
            "customer_class": "enterprise_institution", "account_size": "key"}


async def login(stack: Stack, staff_id: str) -> httpx.AsyncClient:
    r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login",
                               json={"staff_id": staff_id, "password": "pw-" + staff_id + "-long"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] and r.json()["region_code"] in ("755", "000")
    return httpx.AsyncClient(base_url=stack.url("members"), timeout=30,
                             headers={"Authorization": f"Bearer {r.json()['token']}"})


async def setup(stack: Stack, employee_mobile: str) -> str:
    key = await stack.add_store(STORE, "jewelry")
    people = [("S1", "staff"), ("S2", "staff"), ("CS1", "store_cs_manager"), ("AUD", "auditor")]
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": s, "store_id": STORE, "name": f"员工{s}", "position": "customer-service representative",
         "role": role, "password": "pw-" + s + "-long", **({"mobile": employee_mobile} if s == "S2" else {})}
        for s, role in people])
    assert r.status_code == 201, r.text
    return key


async def lookup(stack: Stack, key: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as c:
        return await c.get("/v1/members/lookup", params=params)


async def test_m02_m04_m05_m06_m07_m16_m17_member_file_lifecycle(stack: Stack) -> None:
    employee = mobile()
    key = await setup(stack, employee)
    s1, s2, cs, aud = [await login(stack, s) for s in ("S1", "S2", "CS1", "AUD")]
    r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login", json={"staff_id": "S1", "password": "nope"})
    assert r.status_code == 401 and r.json()["errors"][0]["rule"] == "O-03"

    # M-02: errors name the field and the rule
    bad = complete("王先生", "02988886666") | {"address": "西安市", "birth_date": "3月8日"}
    r = await s1.post("/v1/member-files", json=bad)
    assert r.status_code == 422
    assert {(e["field"], e["rule"]) for e in r.json()["errors"]} == {
        ("full_name", "M-02"), ("mobile", "M-02"), ("address", "M-02"), ("birth_date", "M-02")}
    # M-05: employees cannot be members
    r = await s1.post("/v1/member-files", json=complete("赵文静", employee))
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-05"
    # M-03: a basic file is not reviewed; a complete one waits for review
    phone, phone2 = mobile(), mobile()
    r = await s1.post("/v1/member-files", json={"full_name": "孙丽华", "mobile": phone2, "gender": "female"})
    assert r.status_code == 201 and r.json()["status"] == "incomplete" and "birth_date" in r.json()["missing"]
    r = await s1.post("/v1/member-files", json=complete("周雅琴", phone) | {"id_card": "61010319900308123x"})
    assert r.status_code == 201 and r.json()["status"] == "pending_review"
    mid = r.json()["member_id"]
    found = (await s1.get("/v1/member-files", params={"id_card": "61010319900308123X"})).json()["members"]
    assert [f["member_id"] for f in found] == [mid] and found[0]["id_card"] == "*" * 14 + "123X"  # masked
    # M-06: one file (and one referrer) per mobile per store
    r = await s2.post("/v1/member-files", json=complete("周雅琴", phone))
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06"

    # M-07: another staff member's file is refused and the attempt logged; the referrer sees the mobile
    r = await s2.get(f"/v1/member-files/{mid}", headers={"X-Access-Reason": "curious"})
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "M-07"
    r = await s1.get(f"/v1/member-files/{mid}", headers={"X-Access-Reason": "call back"})
    assert r.status_code == 200 and r.json()["mobile"] == phone and r.json()["status"] == "pending_review"
    assert [m["member_id"] for m in (await s2.get("/v1/member-files")).json()["members"]] == []
    log = (await aud.get("/v1/access-log", params={"member_id": mid})).json()["entries"]
    assert {(e["staff_id"], e["action"], e["reason"]) for e in log} >= {
        ("S2", "refused:read", "curious"), ("S1", "read", "call back")}
    assert (await s1.get("/v1/access-log")).status_code == 403  # O-02: only auditors (and HQ admin)

    # M-04: the review queue shows age and the overdue flag; approval issues the card and the member earns
    q = (await cs.get("/v1/review-queue")).json()["items"]
    assert [i["member_id"] for i in q] == [mid] and q[0]["overdue"] is False and q[0]["age_hours"] >= 0
    assert (await s1.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})).status_code == 403
    r = await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    card = r.json()["card_no"]
    assert card.startswith("755")
    found = await stack.wait_directory(key, card)
    assert found["member_id"] == mid and found["status"] == "active" and found["card_status"] == "active"
    # M-14: the approved file's customer class travels with members.member.registered (credit terms, C-02/C-03)
    n = await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox")
    registered = [json.loads(r.value) for r in await consume_all(
        stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "members.events", expect=n)
        if dict(r.headers).get("ce_type") == b"members.member.registered"]
    assert [(e["member_id"], e["customer_class"]) for e in registered if e["member_id"] == mid] == [
        (mid, "enterprise_institution")]

    # M-17: a lost card is blocked at once, the new number works; the old one is still recognised
    r = await s1.post(f"/v1/member-files/{mid}/card:report-lost")
    assert r.status_code == 200 and r.json()["blocked_card_no"] == card
    new_card = r.json()["card_no"]
    assert new_card != card
    await stack.wait_directory(key, new_card)
    old = (await lookup(stack, key, card_no=card)).json()
    assert old["member_id"] == mid and old["card_status"] == "blocked"
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as g:
        assert (await g.post("/v1/sales", json=sale(STORE, "R-OLD", card, 1000))).status_code == 201
        assert (await g.post("/v1/sales", json=sale(STORE, "R-NEW", new_card, 1000))).status_code == 201
    stamps = await sale_stamps(stack)
    assert stamps["R-OLD"] == ("active", "blocked") and stamps["R-NEW"] == ("active", "active")

    # M-13: a change puts the file back to review; the gateway stops treating the member as approved
    r = await s1.patch(f"/v1/member-files/{mid}", json={"address": "西安市雁塔区科技路8号2单元501室"})
    assert r.status_code == 200 and r.json()["status"] == "pending_review"
    await wait_for(lambda: status_at_gateway(stack, key, new_card, "pending_review"), 30, "pending_review")
    r = await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["card_no"] == new_card
    await wait_for(lambda: status_at_gateway(stack, key, new_card, "active"), 30, "active again")

    # M-16: blacklisting the member's phone changes the state and is flagged first on every lookup
    r = await cs.post("/v1/blacklist", json={"mobile": phone, "full_name": "周雅琴", "reason": "闹事"})
    assert r.status_code == 201 and r.json()["members"] == [mid]
    got = await wait_for(lambda: status_at_gateway(stack, key, new_card, "blacklisted"), 30, "blacklisted")
    assert got["blacklisted"]["store_id"] == STORE
    stranger = mobile()
    r = await cs.post("/v1/blacklist", json={"mobile": stranger, "full_name": "钱多多", "reason": "逃单"})
    assert r.status_code == 201 and r.json()["members"] == []

    async def stranger_flagged() -> Any:
        r = await lookup(stack, key, mobile=stranger)
        return r.json() if r.status_code == 200 else None

    flagged = await wait_for(stranger_flagged, 30, "blacklisted non-member")
    assert flagged["member_id"] is None and flagged["blacklisted"]["store_id"] == STORE
    r = await s1.post("/v1/member-files", json=complete("钱多多", stranger))
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-16"
    assert (await lookup(stack, key, mobile=mobile())).status_code == 422  # not listed: two facts needed

    # PII: no plaintext mobile in any text column of the members database
    await no_plaintext(stack.cfg, [phone, phone2, employee, stranger, "61010319900308123"])
    for c in (s1, s2, cs, aud):
        await c.aclose()


async def status_at_gateway(stack: Stack, key: str, card: str, status: str) -> Any:
    r = await lookup(stack, key, card_no=card)
    return r.json() if r.status_code == 200 and r.json()["status"] == status else None


async def sale_stamps(stack: Stack) -> dict[str, tuple[str, str]]:
    """member_status / card_status the gateway stamped into each sale event (read back from pos.sales)."""
    n = await sql_value(stack.cfg, "gateway", "SELECT count(*) FROM outbox")
    records = await consume_all(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "pos.sales", expect=n)
    out = {}
    for r in records:
        d = json.loads(r.value)
        out[d["receipt_no"]] = (d["member_status"], d["card_status"])
    return out


async def no_plaintext(cfg: StackConfig, phones: list[str]) -> None:
    """No value in any text, JSON, array or binary column of the members database contains these numbers
    (binary: encrypted columns and the outbox, whose published rows keep no payload)."""

    async def all_published() -> bool:
        return await sql_value(cfg, "members", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    await wait_for(all_published, 30, "members outbox published")
    conn = await asyncpg.connect(cfg.db_url("members").replace("+asyncpg", ""))
    try:
        cols = await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'ARRAY', 'character varying', 'bytea')")
        for c in cols:
            for p in phones:
                col = f'"{c["column_name"]}"'
                where = (f"position(convert_to($1, 'UTF8') in {col}) > 0" if c["data_type"] == "bytea"
                         else f"{col}::text LIKE '%' || $1 || '%'")
                n = await conn.fetchval(f'SELECT count(*) FROM "{c["table_name"]}" WHERE {where}', p)
                assert n == 0, f"plaintext mobile in {c['table_name']}.{c['column_name']}"
    finally:
        await conn.close()
