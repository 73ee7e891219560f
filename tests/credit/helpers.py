"""Helpers for credit tests: a stack with members, gateway and credit; staff clients; credit sales."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from devstack.testing import Stack, produce, sql_value, wait_for
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.events import Envelope, EventData

CREDIT_SERVICES = ("members", "gateway", "credit")


def staff(stack: Stack, role: Role, staff_id: str | None = None, store_id: str | None = "XA-1",
          region_code: str | None = "029") -> httpx.AsyncClient:
    """An HTTP client of the credit service acting as one staff member."""
    p = Principal(staff_id or f"S-{uuid.uuid4().hex[:6]}", store_id, region_code, role)
    token = TokenIssuer(stack.cfg.staff_keys[0]).issue(p)
    return httpx.AsyncClient(base_url=stack.url("credit"), headers={"Authorization": f"Bearer {token}"}, timeout=30)


def pos(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}, timeout=30)


async def open_account(office: httpx.AsyncClient, cls: str = "group_company", limit_amount: int = 10_000_000,
                       **extra: Any) -> str:
    customer_id = f"ORG-{uuid.uuid4().hex[:8]}"
    body = {"customer_id": customer_id, "name": "西安市高新区管委会", "customer_class": cls,
            "contact_mobile": "13912345678", "store_id": "XA-1", "responsible_staff_id": "S-OP1",
            "line_leader_staff_id": "S-LEAD", "limit_amount": limit_amount, **extra}
    r = await office.post("/v1/accounts", json=body)
    assert r.status_code == 201, r.text
    return customer_id


def credit_sale(receipt: str, customer_id: str, auth_id: str | None, amount: int,
                occurred_at: str = "2026-11-22T12:30:00+08:00", store_id: str = "XA-1") -> dict[str, Any]:
    return {"store_id": store_id, "terminal_id": "T1", "receipt_no": receipt, "occurred_at": occurred_at,
            "cashier_staff_id": "S-OP1",
            "lines": [{"line_no": 1, "sku": "BAIJIU-6", "qty": 1, "unit_price": amount, "paid": amount}],
            "payments": [{"method": "credit", "amount": amount, "credit_customer_id": customer_id,
                          "authorization_id": auth_id}]}


async def receivables_of(stack: Stack, customer_id: str, n: int) -> list[dict[str, Any]]:
    async def got() -> list[dict[str, Any]] | None:
        r = await stack.admin.get(f"{stack.url('credit')}/v1/receivables", params={"customer_id": customer_id})
        rows = list(r.json()["receivables"])
        return rows if len(rows) >= n else None

    rows = await wait_for(got, 30, f"{n} receivables of {customer_id}")
    return sorted(rows, key=lambda x: x["delivered_at"])


async def authorize(client: httpx.AsyncClient, customer_id: str, cases: int, amount: int,
                    store_id: str = "XA-1") -> httpx.Response:
    return await client.post("/v1/credit/authorizations", json={
        "store_id": store_id, "customer_id": customer_id, "cases": cases, "amount": amount,
        "responsible_staff_id": "S-OP1"})


TOPICS = {"members": "members.events", "pos": "pos.sales"}


async def emit(stack: Stack, *events: EventData, subject: str = "k") -> None:
    """Produce events onto their topics as the owning service would (no dependency on its code)."""
    for e in events:
        env = Envelope.new(e, source=e.TYPE.split(".")[0], subject=subject)
        topic = stack.cfg.topic_prefix + TOPICS[e.TYPE.split(".")[0]]
        await produce(stack.cfg.kafka_bootstrap, topic, [(subject.encode(), env.body(), env.kafka_headers())])


async def add_store_in(stack: Stack, store_id: str, tz: str, region_code: str = "029") -> str:
    """A store in a time zone of its own (members announces it; credit keeps it); returns its POS API key."""
    r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
        "store_id": store_id, "name": f"Store {store_id}", "region_code": region_code, "program": "generic",
        "timezone": tz})
    r.raise_for_status()
    r = await stack.admin.post(f"{stack.url('gateway')}/admin/stores/{store_id}/api-keys")
    r.raise_for_status()
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT timezone FROM stores WHERE store_id=$1 AND "
                                     "timezone=$2", store_id, tz), 30, f"credit to know store {store_id}")
    return str(r.json()["api_key"])



async def draw_coupons(stack: Stack, fin: httpx.AsyncClient, prefix: str, face_value: int, count: int,
                       expires_on: str) -> list[str]:
    """Draw a batch of coupons (C-09) as finance; their numbers are random (prefix + 12 digits + check digit)."""
    r = await fin.post("/v1/coupon-batches", json={"prefix": prefix, "face_value": face_value, "count": count,
                                                   "expires_on": expires_on})
    assert r.status_code == 201, r.text
    return list(r.json()["coupon_nos"])
