"""Issue 12 item 5: the console at chain scale. Loads MEMBERS member files, LEDGER ledger entries and MESSAGES SMS
messages straight into an isolated system's databases (COPY and generate_series, not through the APIs), then times
the console's pages (member search by card / mobile / name; list pages: a member's ledger page, a store's member
list, the review queue, the desk-claim list, the message log — first page with its counts, later pages, by status,
store, template and day, by member — and the parked queue) and prints one JSON line with p50/p95 per page and the
targets (search p95 <= 100 ms, list p95 <= 300 ms).

    .venv/bin/python bench/console_scale.py [--members 1000000] [--ledger 10000000] [--messages 5000000]
                                            [--stores 100] [--n 200]

Its own PostgreSQL (not durable: a benchmark's data) in .run/bench-console/; Kafka from TEST_KAFKA_BOOTSTRAP_SERVERS
when set, else its own. Every port is a free one from devstack.procs.free_port (20000 and up), never the dev
system's (`./dev up`: 19092, 5432.., 8000-8010, 9411), so it runs beside a running dev system. Services (members,
loyalty, notify) and the console run in-process; each page is asked over HTTP as the browser would, with the
session cookie of a staff member of the right role. Progress on stderr; the last stdout line is the result."""

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
MESSAGE_DAYS = 365  # the messages span the last year, newest now
TEMPLATES = ("campaign", "campaign", "campaign", "points_earned", "tier_changed", "points_expiring", "birthday",
             "welcome", "proof_code", "stored_value_changed")
# status by g % 100: what a year of sending leaves (nothing queued or sending: the dispatcher would pick it up)
STATUS_SQL = ("CASE WHEN g % 100 < 70 THEN 'delivered' WHEN g % 100 < 85 THEN 'sent' WHEN g % 100 < 90 "
              "THEN 'undelivered' WHEN g % 100 < 96 THEN 'suppressed' WHEN g % 100 < 98 THEN 'no_contact' "
              "ELSE 'parked' END")
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


def message_uuid(g: int) -> str:
    """The message_id the loader gives message g (md5('m' || g)::uuid)."""
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(f"m{g}".encode()).hexdigest()))


def message_at(g: int, total: int, now: float) -> float:
    """Message g's creation time (epoch seconds): the `total` messages spread evenly over MESSAGE_DAYS to `now`."""
    return now - (total - 1 - g) * (MESSAGE_DAYS * 86400 / max(total, 1))


async def load_notify(cfg: Any, n: int, total: int, stores: int, now: float) -> float:
    """notify: `total` messages over the last MESSAGE_DAYS, to the members round-robin, with a status mix (2 %
    parked); bodies older than the retention purged as notify's purge (N-06) would have left them. The plain indexes
    are dropped for the load and built after it (the constraints and the dispatcher's partial indexes stay)."""
    import asyncpg
    from vipcore.pii import encrypt, keyring

    t0 = time.perf_counter()
    conn = await asyncpg.connect(cfg.db_url("notify").replace("+asyncpg", ""))
    try:
        mobile = encrypt(keyring(cfg.pii_keys["notify"]), "13912345678")  # one ciphertext: each row is decrypted
        plain = await conn.fetch("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = 'messages' AND i.indexdef NOT LIKE '%WHERE%'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""")
        for ix in plain:
            await conn.execute(f'DROP INDEX "{ix["indexname"]}"')
        step, span = 1_000_000, MESSAGE_DAYS * 86400 / max(total, 1)
        templates = "ARRAY[" + ",".join(f"'{t}'" for t in TEMPLATES) + "]"
        for lo in range(0, total, step):
            hi = min(total, lo + step)
            await conn.execute(f"""
                INSERT INTO messages (message_id, cause_event_id, template, recipient, member_id, store_id,
                                      mobile_enc, sender, body, category, campaign_id, status, suppressed_reason,
                                      attempts, next_attempt_at, provider_message_id, last_error, created_at,
                                      updated_at, sent_at, delivered_at, body_purged_at)
                SELECT md5('m' || g)::uuid, md5('c' || g)::uuid, t.template, 'BM' || lpad((g % {n})::text, 8, '0'),
                       'BM' || lpad((g % {n})::text, 8, '0'),
                       'BS-' || lpad(((g % {n}) % {stores})::text, 3, '0'), $1, '金缘珠宝',
                       CASE WHEN t.at < now() - interval '90 days' THEN NULL
                            ELSE '【金缘珠宝】尊敬的会员，您的积分已到账，感谢惠顾。退订回TD' END,
                       CASE WHEN t.template = 'campaign' THEN 'marketing' ELSE 'service' END,
                       CASE WHEN t.template = 'campaign' THEN md5('camp' || (g / 100000))::uuid END,
                       t.status, CASE WHEN t.status = 'suppressed' THEN 'consent' END,
                       CASE WHEN t.status = 'parked' THEN 6 WHEN t.status = 'suppressed' THEN 0 ELSE 1 END,
                       t.at, CASE WHEN t.status IN ('sent', 'delivered', 'undelivered') THEN 'P' || g END,
                       CASE WHEN t.status = 'parked' THEN 'permanent error after 6 attempt(s): 400 invalid number'
                       END,
                       t.at, t.at + interval '5 minutes',
                       CASE WHEN t.status IN ('sent', 'delivered', 'undelivered') THEN t.at + interval '2 seconds' END,
                       CASE WHEN t.status = 'delivered' THEN t.at + interval '9 seconds' END,
                       CASE WHEN t.at < now() - interval '90 days' THEN t.at + interval '90 days' END
                FROM generate_series({lo}, {hi - 1}) g,
                     LATERAL (SELECT to_timestamp({now} - ({total - 1} - g) * {span}) AS at,
                                     ({templates})[1 + (g / 7) % {len(TEMPLATES)}] AS template,
                                     {STATUS_SQL} AS status) t""", mobile)
            log(f"notify: {hi:,} messages")
        t1 = time.perf_counter()
        for ix in plain:
            await conn.execute(ix["indexdef"])
        log(f"notify: {len(plain)} indexes built in {time.perf_counter() - t1:.1f}s")
        await conn.execute("VACUUM ANALYZE messages")
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


