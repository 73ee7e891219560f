"""A sale's whole trace, fetched from the running trace viewer's API (issue 13, items 2 and 5).

The services run with the production wiring (no test tracer providers): `ZIPKIN_ENDPOINT` set, the Zipkin
exporter, the parent-based sampler, query strings scrubbed. The trace is read back from Zipkin's own API.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import httpx
from devstack.testing import Stack, StackConfig, wait_for

SERVICES = {"gateway", "members", "loyalty", "credit", "notify"}


def jewelry_sale(store: str, receipt: str, card: str, paid: int) -> dict[str, Any]:
    return {"store_id": store, "terminal_id": "T1", "receipt_no": receipt,
            "occurred_at": "2026-11-22T12:30:00+08:00", "cashier_staff_id": "S-1001",
            "booked_by_staff_id": "S-1002", "member": {"card_no": card},
            "lines": [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": paid, "paid": paid}],
            "payments": [{"method": "cash", "amount": paid}]}


async def fetch_trace(zipkin_url: str, trace_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.get(f"{zipkin_url}/api/v2/trace/{trace_id}")
    return list(r.json()) if r.status_code == 200 else []


async def test_one_sale_is_one_connected_trace_in_zipkin(stack_config: StackConfig, zipkin_url: str) -> None:
    """One member sale that upgrades the tier (L-04) and sends the SMS (N-04): every service on its path
    has spans in one trace, all connected by parent ids, tagged with receipt/store/member, no mobile."""
    stack_config.zipkin_endpoint = f"{zipkin_url}/api/v2/spans"
    receipt = f"R-{uuid.uuid4().hex[:8]}"
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    async with Stack(stack_config) as stack:
        key = await stack.add_store("XA-001", "jewelry")
        (m,) = await stack.add_members([{"store_id": "XA-001", "full_name": "王小明", "mobile": mobile}])
        await stack.wait_directory(key, m["card_no"])
        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {key}"}) as pos:
            r = await pos.post("/v1/sales", json=jewelry_sale("XA-001", receipt, m["card_no"], 98800))
            assert r.status_code == 201, r.text
            trace_id = r.json()["trace_id"]

            async def sms_sent() -> list[Any]:
                got = (await pos.get(f"{stack.url('smssim')}/v1/messages", params={"to": mobile})).json()
                return list(got["messages"])

            await wait_for(sms_sent, 30, "the tier-upgrade SMS")
            # a lookup by mobile: its query string must not reach any trace
            await pos.get("/v1/members/lookup", params={"mobile": mobile})

        # item 3's metrics move with the same sale (checked here: this stack is already up)
        async with httpx.AsyncClient(timeout=10) as c:
            gw = (await c.get(f"{stack.url('gateway')}/metrics")).text
            loyalty = (await c.get(f"{stack.url('loyalty')}/metrics")).text
        assert 'http_server_requests_total{method="POST",route="/v1/sales",status="201"} 1.0' in gw
        assert 'http_server_request_duration_seconds_count{method="POST",route="/v1/sales"} 1.0' in gw
        assert "outbox_oldest_age_seconds 0.0" in gw  # published: nothing waits
        assert "consumer_lag_seconds{" in loyalty

        async def complete() -> list[dict[str, Any]]:
            spans = await fetch_trace(zipkin_url, trace_id)
            names = {s.get("name", "") for s in spans}
            return spans if "sms send" in names and {s["localEndpoint"]["serviceName"] for s in spans} >= SERVICES \
                else []

        spans = await wait_for(complete, 30, "the sale's trace in Zipkin", interval=1)

    by_service = Counter(s["localEndpoint"]["serviceName"] for s in spans)
    assert set(by_service) >= SERVICES, by_service
    names = {s["name"] for s in spans}
    for expected in ("post /v1/sales", "gateway commit sales", "pos.sales publish",
                     "members process pos.sale.recorded", "loyalty process pos.sale.recorded",
                     "credit process pos.sale.recorded", "notify process loyalty.tier.changed", "sms send"):
        assert any(expected in n for n in names), (expected, sorted(names))
    assert any(s.get("kind") == "CLIENT" and s["localEndpoint"]["serviceName"] == "notify"
               and s.get("tags", {}).get("http.request.method", s.get("tags", {}).get("http.method")) == "POST"
               for s in spans), "notify's call to the SMS provider"

    # connected: one root (the POS request), every other span's parent is in the trace
    ids = {s["id"] for s in spans}
    roots = [s for s in spans if s.get("parentId") not in ids]
    assert [s["name"] for s in roots] == [next(n for n in names if n.startswith("post /v1/sales"))], \
        [(s["name"], s["localEndpoint"]["serviceName"]) for s in roots]

    # found by receipt: the viewer's tag search answers this trace
    async with httpx.AsyncClient(timeout=10) as c:
        found = (await c.get(f"{zipkin_url}/api/v2/traces",
                             params={"annotationQuery": f"vip.receipt_no={receipt}", "lookback": 3_600_000,
                                     "limit": 10})).json()
    assert [t[0]["traceId"] for t in found] == [trace_id]
    tagged = [s for s in spans if s.get("tags", {}).get("vip.receipt_no") == receipt]
    assert {s["localEndpoint"]["serviceName"] for s in tagged} >= {"gateway", "members", "loyalty", "credit"}
    assert all(s["tags"].get("vip.store_id") == "XA-001" and s["tags"].get("vip.member_id") == m["member_id"]
               for s in tagged if "process" in s["name"] or s["name"].startswith("post /v1/sales"))
    assert any(s.get("tags", {}).get("vip.member_id") == m["member_id"] and s["name"] == "sms send" for s in spans)

    # no personal data anywhere in the trace, nor in the lookup's
    text = json.dumps(spans, ensure_ascii=False)
    assert mobile not in text and mobile[-8:] not in text and "王小明" not in text
    async with httpx.AsyncClient(timeout=10) as c:
        lookups = (await c.get(f"{zipkin_url}/api/v2/traces",
                               params={"serviceName": "gateway", "spanName": "get /v1/members/lookup",
                                       "lookback": 3_600_000, "limit": 10})).json()
    assert lookups, "the lookup was traced"
    leaks = [(s["name"], k, v) for t in lookups for s in t for k, v in s.get("tags", {}).items() if mobile in v]
    assert not leaks and mobile not in json.dumps(lookups), leaks
    duration_ms = max(s["timestamp"] + s.get("duration", 0) for s in spans) - min(s["timestamp"] for s in spans)
    print(f"\ntrace {trace_id}: {len(spans)} spans, services {dict(by_service)}, {duration_ms / 1000:.0f} ms")
