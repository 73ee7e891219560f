"""POS API limits (issue 11, item 3): per store API key buckets (429 with Retry-After), misses on card numbers
slowed down far more than lookups (M-17: the card range cannot be walked), bounded in-memory queues (503 with
Retry-After, nothing paid or written)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway.config import GatewaySettings
from gateway.entrypoints.http import pos_router
from gateway.entrypoints.limits import PosLimits
from gateway.service.checkout import Checkout
from gateway.service.coalescer import SaleCoalescer
from gateway.service.quotes import QuoteBatcher
from gateway.service.sales import Outcome
from vipcore.errors import NotFound, Unavailable
from vipcore.http import install_problem_handlers
from vipcore.httpclient import Reply

KEY_A = "vip_aaaaaaaaaaaa_secretA"
KEY_B = "vip_bbbbbbbbbbbb_secretB"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Keys:
    async def store_of(self, key: str) -> str | None:
        return {KEY_A: "S-A", KEY_B: "S-B"}.get(key)


class Lookup:
    """Card 75500001 exists; every other card is nobody's."""

    def __init__(self) -> None:
        self.calls = 0

    async def find(self, store: str, card_no: str | None, mobile: str | None, name: str | None) -> dict[str, Any]:
        self.calls += 1
        if card_no != "75500001":
            raise NotFound("card_no", "no member with these details", "M-18")
        return {"member_id": "M1", "display_name": "x", "tier": "base", "points_balance": 0, "card_status": "active",
                "status": "active", "blacklisted": None, "birthday_today": False}


def settings(**kw: Any) -> GatewaySettings:
    return GatewaySettings(database_url="postgresql+asyncpg://x@h/db", admin_token="a-real-secret-123",
                           pii_index_key="k" * 32, **kw)


def app_with(limits: PosLimits, lookup: Lookup) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(pos_router(None, None, Keys(), lookup, None, limits))  # type: ignore[arg-type]
    return app


def client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw",
                             headers={"Authorization": f"Bearer {key}"})


async def test_lookups_per_key_answer_429_with_retry_after_once_the_bucket_is_empty() -> None:
    clock, lookup = Clock(), Lookup()
    limits = PosLimits.from_settings(settings(pos_lookups_per_s=0.5, pos_lookups_burst=3), clock)
    app = app_with(limits, lookup)
    async with client(app, KEY_A) as a, client(app, KEY_B) as b:
        for _ in range(3):
            assert (await a.get("/v1/members/lookup", params={"card_no": "75500001"})).status_code == 200
        r = await a.get("/v1/members/lookup", params={"card_no": "75500001"})
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        assert r.headers["content-type"] == "application/problem+json" and r.json()["status"] == 429
        assert lookup.calls == 3  # refused before the directory was read
        # another store's key has its own bucket
        assert (await b.get("/v1/members/lookup", params={"card_no": "75500001"})).status_code == 200
        clock.now += 2
        assert (await a.get("/v1/members/lookup", params={"card_no": "75500001"})).status_code == 200
        # an unknown key is 401, and spends no store's allowance
        async with client(app, "vip_aaaaaaaaaaaa_wrong") as bad:
            assert (await bad.get("/v1/members/lookup", params={"card_no": "75500001"})).status_code == 401


async def test_m17_misses_on_card_numbers_are_slowed_down_far_below_lookups() -> None:
    clock, lookup = Clock(), Lookup()
    limits = PosLimits.from_settings(settings(pos_lookups_per_s=100, pos_lookups_burst=1000,
                                              pos_misses_per_min=6, pos_misses_burst=5), clock)
    app = app_with(limits, lookup)
    async with client(app, KEY_A) as a:
        walked = [(await a.get("/v1/members/lookup", params={"card_no": f"755000{n:02d}"})).status_code
                  for n in range(10, 30)]  # walking the card range
        assert walked[:5] == [404] * 5 and set(walked[5:]) == {429}
        r = await a.get("/v1/members/lookup", params={"card_no": "75500099"})
        assert r.status_code == 429 and r.headers["retry-after"] == "10"  # one try per 10 s (6 a minute)
        assert lookup.calls == 5  # the directory was not even read for the refused tries
        # hits never count as misses: after waiting, a real card is found and gives its token back
        clock.now += 10
        for _ in range(5):
            assert (await a.get("/v1/members/lookup", params={"card_no": "75500001"})).status_code == 200
        assert (await a.get("/v1/members/lookup", params={"card_no": "75500077"})).status_code == 404
        assert (await a.get("/v1/members/lookup", params={"card_no": "75500078"})).status_code == 429


