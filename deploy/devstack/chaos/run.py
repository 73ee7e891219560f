"""`./dev chaos`: start the isolated system, drive sales under faults, let it settle, account, print one JSON line.

Progress goes to stderr (rich); stdout carries only the final JSON line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console

from ..testing import produce
from . import accounting as acc
from .faults import FaultLog, run_faults
from .system import HOME, ChaosSystem, clean
from .workload import Driver, Sale, set_up

console = Console(stderr=True)
POISON = 3  # garbage records written to pos.sales on purpose: they, and only they, belong in a DLQ


def add_parser(sub: Any) -> None:
    c = sub.add_parser("chaos", help="an isolated 3-broker, 2-instance system driven with sales under faults, "
                                     "then accounted (docs/scaling.md)")
    c.add_argument("--sales", type=int, default=100_000, help="sales to drive (default 100,000)")
    c.add_argument("--max-seconds", type=float, default=2400, help="the load stops here even if sales remain")
    c.add_argument("--settle-seconds", type=float, default=600, help="at most this long for the system to catch up")
    c.add_argument("--min-kills", type=int, default=20, help="SIGKILLs of service instances, at least")
    c.add_argument("--kill-every", type=float, default=10.0, help="seconds between instance kills (about)")
    c.add_argument("--members", type=int, default=500, help="members per store (4 stores)")
    c.add_argument("--coupons", type=int, default=2000, help="coupons sold before the run (spent by coupon sales)")
    c.add_argument("--buyers", type=int, default=25,
                   help="group buyers per store (each may owe 10 credit sales at once, C-02)")
    c.add_argument("--concurrency", type=int, default=8, help="POS connections at once")
    c.add_argument("--batch", type=int, default=250, help="sales per batch upload")
    c.add_argument("--seed", type=int, default=14)
    c.add_argument("--broker-down-seconds", type=float, default=8.0, help="how long a killed broker stays down")
    c.add_argument("--home", type=Path, default=HOME, help="the run's folder (wiped first; default .run/chaos)")
    c.add_argument("--keep", action="store_true", help="leave the system running afterwards (.run/chaos)")
    c.set_defaults(fn=main)


def main(args: argparse.Namespace) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM: stop the system as Ctrl-C does
    try:
        result = asyncio.run(chaos(args))
    except BaseException:
        if not args.keep:
            clean(Path(args.home).resolve())  # whatever the interrupted run could not stop itself
        raise
    print(json.dumps(result, separators=(",", ":")), flush=True)
    if not result["ok"]:
        raise SystemExit(1)


class Memory:
    """Peak resident memory of everything the run started (services, brokers, PostgreSQL, simulator) and itself."""

    def __init__(self, system: ChaosSystem) -> None:
        self.system = system
        self.peak_mb = 0.0

    def sample(self) -> float:
        import psutil

        seen: set[int] = set()
        total = 0
        procs = [psutil.Process()]
        for pid in self.system.pids():
            with contextlib.suppress(psutil.Error, ValueError):
                p = psutil.Process(pid)
                procs += [p, *p.children(recursive=True)]
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        mb = total / 2**20
        self.peak_mb = max(self.peak_mb, mb)
        return mb

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.sample)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)


async def drive(driver: Driver, n: int, deadline: float, concurrency: int, batch: int, rng: random.Random,
                on_progress: Any) -> None:
    """`n` sales (or what fits before `deadline`): 3% credit sales after an authorisation, 2% coupon payments, 10%
    single uploads, the rest in batches per store; 3% of member sales refunded afterwards; a redemption (PIN) per
    hundred sales."""
    jobs: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=concurrency * 2)
    refunds: deque[Sale] = deque()
    stores = driver.world.stores
    counter = {"made": 0}

    async def produce_jobs() -> None:
        pending: dict[str, list[dict[str, Any]]] = {s.store_id: [] for s in stores}
        for i in range(n):
            if time.monotonic() > deadline:
                break
            store = stores[i % len(stores)]
            receipt = f"C{i:07d}"
            r = rng.random()
            if r < 0.03:
                await jobs.put(("credit", (store, receipt)))
            elif r < 0.05 and driver.world.coupons:
                await jobs.put(("coupon", (store, receipt)))
            else:
                member = rng.choice(driver.world.members[store.store_id]) if rng.random() < 0.75 else None
                doc = driver.sale_body(store, receipt, member=member)
                if r < 0.15:
                    await jobs.put(("single", doc))
                else:
                    pending[store.store_id].append(doc)
                    if len(pending[store.store_id]) >= batch:
                        await jobs.put(("batch", pending[store.store_id]))
                        pending[store.store_id] = []
            if rng.random() < 0.01:
                await jobs.put(("redeem", None))
            counter["made"] = i + 1
        for docs in pending.values():
            if docs:
                await jobs.put(("batch", docs))
        for _ in range(concurrency):
            await jobs.put(("stop", None))

    def maybe_refund(sales: Sequence[Sale | None]) -> None:
        for s in sales:
            if s is not None and s.member and s.key in driver.book.sales and rng.random() < 0.03:
                refunds.append(s)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=driver.cfg.url("gateway"), timeout=httpx.Timeout(60, connect=10)) as c:
            while True:
                if refunds:
                    await driver.refund(c, refunds.popleft())
                    continue
                kind, job = await jobs.get()
                if kind == "stop":
                    break
                if kind == "batch":
                    maybe_refund(await driver.batch(c, job))
                    driver.sent += len(job)
                elif kind == "single":
                    maybe_refund([await driver.single(c, job)])
                    driver.sent += 1
                elif kind == "credit":
                    await driver.credit_sale(c, *job)
                    driver.sent += 1
                elif kind == "coupon":
                    await driver.coupon_sale(c, *job)
                    driver.sent += 1
                elif kind == "redeem":
                    await driver.redeem(c)
                on_progress()
            while refunds:
                await driver.refund(c, refunds.popleft())

    await asyncio.gather(produce_jobs(), *(worker() for _ in range(concurrency)))


# -- the account --------------------------------------------------------------------------------------------------

async def _rows(system: ChaosSystem, service: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(system.cfg.db_url(service).replace("+asyncpg", ""))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def _programs() -> tuple[dict[str, list[acc.TierRule]], dict[str, str]]:
    from loyalty.domain.program import load_programs

    from .system import ROOT

    progs = load_programs(ROOT / "programs")
    rules = {code: [acc.TierRule(t.code, t.single_receipt_min, t.rolling_spend_min, t.rolling_months)
                    for t in p.tiers] for code, p in progs.items()}
    return rules, {code: p.tiers[0].code for code, p in progs.items()}


async def dead_letters(bootstrap: str) -> list[tuple[str, bytes | None]]:
    """Every record in every `.dlq` topic, read from the beginning to the end offsets of now."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.endswith(".dlq")]
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    parts = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await c.start()
    out: list[tuple[str, bytes | None]] = []
    try:
        if not parts:
            return out
        c.assign(parts)
        await c.seek_to_beginning(*parts)
        end = await c.end_offsets(parts)
        deadline = time.monotonic() + 60
        async def behind() -> bool:
            return any([await c.position(tp) < end[tp] for tp in parts])

        while await behind() and time.monotonic() < deadline:
            for tp, recs in (await c.getmany(timeout_ms=500)).items():
                out += [(tp.topic, r.key) for r in recs]
    finally:
        await c.stop()
    return out


