"""Issue 12 item 5: the console at chain scale. Loads MEMBERS member files and LEDGER ledger entries straight into
an isolated system's databases (COPY and generate_series, not through the APIs), then times the console's pages
(member search by card / mobile / name; list pages: a member's ledger page, a store's member list, the review
queue, the desk-claim list) and prints one JSON line with p50/p95 per page and the targets (search p95 <= 100 ms,
list p95 <= 300 ms).

    .venv/bin/python bench/console_scale.py [--members 1000000] [--ledger 10000000] [--stores 100] [--n 200]

Its own PostgreSQL (not durable: a benchmark's data) in .run/bench-console/; Kafka from TEST_KAFKA_BOOTSTRAP_SERVERS
when set, else its own. Services (members, loyalty) and the console run in-process; each page is asked over HTTP
as the browser would, with the session cookie of a staff member of the right role. Progress on stderr; the last
stdout line is the result."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
PROGRAM = "jewelry"
PENDING_EVERY = 500  # one file in 500 waits for review (M-04)
TARGETS = {"search_p95_ms": 100.0, "list_p95_ms": 300.0}


def log(msg: str) -> None:
    print(f"[console_scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def member_id(i: int) -> str:
    return f"BM{i:08d}"


def store_of(i: int, stores: int) -> str:
    return f"BS-{i % stores:03d}"


def card_of(i: int) -> str:
    return f"029{i + 1:08d}"


def mobile_of(i: int) -> str:
    return f"13{3 + i % 7}{(i * 7919) % 10**8:08d}"  # 7919 is prime to 10**8: every i has its own number


def name_of(i: int) -> str:
    r = random.Random(i)
    return r.choice(SURNAMES) + r.choice(GIVEN) + r.choice(GIVEN)


def member_rows(n: int, stores: int, index_key: str, enc_key: Any) -> Iterator[tuple[Any, ...]]:
    """members.members rows: the personal fields encrypted and blind-indexed exactly as members keeps them."""
    from datetime import UTC, date, datetime, timedelta

    from vipcore.pii import encrypt, mobile_index, name_index

    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        name, mobile = name_of(i), mobile_of(i)
        pending = i % PENDING_EVERY == 0
        created = start + timedelta(seconds=i * 60)
        yield (member_id(i), store_of(i, stores), f"BS{i % stores:03d}-S{i % 20:02d}", name,
               name_index(index_key, name), encrypt(enc_key, mobile), mobile_index(index_key, mobile),
               None if pending else card_of(i), "none" if pending else "active",
               "pending_review" if pending else "active", date(1960 + i % 40, 1 + i % 12, 1 + i % 28), created,
               2, created if pending else None)


MEMBER_COLUMNS = ["member_id", "store_id", "referrer_staff_id", "full_name", "name_index", "mobile_enc",
                  "mobile_index", "card_no", "card_status", "status", "birthday", "created_at", "stage",
                  "submitted_at"]


async def load_members(cfg: Any, n: int, stores: int) -> float:
    import asyncpg
    from vipcore.pii import keyring

    t0 = time.perf_counter()
    conn = await asyncpg.connect(cfg.db_url("members").replace("+asyncpg", ""))
    try:
        rows = member_rows(n, stores, cfg.pii_index_key, keyring(cfg.pii_keys["members"]))
        done = 0
        while True:
            chunk = [r for _, r in zip(range(50_000), rows, strict=False)]
            if not chunk:
                break
            await conn.copy_records_to_table("members", records=chunk, columns=MEMBER_COLUMNS)
            done += len(chunk)
            if done % 200_000 == 0 or done == n:
                log(f"members: {done:,} files")
        await conn.execute("ANALYZE members")
    finally:
        await conn.close()
    return time.perf_counter() - t0


async def load_loyalty(cfg: Any, n: int, entries: int, stores: int) -> float:
    """loyalty: each member's home store and account, and `entries` earn entries spread over the members."""
    import asyncpg

    t0 = time.perf_counter()
    conn = await asyncpg.connect(cfg.db_url("loyalty").replace("+asyncpg", ""))
    try:
        await conn.execute(f"""
            INSERT INTO members (member_id, store_id)
            SELECT 'BM' || lpad(g::text, 8, '0'), 'BS-' || lpad((g % {stores})::text, 3, '0')
            FROM generate_series(0, {n - 1}) g ON CONFLICT DO NOTHING""")
        await conn.execute(f"""
            INSERT INTO accounts (member_id, program, tier, points_balance, tier_spend)
            SELECT 'BM' || lpad(g::text, 8, '0'), '{PROGRAM}', 'normal', (g * 37) % 3000, 0
            FROM generate_series(0, {n - 1}) g ON CONFLICT DO NOTHING""")
        log(f"loyalty: {n:,} members and accounts")
        step = 1_000_000
        for lo in range(0, entries, step):
            hi = min(entries, lo + step)
            await conn.execute(f"""
                INSERT INTO ledger (member_id, program, kind, points, spend, store_id, receipt_no, cause_event_id,
                                    occurred_at)
                SELECT 'BM' || lpad((g % {n})::text, 8, '0'), '{PROGRAM}',
                       CASE WHEN g % 10 = 9 THEN 'redeem' ELSE 'earn' END,
                       CASE WHEN g % 10 = 9 THEN -500 ELSE 100 + g % 900 END, 10000,
                       'BS-' || lpad(((g % {n}) % {stores})::text, 3, '0'), 'R' || g, md5(g::text)::uuid,
                       timestamptz '2024-01-01' + g * interval '3 seconds'
                FROM generate_series({lo}, {hi - 1}) g""")
            log(f"loyalty: {hi:,} ledger entries")
        await conn.execute("ANALYZE members; ANALYZE accounts; ANALYZE ledger")
    finally:
        await conn.close()
    return time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