async def test_concurrent_misses_are_all_charged_and_hits_never_wait_for_each_other() -> None:
    clock, lookup = Clock(), Lookup()
    limits = PosLimits.from_settings(settings(pos_misses_burst=3, pos_misses_per_min=6), clock)
    async with client(app_with(limits, lookup), KEY_A) as a:
        # 40 tills looking up real cards at once: none is held back by the misses allowance
        hits = await asyncio.gather(*(a.get("/v1/members/lookup", params={"card_no": "75500001"}) for _ in range(40)))
        assert {r.status_code for r in hits} == {200}
        codes = await asyncio.gather(*(a.get("/v1/members/lookup", params={"card_no": f"7550{n:04d}"})
                                       for n in range(100, 130)))
        misses = sum(r.status_code == 404 for r in codes)
        # every miss that ran was charged: the key now waits for all of them, so the rate stays 6 a minute
        r = await a.get("/v1/members/lookup", params={"card_no": "75500001"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= (misses - 3) * 10


class SlowDesk:
    """Writes a group only when released: the coalescer's queue fills meanwhile."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.written: list[str] = []

    async def record(self, sales: list[Any], traces: Any = None) -> list[Outcome]:
        await self.release.wait()
        self.written += [s.receipt_no for s in sales]
        return [Outcome(201, {"sale_id": s.receipt_no}) for s in sales]


class Payments:
    def __init__(self) -> None:
        self.spent: list[str] = []

    async def spend(self, sale: Any) -> None:
        self.spent.append(sale.receipt_no)


def sale(n: int) -> Any:
    from gateway.entrypoints.schemas import SaleIn

    return SaleIn.model_validate({
        "store_id": "S-A", "terminal_id": "T1", "receipt_no": f"R{n}", "occurred_at": "2026-11-22T12:30:00+08:00",
        "lines": [{"line_no": 1, "sku": "A", "qty": 1, "unit_price": 100, "paid": 100}],
        "payments": [{"method": "cash", "amount": 100}]})


async def test_full_sale_queue_answers_503_before_anything_is_paid_or_written() -> None:
    desk, coupons = SlowDesk(), Payments()
    checkout = Checkout(desk, SaleCoalescer(desk, max_pending=3), None, coupons)  # type: ignore[arg-type]
    waiting = [asyncio.create_task(checkout.record("S-A", sale(n))) for n in range(3)]
    await asyncio.sleep(0.05)
    with pytest.raises(Unavailable) as e:
        await checkout.record("S-A", sale(99))
    assert e.value.status == 503 and e.value.retry_after_s >= 1
    assert "R99" not in coupons.spent  # refused before its coupons were spent: nothing half-done
    desk.release.set()
    assert [o.status for o in await asyncio.gather(*waiting)] == [201, 201, 201]
    assert sorted(desk.written) == ["R0", "R1", "R2"]
    assert (await checkout.record("S-A", sale(99))).status == 201  # room again


async def test_full_quote_queue_answers_503() -> None:
    gate = asyncio.Event()

    class Loyalty:
        async def post(self, path: str, body: Any, links: Any = None) -> Reply:
            await gate.wait()
            n = len(body["quotes"]) if path.endswith(":batch") else 1
            return Reply(200, {"results": [{"total": 1}] * n} if path.endswith(":batch") else {"total": 1})

    batcher = QuoteBatcher(Loyalty(), max_pending=2)  # type: ignore[arg-type]
    waiting = [asyncio.create_task(batcher.price({"store_id": "S"})) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(Unavailable):
        await batcher.price({"store_id": "S"})
    gate.set()
    assert [r.status for r in await asyncio.gather(*waiting)] == [200, 200]
    assert (await batcher.price({"store_id": "S"})).status == 200


async def test_two_gateways_together_keep_a_keys_configured_rate() -> None:
    """docs/scaling.md "Rates that stay chain-wide": with INSTANCE_COUNT=2 each gateway keeps half of every bucket,
    so a key whose requests the kernel (or a Kubernetes Service) spreads over both gets the configured burst and
    rate, not twice them — lookups and, above all, misses on card numbers (M-17)."""
    clock = Clock()
    s = settings(pos_lookups_per_s=2, pos_lookups_burst=10, pos_misses_per_min=6, pos_misses_burst=6,
                 instance_count=2)
    apps = [app_with(PosLimits.from_settings(s, clock), Lookup()) for _ in range(2)]
    async with client(apps[0], KEY_A) as one, client(apps[1], KEY_A) as two:
        async def spread(card: str, n: int) -> list[int]:  # requests alternate between the two instances
            return [(await (one, two)[i % 2].get("/v1/members/lookup", params={"card_no": card})).status_code
                    for i in range(n)]

        assert (await spread("75500001", 14)).count(200) == 10  # the burst of 10, not 20
        clock.now += 5  # 5 s at 2/s: 10 more in all
        assert (await spread("75500001", 14)).count(200) == 10
        clock.now += 60
        walked = await spread("75500077", 20)  # misses: burst 6 chain-wide, then 6 a minute
        assert walked.count(404) == 6 and walked.count(429) == 14
        clock.now += 20  # 2 more misses in 20 s, whichever instance they reach
        assert (await spread("75500078", 6)).count(404) == 2
