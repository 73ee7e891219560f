"""Issue 11, item 5: no plaintext mobile, name or ID-card number on any Kafka topic, DLQ copies included.

Members are registered (by HQ and at the desk, with an ID card), staff are registered, changed and hand members
over (M-12), a group buyer's invoice goes overdue (C-07) and notify sends the reminders; one poison record is
dead-lettered. Then every topic of the stack, `.dlq` topics included, is read with a plain aiokafka consumer and
the raw bytes of every key, value and header are searched for the numbers and names used: none is found. The
consumers that need them still get them (notify sends the SMS to the right numbers): the events carry the values
sealed with the events key (`*_enc`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from devstack.testing import Stack, produce, sql_value, wait_for
from vipcore.auth import Role

from .helpers import credit_sale, pos, receivables_of, staff
from .test_receivables_payments_overdue import daily, days_ago, today
from .test_staff_reminders import sms_to

STORE = "XA-1"


async def login(stack: Stack, staff_id: str) -> httpx.AsyncClient:
    r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login",
                               json={"staff_id": staff_id, "password": "pw-" + staff_id + "-long"})
    assert r.status_code == 200, r.text
    return httpx.AsyncClient(base_url=stack.url("members"), timeout=30,
                             headers={"Authorization": f"Bearer {r.json()['token']}"})


def phone() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


async def every_record(stack: Stack) -> list[tuple[str, bytes]]:
    """(topic, raw bytes of key + value + headers) of every record on every topic of this stack."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.cfg.kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(stack.cfg.topic_prefix)]
    finally:
        await admin.close()
    c = AIOKafkaConsumer(*topics, bootstrap_servers=stack.cfg.kafka_bootstrap, auto_offset_reset="earliest",
                         enable_auto_commit=False, group_id=None)
    await c.start()
    out: list[tuple[str, bytes]] = []
    try:
        while True:
            batch = await c.getmany(timeout_ms=3000)
            if not batch:
                break
            for tp, recs in batch.items():
                for r in recs:
                    raw = (r.key or b"") + b"|" + (r.value or b"") + b"|" + b"|".join(
                        k.encode() + b"=" + (v or b"") for k, v in r.headers)
                    out.append((tp.topic, raw))
    finally:
        await c.stop()
    return out


def spellings(p: str) -> list[bytes]:
    """The number as digits, with separators, and as JSON escapes would not hide it (UTF-8)."""
    return [s.encode() for s in (p, f"{p[:3]}-{p[3:7]}-{p[7:]}", f"{p[:3]} {p[3:7]} {p[7:]}")]