async def timed(name: str, n: int, ask: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    """`n` sequential asks (after 5 to warm up), each a page of the console; every answer must be a 200."""
    for k in range(5):
        await ask(k)
    ms: list[float] = []
    for k in range(n):
        t0 = time.perf_counter()
        r = await ask(k)
        ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{name}: {r.status_code} {r.text[:300]}")
    out = {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 95), 1), "n": n}
    log(f"{name}: {out}")
    return out


async def measure(stack: Any, n_members: int, stores: int, n: int) -> dict[str, dict[str, float]]:
    import httpx

    cfg = stack.cfg
    console = await stack.start_console()
    rnd = random.Random(7)
    picks = [rnd.randrange(n_members) for _ in range(n + 10)]
    active = [i if i % PENDING_EVERY else i + 1 for i in picks]

    class Session(httpx.AsyncClient):
        """A browser of one staff member: a fresh staff token (short-lived, O-03) before each page's run."""

        def __init__(self, staff_id: str, role: str, store: str | None = None) -> None:
            super().__init__(base_url=console, timeout=60, follow_redirects=False)
            self.who = (staff_id, role, store)

        def renew(self) -> Session:
            self.cookies.set("console_session", cfg.staff_token(*self.who))
            return self

    def client(staff_id: str, role: str, store: str | None = None) -> Session:
        return Session(staff_id, role, store).renew()

    hq, cs = client("HQ-B1", "hq_admin"), client("HQ-B2", "hq_cs")
    sm = client("SM-B1", "store_manager", store_of(0, stores))
    desk = client("S-B1", "staff", store_of(0, stores))
    out: dict[str, dict[str, float]] = {}
    hx = {"HX-Request": "true"}
    async with hq, cs, sm, desk:
        out["search_card"] = await timed("search by card", n, lambda k: hq.get(
            "/members", params={"card_no": card_of(active[k])}, headers=hx))
        out["search_mobile"] = await timed("search by mobile", n, lambda k: hq.get(
            "/members", params={"mobile": mobile_of(picks[k])}, headers=hx))
        out["search_name"] = await timed("search by name", n, lambda k: hq.get(
            "/members", params={"name": name_of(picks[k])}, headers=hx))
        cs.renew(), sm.renew(), desk.renew()
        out["list_ledger_page"] = await timed("ledger page", n, lambda k: cs.get(
            f"/members/{member_id(picks[k])}/sections/ledger", headers=hx))
        out["list_ledger_redeem"] = await timed("ledger page, redemptions", n, lambda k: cs.get(
            f"/members/{member_id(picks[k])}/sections/ledger", params={"kind": "redeem"}, headers=hx))
        out["list_store_members"] = await timed("a store's members by surname", n, lambda k: sm.get(
            "/members", params={"name": SURNAMES[k % len(SURNAMES)], "page": 1 + k % 3}))
        out["list_review_queue"] = await timed("review queue", n, lambda k: cs.get(
            "/reviews", params={"page": 1 + k % 5}))
        out["list_desk_claims"] = await timed("desk-claim list", n, lambda k: desk.get("/desk"))
    return out


async def main(a: argparse.Namespace) -> None:
    sys.path[:0] = [str(ROOT / "deploy"), str(ROOT / "shared")] + [str(p) for p in (ROOT / "services").iterdir()]
    from devstack import kafka, postgres
    from devstack.procs import free_port
    from devstack.testing import Stack, StackConfig

    home = ROOT / ".run" / "bench-console"
    pg = postgres.PgNode(home=home / "pg", port=free_port(), durable=False)
    postgres.wipe(pg)
    postgres.start(pg)
    node = None
    bootstrap = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        node = kafka.KafkaNode(home=home / "kafka", port=free_port(), controller_port=free_port(), heap_mb=512)
        kafka.wipe(node)
        kafka.start(node)
        bootstrap = node.bootstrap
    load_before = os.getloadavg()
    try:
        cfg = StackConfig(pg_host="127.0.0.1", pg_port=pg.port, kafka_bootstrap=bootstrap)
        async with Stack(cfg, services=("members", "loyalty")) as stack:
            for s in range(a.stores):
                r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
                    "store_id": store_of(s, a.stores), "name": f"门店 {s}", "region_code": "029",
                    "program": PROGRAM})
                r.raise_for_status()
            t_members = await load_members(cfg, a.members, a.stores)
            t_ledger = await load_loyalty(cfg, a.members, a.ledger, a.stores)
            pages = await measure(stack, a.members, a.stores, a.n)
        search = max(v["p95_ms"] for k, v in pages.items() if k.startswith("search_"))
        lists = max(v["p95_ms"] for k, v in pages.items() if k.startswith("list_"))
        print(json.dumps({
            "bench": "console_scale", "members": a.members, "ledger_entries": a.ledger, "stores": a.stores,
            "load_s": {"members": round(t_members, 1), "loyalty": round(t_ledger, 1)},
            "search_p95_ms": search, "list_p95_ms": lists, "targets": TARGETS,
            "met": search <= TARGETS["search_p95_ms"] and lists <= TARGETS["list_p95_ms"], "pages": pages,
            "cpus": os.cpu_count(), "loadavg_before": [round(x, 1) for x in load_before],
            "loadavg_after": [round(x, 1) for x in os.getloadavg()]}, ensure_ascii=False))
    finally:
        postgres.stop(pg)
        postgres.wipe(pg)
        if node is not None:
            kafka.stop(node)
            kafka.wipe(node)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--ledger", type=int, default=10_000_000)
    p.add_argument("--stores", type=int, default=100)
    p.add_argument("--n", type=int, default=200, help="timed asks per page")
    asyncio.run(main(p.parse_args()))