async def measure(stack: Any, n_members: int, stores: int, n: int, n_messages: int,
                  now: float) -> dict[str, dict[str, float]]:
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
        if n_messages:
            await messages_pages(out, hq.renew(), n, n_members, n_messages, stores, now)
    return out


async def messages_pages(out: dict[str, dict[str, float]], hq: Any, n: int, n_members: int, total: int,
                         stores: int, now: float) -> None:
    """The message log and the parked queue (notify, hq_admin): first pages carry notify's counts per status."""
    rnd = random.Random(11)
    some = [rnd.randrange(total) for _ in range(n + 10)]
    parked = [g - g % 100 + 98 for g in some if g - g % 100 + 98 < total] or [0]  # g % 100 >= 98: parked

    def day(g: int) -> dict[str, str]:
        t = time.strftime("%Y-%m-%dT00:00", time.gmtime(message_at(g, total, now) + 8 * 3600))  # China time
        u = time.strftime("%Y-%m-%dT00:00", time.gmtime(message_at(g, total, now) + 8 * 3600 + 86400))
        return {"since": t, "until": u}

    out["list_sms_log_first"] = await timed("message log, first page with counts", n, lambda k: hq.get("/sms"))
    out["list_sms_log_later"] = await timed("message log, a later page", n, lambda k: hq.get(
        "/sms", params={"before": message_uuid(some[k])}))
    out["list_sms_log_status"] = await timed("message log, parked ones, with counts", n, lambda k: hq.get(
        "/sms", params={"status": "parked"}))
    out["list_sms_log_store"] = await timed("message log, one store, with counts", n, lambda k: hq.get(
        "/sms", params={"store_id": store_of(some[k], stores)}))
    out["list_sms_log_template_day"] = await timed("message log, a template on a day, with counts", n,
                                                   lambda k: hq.get("/sms", params={
                                                       "template": TEMPLATES[3 + k % 7], **day(some[k])}))
    out["list_sms_log_member"] = await timed("message log, one member", n, lambda k: hq.get(
        "/sms", params={"member_id": member_id(some[k] % n_members)}))
    out["list_sms_parked_first"] = await timed("parked queue, first page", n, lambda k: hq.get("/sms/parked"))
    out["list_sms_parked_later"] = await timed("parked queue, a later page", n, lambda k: hq.get(
        "/sms/parked", params={"after": message_uuid(parked[k % len(parked)])}))


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
        messages = 5 * a.members if a.messages is None else a.messages
        now = time.time()
        async with Stack(cfg, services=("members", "loyalty", "notify")) as stack:
            for s in range(a.stores):
                r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
                    "store_id": store_of(s, a.stores), "name": f"门店 {s}", "region_code": "029",
                    "program": PROGRAM})
                r.raise_for_status()
            t_members = await load_members(cfg, a.members, a.stores)
            t_ledger = await load_loyalty(cfg, a.members, a.ledger, a.stores)
            t_notify = await load_notify(cfg, a.members, messages, a.stores, now) if messages else 0.0
            pages = await measure(stack, a.members, a.stores, a.n, messages, now)
        search = max(v["p95_ms"] for k, v in pages.items() if k.startswith("search_"))
        lists = max(v["p95_ms"] for k, v in pages.items() if k.startswith("list_"))
        print(json.dumps({
            "bench": "console_scale", "members": a.members, "ledger_entries": a.ledger, "messages": messages,
            "stores": a.stores, "load_s": {"members": round(t_members, 1), "loyalty": round(t_ledger, 1),
                                           "notify": round(t_notify, 1)},
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
    p.add_argument("--messages", type=int, default=None, help="SMS messages (default: 5 per member)")
    p.add_argument("--stores", type=int, default=100)
    p.add_argument("--n", type=int, default=200, help="timed asks per page")
    asyncio.run(main(p.parse_args()))