async def account(system: ChaosSystem, driver: Driver) -> dict[str, Any]:
    book = driver.book
    gw = await _rows(system, "gateway", "SELECT store_id, receipt_no, sale_id FROM sales")
    by_sale_id = {r["sale_id"]: (r["store_id"], r["receipt_no"]) for r in gw}
    stored = set(by_sale_id.values())
    # the truth downstream: what the POS was told was accepted, and what the gateway stored of the unanswered
    truth: dict[tuple[str, str], Sale] = {**{k: s for k, s in book.unknown.items() if k in stored}, **book.sales}
    ledgers: dict[str, acc.LedgerCount] = {}
    ledgers["gateway.sales"] = acc.count_ledger(book.sales, [by_sale_id[r["sale_id"]] for r in gw], book.unknown)
    member_truth = [k for k, s in truth.items() if s.member]
    cons = await _rows(system, "members", "SELECT sale_id FROM consumptions")
    ledgers["members.consumptions"] = acc.count_ledger(
        member_truth, [by_sale_id.get(r["sale_id"], ("?", r["sale_id"])) for r in cons])
    lrows = await _rows(system, "loyalty", """
        SELECT id, member_id, program, kind, spend, occurred_at, cause_event_id::text AS cause,
               coalesce(detail->>'receipt', store_id || '/' || receipt_no) AS receipt,
               detail->>'refund_id' AS refund_id FROM ledger""")
    ledgers["loyalty.ledger earn"] = acc.count_ledger(
        member_truth, [tuple(r["receipt"].split("/", 1)) for r in lrows if r["kind"] == "earn"])
    refunded_member = {rid for rid, k in book.refunds.items() if truth.get(k) is not None and truth[k].member}
    rf = await _rows(system, "gateway", "SELECT refund_id FROM refunds")
    ledgers["gateway.refunds"] = acc.count_ledger(book.refunds, [r["refund_id"] for r in rf],
                                                  [r["refund_id"] for r in rf] if book.refunds_unknown else ())
    gw_refunds = {r["refund_id"] for r in rf}
    ledgers["loyalty.ledger reverse"] = acc.count_ledger(
        refunded_member, [r["refund_id"] for r in lrows if r["kind"] == "reverse"],
        gw_refunds if book.refunds_unknown else ())
    ledgers["loyalty.ledger redeem"] = acc.count_ledger(book.redemptions,
                                                        [r["cause"] for r in lrows if r["kind"] == "redeem"])
    credit_truth = {k: s.credit for k, s in truth.items() if s.credit}
    rec = await _rows(system, "credit", "SELECT store_id, receipt_no, amount FROM receivables")
    ledgers["credit.receivables"] = acc.count_ledger(credit_truth, [(r["store_id"], r["receipt_no"]) for r in rec])
    spent = {c: k for k, s in truth.items() for c in s.coupons}
    cp = await _rows(system, "credit", "SELECT coupon_no, status, redeemed_store_id, redeemed_receipt_no "
                                       "FROM coupons WHERE status = 'redeemed'")
    ledgers["credit.coupons"] = acc.count_coupons(
        spent, [(r["coupon_no"], r["status"], r["redeemed_store_id"], r["redeemed_receipt_no"]) for r in cp])

    rules, entry = _programs()
    replay = acc.recompute_tiers(
        (acc.LedgerRow(r["id"], r["member_id"], r["program"], r["kind"], r["spend"],
                       tuple(r["receipt"].split("/", 1)) if r["receipt"] else None, r["occurred_at"])
         for r in lrows), rules)
    accts = {(r["member_id"], r["program"]): r["tier"]
             for r in await _rows(system, "loyalty", "SELECT member_id, program, tier FROM accounts")}
    tiers_bad = acc.tier_mismatches(replay, accts, entry)

    msgs = await _rows(system, "notify", "SELECT message_id::text AS id, template, member_id, status FROM messages")
    async with httpx.AsyncClient(timeout=120) as c:
        sim = (await c.get(system.cfg.url("smssim") + "/v1/messages", params={"limit": 10**8})).json()["messages"]
    sms = acc.count_sms([(r["id"], r["template"], r["member_id"], r["status"]) for r in msgs],
                        [m["idempotency_key"] for m in sim],
                        {(m, "tier_changed"): v.upgrades for (m, _), v in replay.items() if v.upgrades})
    dlq = acc.count_dlq(await dead_letters(system.cfg.kafka_bootstrap), {f"chaos-poison-{i}".encode()
                                                                          for i in range(POISON)})
    return {"ledgers": ledgers, "tiers_bad": tiers_bad, "sms": sms, "dlq": dlq,
            "receivables_gap": acc.receivables_gap(credit_truth, [(r["store_id"], r["receipt_no"], r["amount"])
                                                                  for r in rec]),
            "tiers_checked": len(replay)}


