"""This run's own stores, API keys and members, and the wait until every service knows them.

Store ids are `BN-<run id>-<n>`, so every run works on fresh stores, members and receipt numbers.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass, field

import asyncpg
import httpx
from devstack.testing import StackConfig

from .system import dsn
from .ui import console

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"]
STORE_PLAN = [("J1", "jewelry", "029"), ("J2", "jewelry", "755"), ("G1", "generic", "029"),
              ("G2", "generic", "020")]


@dataclass
class Store:
    store_id: str
    program: str
    api_key: str


@dataclass
class Fixture:
    run_id: str
    stores: list[Store]
    members: dict[str, list[dict]] = field(default_factory=dict)  # store_id -> regular members
    fresh: dict[str, list[dict]] = field(default_factory=dict)  # jewelry store_id -> never bought yet

    @property
    def store_ids(self) -> list[str]:
        return [s.store_id for s in self.stores]

    def store(self, store_id: str) -> Store:
        return next(s for s in self.stores if s.store_id == store_id)

    def all_members(self) -> list[dict]:
        return [m for ms in (*self.members.values(), *self.fresh.values()) for m in ms]


def _mobiles(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    return sorted(out, key=lambda _: rng.random())


async def create_fixture(cfg: StackConfig, *, regular_per_store: int, fresh_total: int,
                         rng: random.Random) -> Fixture:
    run_id = secrets.token_hex(3)
    admin = httpx.AsyncClient(auth=cfg.admin_auth(), timeout=120)  # an hq_admin staff token (O-02)
    try:
        stores = []
        for suffix, program, region in STORE_PLAN:
            sid = f"BN-{run_id}-{suffix}"
            r = await admin.post(cfg.url("members") + "/v1/stores", json={
                "store_id": sid, "name": f"Bench {sid}", "region_code": region, "program": program})
            r.raise_for_status()
            r = await admin.post(f"{cfg.url('gateway')}/admin/stores/{sid}/api-keys")
            r.raise_for_status()
            stores.append(Store(sid, program, r.json()["api_key"]))
        fx = Fixture(run_id, stores)
        jewelry = [s.store_id for s in stores if s.program == "jewelry"]
        plan: list[tuple[str, bool]] = [(s.store_id, False) for s in stores for _ in range(regular_per_store)]
        plan += [(jewelry[i % len(jewelry)], True) for i in range(fresh_total)]
        mobiles = _mobiles(rng, len(plan))
        people = [{"store_id": sid, "full_name": rng.choice(SURNAMES) + rng.choice(GIVEN), "mobile": mob}
                  for (sid, _), mob in zip(plan, mobiles, strict=True)]
        t0 = time.perf_counter()
        for i in range(0, len(people), 1000):
            chunk = people[i:i + 1000]
            r = await admin.post(cfg.url("members") + "/v1/members", json=chunk)
            r.raise_for_status()
            for p, issued, (_, is_fresh) in zip(chunk, r.json()["members"], plan[i:i + 1000], strict=True):
                m = {**issued, "mobile": p["mobile"]}
                (fx.fresh if is_fresh else fx.members).setdefault(p["store_id"], []).append(m)
        console.print(f"[green]✓[/] run [bold]{run_id}[/]: {len(stores)} stores (jewelry, generic), "
                      f"{len(people)} members ({fresh_total} kept fresh for tier upgrades) "
                      f"in {time.perf_counter() - t0:.1f}s")
        return fx
    finally:
        await admin.aclose()


async def wait_known(cfg: StackConfig, fx: Fixture, timeout: float = 120) -> None:
    """Until the gateway resolves every card, loyalty knows every store's program and notify every contact."""
    members = fx.all_members()
    ids = [m["member_id"] for m in members]
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    conns = {s: await asyncpg.connect(dsn(cfg, s)) for s in ("gateway", "loyalty", "notify")}
    try:
        with console.status("Waiting for the gateway, loyalty and notify to know the new stores and members..."):
            while True:
                g = await conns["gateway"].fetchval(
                    "SELECT count(*) FROM member_directory WHERE member_id = ANY($1::text[])", ids)
                lo = await conns["loyalty"].fetchval(
                    "SELECT count(*) FROM stores WHERE store_id = ANY($1::text[]) AND program = ANY($2::text[])",
                    fx.store_ids, [s.program for s in fx.stores])
                n = await conns["notify"].fetchval(
                    "SELECT count(*) FROM contacts WHERE member_id = ANY($1::text[])", ids)
                if g == len(ids) and lo == len(fx.stores) and n == len(ids):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"bench: after {timeout:.0f}s gateway knows {g}/{len(ids)} members, "
                                     f"loyalty {lo}/{len(fx.stores)} stores, notify {n}/{len(ids)} contacts")
                await asyncio.sleep(0.2)
    finally:
        for c in conns.values():
            await c.close()
    # and through the public API, as a POS would see it
    async with httpx.AsyncClient(base_url=cfg.url("gateway"), timeout=10) as gw:
        for m in (members[0], members[-1]):
            key = fx.store(m["store_id"]).api_key
            r = await gw.get("/v1/members/lookup", params={"card_no": m["card_no"]},
                             headers={"Authorization": f"Bearer {key}"})
            if r.status_code != 200:
                raise SystemExit(f"bench: lookup of card {m['card_no']} answered {r.status_code}: {r.text[:300]}")
    console.print(f"[green]✓[/] every service knows the {len(ids)} cards "
                  f"({time.perf_counter() - t0:.1f}s after registration)")