async def test_no_mobile_name_or_id_number_on_any_topic_dlq_included(nstack: Stack) -> None:
    stack = nstack
    key = await stack.add_store(STORE, "generic", region_code="029")
    await stack.add_store("HQ-000", "generic", region_code="000")
    p_s1, p_s2, p_lead, p_m1, p_m2, p_cust = (phone() for _ in range(6))
    id_card = "61010319900308123X"
    names = ["张晓燕", "李文静", "王丽华", "韩雪梅", "周雅琴", "赵建国"]
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": "L1", "store_id": STORE, "name": "王丽华", "position": "store GM", "role": "store_manager",
         "mobile": p_lead, "password": "pw-L1-long"},
        {"staff_id": "S1", "store_id": STORE, "name": "张晓燕", "position": "sales assistant", "mobile": p_s1,
         "line_leader_staff_id": "L1", "password": "pw-S1-long"},
        {"staff_id": "S2", "store_id": STORE, "name": "李文静", "position": "sales assistant",
         "mobile": f"+86 {p_s2[:3]}-{p_s2[3:7]}-{p_s2[7:]}", "password": "pw-S2-long"},
        {"staff_id": "CS1", "store_id": STORE, "name": "客服经理", "position": "customer-service manager",
         "role": "store_cs_manager", "password": "pw-CS1-long"},
        {"staff_id": "HQCS", "store_id": "HQ-000", "name": "总部客服", "position": "HQ customer service",
         "role": "hq_cs", "password": "pw-HQCS-long"}])
    assert r.status_code == 201, r.text
    (m1,) = await stack.add_members([{"store_id": STORE, "full_name": "韩雪梅", "mobile": p_m1,
                                      "referrer_staff_id": "S1"}])
    s1, s2, cs, hq = [await login(stack, s) for s in ("S1", "S2", "CS1", "HQCS")]
    r = await s1.post("/v1/member-files", json={"full_name": "周雅琴", "mobile": p_m2, "id_card": id_card})
    assert r.status_code == 201, r.text
    # a staff change (members.staff.changed) and a hand-over (members.handover.completed)
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": "S1", "store_id": STORE, "name": "张晓燕", "position": "floor manager"}])
    assert r.status_code == 201
    r = await cs.post("/v1/handovers", json={"from_staff_id": "S1", "to_staff_id": "S2", "type": "same_position",
                                             "reason": "moved"})
    assert r.status_code == 201, r.text
    hid = r.json()["handover_id"]
    for who, step in ((hq, "review"), (s2, "accept"), (hq, "confirm")):
        assert (await who.post(f"/v1/handovers/{hid}/{step}", json={})).status_code == 200
    # an overdue invoice of a group buyer whose responsible staff member is S2 (credit.invoice.overdue)
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT 1 FROM staff_directory WHERE staff_id='S2'"),
                   30, "S2 in credit's staff directory")
    async with staff(stack, Role.STORE_MANAGER) as mgr, pos(stack, key) as till:
        cust = f"ORG-{uuid.uuid4().hex[:8]}"
        r = await mgr.post("/v1/accounts", json={
            "customer_id": cust, "name": "赵建国", "customer_class": "individual", "contact_mobile": p_cust,
            "store_id": STORE, "responsible_staff_id": "S2", "limit_amount": 10_000_000})
        assert r.status_code == 201, r.text
        a = (await till.post("/v1/credit/authorizations", json={
            "store_id": STORE, "customer_id": cust, "cases": 1, "amount": 100_000,
            "responsible_staff_id": "S2"})).json()
        sale = credit_sale(f"R-PII-{cust}", cust, a["authorization_id"], 100_000, days_ago(stack, 25))
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        await receivables_of(stack, cust, 1)
        assert (await daily(stack, today(stack) + timedelta(days=1)))["reminders"] == 1
    # the consumers that need the numbers still have them: notify sends both reminders and the introductions
    await wait_for(lambda: sms_to(stack, p_cust), 60, "the customer's reminder SMS")
    await wait_for(lambda: sms_to(stack, p_s2), 60, "the responsible staff member's reminder SMS")
    await wait_for(lambda: sms_to(stack, p_m1), 60, "the handed-over member's introduction SMS")
    # one poison record, so a .dlq topic holds a copy and an error header
    await produce(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "members.events",
                  [(b"x", b"{}", [("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"members.member.updated"),
                                  ("ce_source", b"members"), ("ce_time", b"2026-11-22T00:00:00+00:00"),
                                  ("ce_dataschema", b"urn:vip:members.member.updated:v2")])])

    async def dead_lettered() -> list[tuple[str, bytes]] | None:
        recs = await every_record(stack)
        return recs if any(t.endswith(".dlq") for t, _ in recs) else None

    records = await wait_for(dead_lettered, 60, "the poison record dead-lettered")
    topics = {t.removeprefix(stack.cfg.topic_prefix) for t, _ in records}
    assert {"members.events", "credit.events", "notify.events", "pos.sales", "members.events.dlq"} <= topics
    types = b"".join(raw for _, raw in records)
    for t in (b"members.staff.changed", b"members.handover.completed", b"members.member.registered",
              b"credit.invoice.overdue"):
        assert t in types, t
    secrets: list[bytes] = [id_card.encode(), id_card.lower().encode(), *(n.encode() for n in names)]
    for p in (p_s1, p_s2, p_lead, p_m1, p_m2, p_cust):
        secrets += spellings(p)
    leaks: dict[str, Any] = {}
    for topic, raw in records:
        for s in secrets:
            if s in raw:
                leaks.setdefault(topic, set()).add(s.decode())
    assert not leaks, f"personal data in clear on Kafka: {leaks}"
    for c in (s1, s2, cs, hq):
        await c.aclose()