def _settled(a: dict[str, Any]) -> bool:
    return (all(x.lost == 0 for x in a["ledgers"].values()) and a["sms"].pending == 0 and a["sms"].lost == 0
            and not a["tiers_bad"] and a["receivables_gap"] == 0)


async def chaos(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.monotonic()
    rng = random.Random(args.seed)
    system = ChaosSystem(Path(args.home).resolve())
    mem = Memory(system)
    stop_mem = asyncio.Event()
    watcher = asyncio.create_task(mem.watch(stop_mem))
    log = FaultLog()
    try:
        with console.status(f"Starting the chaos system in {system.home} (3 brokers, PostgreSQL, 2 instances each)..."):
            await system.start()
        console.print(f"[green]✓[/] system up: Kafka {system.cfg.kafka_bootstrap}, PostgreSQL :{system.pg.port}, "
                      f"gateway {system.cfg.url('gateway')} ({time.monotonic() - t0:.0f}s)")
        with console.status("Stores, staff, members, group buyers, coupons, PINs..."):
            world = await set_up(system.cfg, rng, args.members, max(1, min(10, args.members // 10)), args.coupons,
                                args.buyers)
        console.print(f"[green]✓[/] {len(world.stores)} stores, {sum(map(len, world.members.values()))} members, "
                      f"{len(world.coupons)} coupons, {len(world.redeemers)} members with a PIN and points")
        await produce(system.cfg.kafka_bootstrap, "pos.sales", [
            (f"chaos-poison-{i}".encode(), f"not an event {i}".encode(), []) for i in range(POISON)])
        driver = Driver(system.cfg, world, rng)
        load_done = asyncio.Event()
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[info]}"), console=console) as bar:
            task = bar.add_task("sales", total=args.sales, info="")

            def progress() -> None:
                b = driver.book
                bar.update(task, completed=driver.sent, info=(
                    f"accepted {len(b.sales)} refunds {len(b.refunds)} redemptions {len(b.redemptions)} "
                    f"kills {log.kills} brokers {log.broker_restarts} pg {log.db_restarts}"))

            faults = asyncio.create_task(run_faults(
                system, lambda: driver.sent / max(args.sales, 1), load_done, min_kills=args.min_kills,
                kill_every=args.kill_every, rng=rng, log=log, on_event=lambda e: console.log(e),
                broker_down_s=args.broker_down_seconds))
            load_started = time.monotonic()
            try:
                await drive(driver, args.sales, load_started + args.max_seconds, args.concurrency, args.batch, rng,
                            progress)
            finally:
                load_done.set()
            progress()
            load_s = time.monotonic() - load_started
            with console.status("Load done; the remaining faults..."):
                await faults
        console.print(f"[green]✓[/] load: {driver.sent} sales sent in {load_s:.0f}s; faults: {log.kills} kills, "
                      f"{log.broker_restarts} broker restarts ({log.controller_restarts} of the controller), "
                      f"{log.db_restarts} PostgreSQL restart")
        settle_until = time.monotonic() + args.settle_seconds
        with console.status("Waiting for every service to catch up, then accounting...") as st:
            while True:
                a = await account(system, driver)
                if _settled(a) or time.monotonic() > settle_until:
                    break
                missing = {k: v.lost for k, v in a["ledgers"].items() if v.lost}
                st.update(f"catching up: missing {missing or '-'}, SMS pending {a['sms'].pending}")
                await asyncio.sleep(5)
        await asyncio.sleep(3)  # a late duplicate would land now
        a = await account(system, driver)
    finally:
        stop_mem.set()
        await watcher
        if not getattr(args, "keep", False):
            with console.status("Stopping the chaos system..."):
                await asyncio.to_thread(system.stop)
    book = driver.book
    for name, x in a["ledgers"].items():
        mark = "[green]✓[/]" if x.ok else "[red]✗[/]"
        console.print(f"{mark} {name:24} expected {x.expected:>7}  lost {x.lost}  duplicated {x.duplicated}  "
                      f"unexpected {x.unexpected} {' '.join(x.examples)}")
    s = a["sms"]
    console.print(f"{'[green]✓' if not (s.lost or s.duplicated) else '[red]✗'}[/] SMS: {s.triggers} triggers, "
                  f"{s.sent} sent, lost {s.lost}, duplicated {s.duplicated}, pending {s.pending} "
                  f"{' '.join(s.examples)}")
    console.print(f"{'[green]✓' if not a['tiers_bad'] else '[red]✗'}[/] tiers: {a['tiers_checked']} accounts "
                  f"recomputed, {len(a['tiers_bad'])} differ {a['tiers_bad'][:3]}")
    console.print(f"receivables gap {a['receivables_gap']} fen; DLQ poison {a['dlq'].poison}, "
                  f"unexpected {a['dlq'].unexpected} {a['dlq'].examples}")
    console.print(f"refused: {dict(book.refused)}; redemptions refused: {dict(book.redemptions_refused)}; "
                  f"answers: {dict(book.requests)}")
    # a 5xx other than 503 (unavailable, retry) is a bug at the edge, whatever the fault behind it
    server_errors = sum(n for k, n in book.requests.items() if k.isdigit() and int(k) >= 500 and int(k) != 503)
    lost = {k: v.lost for k, v in a["ledgers"].items()} | {"sms": s.lost}
    dup = {k: v.duplicated + v.unexpected for k, v in a["ledgers"].items()} | {"sms": s.duplicated}
    ok = (not any(lost.values()) and not any(dup.values()) and not a["tiers_bad"] and a["receivables_gap"] == 0
          and a["dlq"].unexpected == 0 and a["dlq"].poison >= POISON and s.pending == 0 and server_errors == 0
          and log.broker_restarts >= 1 and log.db_restarts >= 1 and log.kills >= args.min_kills)
    return {"sales": len(book.sales), "unanswered": len(book.unknown), "refunds": len(book.refunds),
            "redemptions": len(book.redemptions), "credit_sales": sum(1 for x in book.sales.values() if x.credit),
            "coupon_sales": sum(1 for x in book.sales.values() if x.coupons),
            "kills": log.kills, "broker_restarts": log.broker_restarts,
            "controller_restarts": log.controller_restarts, "db_restarts": log.db_restarts,
            "lost": lost, "duplicated": dup, "tier_mismatches": len(a["tiers_bad"]),
            "receivables_gap_fen": a["receivables_gap"], "sms_triggers": s.triggers,
            "dlq": {"poison": a["dlq"].poison, "unexpected": a["dlq"].unexpected}, "server_errors": server_errors,
            "seconds": round(time.monotonic() - t0, 1), "peak_memory_mb": round(mem.peak_mb), "ok": ok}


if __name__ == "__main__":  # python -m devstack.chaos.run --sales 2000 ...
    ap = argparse.ArgumentParser(prog="chaos")
    add_parser(ap.add_subparsers(dest="cmd", required=True))
    main(ap.parse_args(["chaos", *sys.argv[1:]]))
