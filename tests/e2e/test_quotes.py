"""POST /v1/quotes on the cashier's critical path (L-06): one trace across gateway and loyalty, a clear
answer when loyalty is down, and the gateway's member cache never hides a member registered a moment ago."""

from __future__ import annotations

import uuid

import httpx
from devstack.testing import Stack, StackConfig
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

LINES = [{"line_no": 1, "sku": "R-1", "qty": 1, "unit_price": 98800},
         {"line_no": 2, "sku": "S-1", "qty": 1, "unit_price": 5000, "special_price": True}]


async def test_l06_quote_is_one_trace_from_pos_to_loyalty(stack_config: StackConfig) -> None:
    exporter = InMemorySpanExporter()
    providers = {}
    for s in ("gateway", "loyalty"):
        providers[s] = TracerProvider()
        providers[s].add_span_processor(SimpleSpanProcessor(exporter))
    async with Stack(stack_config, providers, services=("members", "loyalty", "gateway")) as stack:
        key = await stack.add_store("QT-1", "jewelry")
        (m,) = await stack.add_members([{"store_id": "QT-1", "full_name": "杨丽华",
                                         "mobile": f"135{uuid.uuid4().int % 10**8:08d}"}])
        await stack.wait_directory(key, m["card_no"])
        exporter.clear()
        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {key}"}) as pos:
            r = await pos.post("/v1/quotes", json={"store_id": "QT-1", "member": {"card_no": m["card_no"]},
                                                   "lines": LINES})
        assert r.status_code == 200, r.text
        q = r.json()
        assert q["member_id"] == m["member_id"] and q["total"] == 103800
        assert q["points_to_earn"] == 988  # L-01: the special-price line earns nothing
        spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(q["trace_id"], 16)]
        client = [s for s in spans if s.kind == SpanKind.CLIENT and s.name == "POST loyalty"]
        assert len(client) == 1
        loyalty_server = [s for s in spans if s.kind == SpanKind.SERVER and s.resource is not None
                          and s.parent is not None and s.parent.span_id == client[0].context.span_id]
        assert len(loyalty_server) == 1, [s.name for s in spans]  # loyalty's span is a child of the call


async def test_l06_quote_when_loyalty_is_down_is_a_503_problem(stack_config: StackConfig) -> None:
    async with Stack(stack_config, services=("members", "gateway")) as stack:
        key = await stack.add_store("QT-2", "jewelry")
        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {key}"}) as pos:
            r = await pos.post("/v1/quotes", json={"store_id": "QT-2", "lines": LINES})
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert "regular price" in r.json()["detail"]


async def test_l06_quote_finds_a_member_registered_after_a_miss(stack: Stack) -> None:
    """A card unknown at the first quote is not remembered as unknown (only hits are cached)."""
    key = await stack.add_store("QT-3", "jewelry")
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as pos:
        mobile = f"135{uuid.uuid4().int % 10**8:08d}"
        ref = {"mobile": mobile, "name": "杨丽华"}
        r = await pos.post("/v1/quotes", json={"store_id": "QT-3", "member": ref, "lines": LINES})
        assert r.status_code == 200 and r.json()["member_id"] is None
        (m,) = await stack.add_members([{"store_id": "QT-3", "full_name": "杨丽华", "mobile": mobile}])
        await stack.wait_directory(key, m["card_no"])
        r = await pos.post("/v1/quotes", json={"store_id": "QT-3", "member": ref, "lines": LINES})
        assert r.status_code == 200 and r.json()["member_id"] == m["member_id"]


async def test_l06_concurrent_quotes_share_calls_and_each_gets_its_own_price(stack_config: StackConfig) -> None:
    """Quotes that arrive while a call to loyalty is in flight go together in the next call (one request, one
    read), and each cashier still gets the price of their own member: birthday (8.5折 with ID) or none."""
    import asyncio
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    async with Stack(stack_config, {"gateway": tp}, services=("members", "loyalty", "gateway")) as stack:
        key = await stack.add_store("QT-4", "jewelry")
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
        other = today.replace(month=today.month % 12 + 1, day=1)
        members = await stack.add_members([
            {"store_id": "QT-4", "full_name": name, "mobile": f"135{uuid.uuid4().int % 10**8:08d}",
             "birthday": (today if i % 2 == 0 else other).replace(year=1990).isoformat()}
            for i, name in enumerate(["杨丽华", "王建国", "李秀英", "张伟民"])])
        await stack.wait_directory(key, members[-1]["card_no"])
        exporter.clear()
        async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                     limits=httpx.Limits(max_connections=40)) as pos:
            replies = await asyncio.gather(*[
                pos.post("/v1/quotes", json={"store_id": "QT-4", "id_verified": True,
                                             "member": {"card_no": members[i % 4]["card_no"]},
                                             "lines": LINES[:1]}) for i in range(40)])
        for i, r in enumerate(replies):
            assert r.status_code == 200, r.text
            q = r.json()
            assert q["member_id"] == members[i % 4]["member_id"]
            if i % 2 == 0:
                assert q["benefit"] == "birthday" and q["lines"][0]["member_price"] == 83980
            else:
                assert q["benefit"] is None and q["lines"][0]["member_price"] == 98800
        calls = [s for s in exporter.get_finished_spans() if s.name == "POST loyalty"]
        assert len(calls) < 40 and any(len(s.links) > 1 for s in calls)  # shared calls, linked to requests
