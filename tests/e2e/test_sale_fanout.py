"""One sale from a POS fans out to points, tiers, credit, members and exactly one SMS (issue 2, item 8)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
from devstack.testing import Stack, StackConfig, wait_for
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def sale(store: str, receipt: str, card: str | None, paid: int, **extra: object) -> dict:
    body = {"store_id": store, "terminal_id": "T1", "receipt_no": receipt,
            "occurred_at": "2026-11-22T12:30:00+08:00", "cashier_staff_id": "S-1001",
            "booked_by_staff_id": "S-1002",
            "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": paid, "paid": paid}],
            "payments": [{"method": "cash", "amount": paid}]}
    if card:
        body["member"] = {"card_no": card}
    body.update(extra)
    return body


async def count(cfg: StackConfig, service: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(cfg.db_url(service).replace("+asyncpg", ""))
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def sms_to(stack: Stack, mobile: str) -> list[dict]:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{stack.url('smssim')}/v1/messages", params={"to": mobile})
    return list(r.json()["messages"])


async def test_one_sale_earns_upgrades_sends_one_sms_in_one_trace(stack_config: StackConfig) -> None:
    """L-01 earn, L-04 jewelry VIP at 680 yuan on one receipt, N-04 one SMS, one connected trace."""
    exporter = InMemorySpanExporter()
    providers = {}
    for s in ("gateway", "members", "loyalty", "credit", "notify"):
        tp = TracerProvider()
        tp.add_span_processor(SimpleSpanProcessor(exporter))
        providers[s] = tp
    async with Stack(stack_config, providers) as stack:
        key = await stack.add_store("XA-001", "jewelry")
        mobile = f"139{uuid.uuid4().int % 10**8:08d}"
        (m,) = await stack.add_members([{"store_id": "XA-001", "full_name": "王小明", "mobile": mobile}])
        assert m["card_no"].startswith("755")
        before = await stack.wait_directory(key, m["card_no"])
        assert before["tier"] == "normal" and before["points_balance"] == 0
        exporter.clear()

        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {key}"}) as pos:
            r = await pos.post("/v1/sales", json=sale("XA-001", "R-1", m["card_no"], 98800))
            assert r.status_code == 201, r.text
            assert r.json()["member_id"] == m["member_id"]
            trace_id = r.json()["trace_id"]
            assert r.headers["traceparent"].split("-")[1] == trace_id

            async def upgraded() -> bool:
                lk = (await pos.get("/v1/members/lookup", params={"card_no": m["card_no"]})).json()
                return lk["tier"] == "vip" and lk["points_balance"] == 988

            await wait_for(upgraded, 30, "points and tier after the sale")
            msgs = await wait_for(lambda: sms_to(stack, mobile), 30, "the tier SMS")
            assert len(msgs) == 1 and "VIP会员" in msgs[0]["body"] and msgs[0]["body"].startswith("【金缘珠宝】")

        assert await count(stack.cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id=$1",
                           m["member_id"]) == 1
        assert await wait_for(lambda: count(stack.cfg, "members",
                                            "SELECT count(*) FROM consumptions WHERE member_id=$1",
                                            m["member_id"]), 20, "consumption recorded") == 1

        async def notify_span_done() -> bool:
            return any(s.name == "sms send" for s in exporter.get_finished_spans())

        await wait_for(notify_span_done, 10, "sms span")
        spans = exporter.get_finished_spans()
        in_trace = [s for s in spans if format(s.context.trace_id, "032x") == trace_id]
        names = {s.name for s in in_trace}
        assert any(n.startswith("POST /v1/sales") for n in names), names
        assert "loyalty process pos.sale.recorded" in names, names
        assert "notify process loyalty.tier.changed" in names, names
        assert "sms send" in names, names
        # connected: every span of the trace has its parent inside the trace (except the root)
        ids = {s.context.span_id for s in in_trace}
        roots = [s for s in in_trace if s.parent is None or s.parent.span_id not in ids]
        assert len(roots) == 1, [s.name for s in roots]


async def test_same_sale_twice_counts_once_and_sends_one_sms(stack: Stack) -> None:
    """L-02 and N-04: a repeated POST answers 200 with the first answer; one ledger entry, one SMS."""
    key = await stack.add_store("XA-002", "jewelry")
    mobile = f"138{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": "XA-002", "full_name": "李雪梅", "mobile": mobile}])
    await stack.wait_directory(key, m["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as pos:
        body = sale("XA-002", "R-9", m["card_no"], 70000)
        first = await pos.post("/v1/sales", json=body)
        again = await pos.post("/v1/sales", json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        conflict = await pos.post("/v1/sales", json=sale("XA-002", "R-9", m["card_no"], 70001))
        assert conflict.status_code == 409
        assert conflict.headers["content-type"].startswith("application/problem+json")
        await wait_for(lambda: sms_to(stack, mobile), 30, "the tier SMS")
    assert await wait_for(lambda: count(stack.cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id=$1",
                                        m["member_id"]), 10, "ledger entry") == 1
    assert await count(stack.cfg, "gateway", "SELECT count(*) FROM outbox") == 1 + 0  # one sale event
    assert len(await sms_to(stack, mobile)) == 1


async def test_credit_sale_becomes_receivable(stack: Stack) -> None:
    """C-03: a sale paid by credit is recorded as a receivable of the named customer; C-04: only against an
    authorisation of that store and customer (a made-up one is refused to the cashier)."""
    from vipcore.auth import Role

    from tests.credit.helpers import authorize, open_account, staff

    key = await stack.add_store("XA-003", "generic")
    async with staff(stack, Role.STORE_MANAGER, store_id="XA-003") as mgr:
        cust = await open_account(mgr, "group_company", store_id="XA-003")
    body = sale("XA-003", "R-C1", None, 120000)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as pos:
        body["payments"] = [{"method": "credit", "amount": 120000, "credit_customer_id": cust,
                             "authorization_id": "AUTH-1"}]
        made_up = await pos.post("/v1/sales", json=body)
        assert made_up.status_code == 422 and made_up.json()["errors"][0]["rule"] == "C-04"
        auth = (await authorize(pos, cust, 1, 120000, store_id="XA-003")).json()["authorization_id"]
        body["payments"][0]["authorization_id"] = auth
        assert (await pos.post("/v1/sales", json=body)).status_code == 201

    async def receivable() -> list:
        r = await stack.admin.get(f"{stack.url('credit')}/v1/receivables", params={"customer_id": cust})
        return list(r.json()["receivables"])

    (rec,) = await wait_for(receivable, 30, "the receivable")
    assert rec["amount"] == 120000 and rec["authorization_id"] == auth
